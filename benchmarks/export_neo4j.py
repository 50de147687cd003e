"""Benchmark: exporting the full graph for Neo4j, and pushing it into a running Neo4j when one is given.

1. `cdss kg export --format neo4j-admin`: node and relationship CSVs for
   `neo4j-admin database import full`, the way a first load should go
   (seconds, against hours for naive per-row writes: hetio/hetionet#57).
2. With `NEO4J_URI` set (and NEO4J_USER/NEO4J_PASSWORD): `cdss kg push` into
   that server in UNWIND batches, timed, then timed again to show a re-run
   costs the same and changes nothing. The push overwrites the cdss graph in that
   database: point it at a scratch server.

    python benchmarks/export_neo4j.py [--store URL] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from cdss.settings import load_settings
from kg.export import export_graph
from kg.push import push_graph
from runtime import open_graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings()
    with open_graph(settings, args.store) as store:
        seconds = []
        for run in range(1, args.repeat + 1):
            with tempfile.TemporaryDirectory() as folder:
                report = export_graph(store, fmt="neo4j-admin", out=Path(folder) / "neo4j", show_progress=False)
                size = sum(f.stat().st_size for f in report.paths) / 1e6
            seconds.append(report.seconds)
            print(
                f"neo4j-admin export run {run}: {report.seconds:.1f} s, {report.nodes:,} nodes, "
                f"{report.edges:,} relationships, {len(report.paths)} files, {size:.0f} MB"
            )
        best = statistics.median(seconds)
        print(f"median {best:.1f} s ({(report.nodes + report.edges) / best:,.0f} rows/s)")
        uri = os.environ.get("NEO4J_URI")
        if not uri:
            print("NEO4J_URI is not set: the push into a running Neo4j was not measured")
            return
        with open_graph(settings, uri) as target:
            for label in ("first push", "second push (re-run)"):
                began = time.perf_counter()
                pushed = push_graph(store, target, show_progress=False)
                elapsed = time.perf_counter() - began
                print(
                    f"{label}: {elapsed:.1f} s for {pushed.nodes:,} nodes and {pushed.edges:,} relationships "
                    f"({(pushed.nodes + pushed.edges) / elapsed:,.0f} rows/s), "
                    f"{pushed.stale_edges_removed} stale removed"
                )


if __name__ == "__main__":
    main()
