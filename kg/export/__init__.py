"""Exports of the graph: Turtle (rdflib), GraphML and neo4j-admin CSV."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import ConfigError
from kg.export.graphml import export_graphml
from kg.export.neo4j_csv import export_neo4j_csv
from kg.export.turtle import export_turtle
from kg.store import GraphStore

FORMATS = ("ttl", "graphml", "csv", "neo4j-admin")


@dataclass(slots=True)
class ExportReport:
    format: str
    paths: list[Path]
    nodes: int
    edges: int
    seconds: float
    command: str | None = None
    """For neo4j-admin CSV: the import command to run."""

    def summary_line(self) -> str:
        where = self.paths[0].parent if len(self.paths) > 1 else self.paths[0]
        return (
            f"exported {self.nodes:,} nodes and {self.edges:,} edges as {self.format} "
            f"in {self.seconds:.1f} s -> {where}"
        )


def export_graph(store: GraphStore, *, fmt: str, out: Path, show_progress: bool | None = None) -> ExportReport:
    """Export to `out`: a file for ttl and graphml, a folder for csv/neo4j-admin."""
    started = time.perf_counter()
    if fmt == "ttl":
        nodes, edges = export_turtle(store, out, show_progress=show_progress)
        return ExportReport(fmt, [out], nodes, edges, time.perf_counter() - started)
    if fmt == "graphml":
        nodes, edges = export_graphml(store, out, show_progress=show_progress)
        return ExportReport(fmt, [out], nodes, edges, time.perf_counter() - started)
    if fmt in ("csv", "neo4j-admin"):
        result = export_neo4j_csv(store, out, show_progress=show_progress)
        return ExportReport(
            fmt, result.files, result.nodes, result.edges, time.perf_counter() - started, result.command
        )
    raise ConfigError(f"unknown export format {fmt!r}: expected one of {', '.join(FORMATS)}")
