"""`cdss kg ...`: build, inspect and export the knowledge graph."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdss.settings import load_settings
from cli.render import render_merge_report, render_node, render_stats

STORE_HELP = "Graph store URL or file path (default: CDSS_STORE, else <CDSS_DATA_DIR>/graph.sqlite)."


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group()
def kg() -> None:
    """Build, inspect and export the knowledge graph."""


@kg.command("build")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the build report as JSON.")
def build_command(store_url: str | None, as_json: bool) -> None:
    """Build the graph from every available source, replacing the previous one atomically."""
    from kg import build_graph
    from runtime import neo4j_login

    settings = load_settings()
    report = build_graph(
        store_url=store_url or settings.store,
        sources_dir=settings.sources_dir,
        batch_size=settings.batch_size,
        show_progress=settings.progress,
        login=neo4j_login(settings),
    )
    if as_json:
        _print_json(report.to_dict())
        return
    for source in report.sources:
        for note in source.notes:
            click.echo(f"note: {source.name}: {note}", err=True)
    for skipped in report.skipped:
        click.echo(f"skipped: {skipped}", err=True)
    click.echo(report.summary_line())


@kg.command("stats")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.option(
    "--sources",
    "merge_report",
    is_flag=True,
    help="Print the merge report: merged, unmapped and conflicting counts per source.",
)
def stats_command(store_url: str | None, as_json: bool, merge_report: bool) -> None:
    """Counts per node label, edge type and source, and the graph version."""
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings, store_url) as store:
        stats = store.stats()
    if as_json:
        _print_json(stats.to_dict())
    elif merge_report:
        click.echo(render_merge_report(stats))
    else:
        click.echo(render_stats(stats))


@kg.command("push")
@click.option("--to", "target_url", required=True, help="The store to copy into, e.g. neo4j://localhost:7687.")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True)
def push_command(target_url: str, store_url: str | None, as_json: bool) -> None:
    """Copy the graph into another store (Neo4j) in batches; safe to run again."""
    from dataclasses import asdict

    from kg.push import push_graph
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings, store_url) as source, open_graph(settings, target_url) as target:
        report = push_graph(source, target, show_progress=settings.progress)
    if as_json:
        _print_json({**asdict(report), "to": target.location})
        return
    click.echo(
        f"pushed {report.nodes:,} nodes and {report.edges:,} edges to {target.location} "
        f"({report.stale_edges_removed:,} stale edges removed); graph version {report.graph_version}"
    )


@kg.command("show")
@click.argument("curie")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the node and all its edges as JSON.")
@click.option("--limit", default=15, show_default=True, help="Edges shown per type and direction (text output).")
def show_command(curie: str, store_url: str | None, as_json: bool, limit: int) -> None:
    """A node, by id or cross-reference, with its edges and their provenance."""
    from kg.lookup import describe
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings, store_url) as store:
        views = describe(store, curie)
        version = store.graph_version
    if as_json:
        _print_json({"graph_version": version, "matches": [v.to_dict() for v in views]})
        return
    click.echo("\n\n".join(render_node(v, limit=limit) for v in views))


@kg.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["ttl", "graphml", "csv", "neo4j-admin"]),
    help="ttl: RDF/Turtle; graphml; csv or neo4j-admin: CSVs for `neo4j-admin database import`.",
)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Output file (ttl, graphml) or folder (csv)."
)
@click.option("--store", "store_url", help=STORE_HELP)
def export_command(fmt: str, out: Path, store_url: str | None) -> None:
    """Export the graph for other tools."""
    from kg.export import export_graph
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings, store_url) as store:
        report = export_graph(store, fmt=fmt, out=out, show_progress=settings.progress)
    click.echo(report.summary_line())
    if report.command:
        click.echo(f"import with (Neo4j stopped, from {out}):\n  {report.command}")
