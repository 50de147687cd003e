"""`cdss rank` and `cdss related`: the ranking engine from the command line (`cdss eval` is in cli/evaluate.py)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import click

from cdss.errors import InputError
from cdss.settings import load_settings
from cli.spark_options import engine_options

STORE_HELP = "Graph store URL or file path (default: CDSS_STORE)."


def engine_from_settings(store_url: str | None, *, with_nlp: bool = False):
    from runtime import load_engine, open_graph

    settings = load_settings()
    store = open_graph(settings, store_url)
    return settings, load_engine(store, settings, with_nlp=with_nlp)


def _read_cases(path: Path):
    """(line number, case id, case or None, error or None) for every non-blank line."""
    from runtime.batch import case_line

    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                yield number, *case_line(number, raw)


@click.command("rank")
@click.option(
    "--cases", "cases_path", required=True, help="JSON lines: a file, or with --engine spark any path Spark reads."
)
@click.option("--top", "top_k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--out", help="Write JSON lines here (default: stdout); with --engine spark, a .parquet path too.")
@click.option("--brief", is_flag=True, help="Only ids, names, scores and ranks (no evidence).")
@click.option("--store", "store_url", help=STORE_HELP)
@engine_options(
    spark_does="executors rank in partitions (cluster/rank.py) and write an --out ending in .parquet", items="cases"
)
def rank_command(
    cases_path: str,
    top_k: int,
    out: str | None,
    brief: bool,
    store_url: str | None,
    engine: str,
    master: str,
    partitions: int | None,
) -> None:
    """Rank a batch of cases (JSON lines) into differentials and treatment options.

    Each line: {"id", "present": [...], "absent": [...], "text"?, "image_findings"?, "medications"?,
    "genes"?, "age"?, "sex"?}. A line that cannot be ranked gets an "error" line; the others go on.
    """
    from runtime.batch import rank_lines

    if engine == "spark":
        _rank_on_spark(
            cases_path, top_k=top_k, out=out, brief=brief, store_url=store_url, master=master, partitions=partitions
        )
        return
    if not Path(cases_path).is_file():
        raise InputError(f"no such file: {cases_path}")
    items = list(_read_cases(Path(cases_path)))
    with_nlp = any(case is not None and case.text for _, _, case, _ in items)
    settings, engine = engine_from_settings(store_url, with_nlp=with_nlp)
    started = time.perf_counter()
    answers = rank_lines(engine, items, top_k=top_k, brief_only=brief, show_progress=settings.progress)
    ranked, failed = _write(out, ((json.dumps(line, ensure_ascii=False), "error" in line) for _, line in answers))
    seconds = time.perf_counter() - started
    click.echo(
        f"ranked {ranked} cases, {failed} refused, in {seconds:.1f} s ({ranked / max(seconds, 1e-9):.0f} cases/s)",
        err=True,
    )


def _write(out: str | None, lines: Iterable[tuple[str, bool]]) -> tuple[int, int]:
    """Write (JSON line, refused) to `out` (stdout when None); (cases ranked, cases refused)."""
    ranked = failed = 0
    with ExitStack() as stack:
        sink = stack.enter_context(Path(out).open("w", encoding="utf-8")) if out else sys.stdout
        for line, refused in lines:
            ranked, failed = ranked + (not refused), failed + refused
            sink.write(line + "\n")
    return ranked, failed


def _rank_on_spark(
    cases: str, *, top_k: int, out: str | None, brief: bool, store_url: str | None, master: str, partitions: int | None
) -> None:
    """Rank on Spark: a .parquet `out` is written by the executors (line, answer); else the driver writes the
    lines in input order, as the single-process command does."""
    from cluster.rank import driver_settings, rank_on_spark
    from cluster.session import spark_session
    from kg.store_urls import sqlite_path

    settings = load_settings()
    store = store_url or settings.store
    if "://" not in store or store.startswith(("sqlite", "file")):
        store = str(sqlite_path(store).absolute())
    session = spark_session(master=master, app_name="cdss rank", progress=settings.progress)
    started = time.perf_counter()
    try:
        answers = rank_on_spark(
            session,
            cases,
            store=store,
            top_k=top_k,
            brief=brief,
            env=driver_settings(os.environ),
            partitions=partitions,
        )
        if out is not None and out.rstrip("/").endswith(".parquet"):
            frame = session.createDataFrame(answers, "line long, answer string, refused boolean")
            frame.write.mode("overwrite").parquet(out)
            failed = frame.filter(frame.refused).count()
            ranked = frame.count() - failed
        else:
            ranked, failed = _write(out, ((line, refused) for _, line, refused in answers.toLocalIterator()))
    finally:
        session.stop()
    seconds = time.perf_counter() - started
    click.echo(f"ranked {ranked} cases, {failed} refused, on Spark {master} in {seconds:.1f} s", err=True)


@click.command("related")
@click.argument("curie")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@click.option("--store", "store_url", help=STORE_HELP)
def related_command(curie: str, limit: int, as_json: bool, store_url: str | None) -> None:
    """Diseases related to a disease, by shared findings, shared treatments and the hierarchy."""
    _, engine = engine_from_settings(store_url)
    result = engine.related(curie, limit=limit)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    disease = result["disease"]
    click.echo(f"related to {disease['id']} {disease['name']}:")
    for item in result["related"]:
        click.echo(f"  {item['score']:.3f}  {item['id']:<16} {item['name']}")
        click.echo(f"         {item['why']}")
