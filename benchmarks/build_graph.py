"""Benchmark: the full graph build, from the bundled sources alone and from every source.

Prints the wall time of each build, its phases (reading each source, writing
the store) and edges per second, for both source sets side by side in one run.
The foundation target is a full build in 60 s or less on 2 cores.

    python benchmarks/build_graph.py [--repeat 3] [--mirror ../shared/data]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from kg import build_graph
from ontologies import BUNDLED_SOURCES, FETCHED_SOURCES, GRAPH_SOURCES
from ontologies.fetch import fetch_sources


def _run(label: str, store: Path, sources_dir: Path, sources, repeat: int) -> float:
    totals = []
    for run in range(1, repeat + 1):
        report = build_graph(store_url=str(store), sources_dir=sources_dir, sources=sources, show_progress=False)
        totals.append(report.seconds)
        loads = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.load_seconds.items())
        print(
            f"{label} run {run}: {report.seconds:5.1f} s | write {report.write_seconds:.1f} s | read (s): {loads} | "
            f"{report.nodes:,} nodes, {report.edges:,} edges, {report.edges_per_second:,.0f} edges/s"
        )
    median = statistics.median(totals)
    print(f"{label}: median {median:.1f} s over {len(totals)} runs (min {min(totals):.1f}, max {max(totals):.1f})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="builds per source set (default 3)")
    parser.add_argument(
        "--mirror", type=Path, help="local source mirror; without it only the bundled sources are built"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        bundled = _run("bundled", folder / "bundled.sqlite", folder / "sources", BUNDLED_SOURCES, args.repeat)
        if args.mirror is None:
            return
        results = fetch_sources(FETCHED_SOURCES, dest=folder / "sources", mirror=args.mirror, show_progress=False)
        failed = [r for r in results if r.status == "failed"]
        if failed:
            raise SystemExit(f"could not fetch {len(failed)} files from {args.mirror}: {failed[0].detail}")
        full = _run("all sources", folder / "all.sqlite", folder / "sources", GRAPH_SOURCES, args.repeat)
        print(f"all sources / bundled build time: {full / bundled:.2f}x")


if __name__ == "__main__":
    main()
