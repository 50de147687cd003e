"""Benchmark: the full graph build from the bundled sources.

Prints the wall time of each build, its phases (reading each source, writing
the store) and edges per second. Run it on an otherwise idle machine; the
foundation target is a full build in 60 s or less on 2 cores.

    python benchmarks/build_graph.py [--repeat 3] [--out /tmp/bench-graph]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from kg import build_graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds to run (default 3)")
    parser.add_argument("--out", type=Path, help="folder for the graph (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out or Path(scratch)
        store = folder / "graph.sqlite"
        totals = []
        for run in range(1, args.repeat + 1):
            report = build_graph(store_url=str(store), sources_dir=folder / "sources", show_progress=False)
            totals.append(report.seconds)
            loads = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.load_seconds.items())
            print(
                f"run {run}: {report.seconds:6.1f} s total | read: {loads} | write {report.write_seconds:.1f} s | "
                f"{report.nodes:,} nodes, {report.edges:,} edges, {report.edges_per_second:,.0f} edges/s"
            )
        print(
            f"median build {statistics.median(totals):.1f} s over {len(totals)} runs "
            f"(min {min(totals):.1f}, max {max(totals):.1f}); graph version {report.graph_version}"
        )


if __name__ == "__main__":
    main()
