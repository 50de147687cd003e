"""`cdss ingest records`: records into the graph, in this process or on Spark."""

from __future__ import annotations

from pathlib import Path

import click

from cdss.errors import InputError
from cli.nlp import STORE_HELP, _pipeline, _print_json
from cli.spark_options import engine_options


@click.group()
def ingest() -> None:
    """Put records into the graph."""


@ingest.command("records")
@click.argument("path")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--id-column", default="id", show_default=True, help="Record id field (JSONL) or column (CSV).")
@click.option("--text-column", default="text", show_default=True, help="Record text field or column.")
@click.option("--id-prefix", default="", help="Prepended to every record id, to keep files with clashing ids apart.")
@click.option("--batch-size", default=32, show_default=True)
@click.option("--n-process", default=1, show_default=True, help="Processes for the NLP pipeline (local engine).")
@engine_options(spark_does="executors run the NLP (cluster/ingest.py)", items="records")
@click.option(
    "--format", "form", type=click.Choice(["jsonl", "csv", "parquet", "text"]), help="Spark input (default: suffix)."
)
@click.option("--mentions-out", help="Spark: write one Parquet row per mention here (any path Spark writes).")
@click.option(
    "--ship-pipeline",
    is_flag=True,
    help="Spark: send the pipeline folder with the job (SparkContext.addFile) instead of reading it from a path "
    "every executor shares.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def records_command(
    path: str,
    store_url: str | None,
    id_column: str,
    text_column: str,
    id_prefix: str,
    batch_size: int,
    n_process: int,
    engine: str,
    master: str,
    form: str | None,
    mentions_out: str | None,
    partitions: int | None,
    ship_pipeline: bool,
    as_json: bool,
) -> None:
    """Ingest JSONL, CSV, Parquet (Spark) or a folder of .txt files; re-ingesting a record replaces its mentions."""
    from runtime import load_ingester

    settings, store, pipeline = _pipeline(store_url)
    ingester = load_ingester(store, settings, pipeline)
    if engine == "spark":
        from cluster.ingest import ingest_on_spark
        from cluster.session import input_format, read_records, spark_session
        from nlp import ner_choice
        from nlp.pipeline import cache_dir

        session = spark_session(master=master, app_name="cdss ingest records", progress=settings.progress)
        try:
            frame = read_records(
                session,
                path,
                form=input_format(path, form),
                id_field=id_column,
                text_field=text_column,
                id_prefix=id_prefix,
            )
            report = ingest_on_spark(
                session,
                frame,
                ingester,
                pipeline_dir=cache_dir(settings, store.graph_version, ner_choice(settings)),
                ship_pipeline=ship_pipeline,
                mentions_out=mentions_out,
                partitions=partitions,
                batch_size=batch_size,
            )
        finally:
            session.stop()
    else:
        from nlp.records import RecordInput, read_records

        if not Path(path).exists():
            raise InputError(f"no such file or folder: {path}")
        records = (
            RecordInput(id_prefix + r.id, r.text)
            for r in read_records(Path(path), id_field=id_column, text_field=text_column)
        )
        report = ingester.ingest(records, batch_size=batch_size, n_process=n_process, show_progress=settings.progress)
    if as_json:
        _print_json(report.to_dict())
        return
    click.echo(
        f"ingested {report.records:,} records ({report.new:,} new, {report.replaced:,} replaced), "
        f"{report.mentions:,} mentions, {report.pair_edges_written:,} record-derived edges written "
        f"in {report.seconds:.1f} s ({report.records / max(report.seconds, 1e-9):.1f} records/s)"
    )
