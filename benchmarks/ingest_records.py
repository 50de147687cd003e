"""Benchmark: ingesting the 207 ACI-bench notes and the 1,701 MTS-Dialog sections.

Works on a copy of the graph, so the real one is untouched. Prints records and
words per second, the record-derived disease-finding edges it made, and how
many of them the curated sources confirm on the diseases both cover.

    python benchmarks/ingest_records.py [--data ../shared/data] [--store URL]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from itertools import chain
from pathlib import Path

from cdss.settings import load_settings
from kg import open_store
from kg.store_urls import sqlite_path
from nlp import load_pipeline
from nlp.ingest import record_edge_precision
from nlp.records import RecordInput, read_csv
from runtime import load_ingester

ACI = ("train.csv", "valid.csv", "clinicalnlp_taskB_test1.csv", "clinicalnlp_taskC_test2.csv", "clef_taskC_test3.csv")
MTS = (
    "MTS-Dialog-TrainingSet.csv",
    "MTS-Dialog-ValidationSet.csv",
    "MTS-Dialog-TestSet-1-MEDIQA-Chat-2023.csv",
    "MTS-Dialog-TestSet-2-MEDIQA-Sum-2023.csv",
)


def records(data: Path):
    for name in ACI:
        path = data / "clinical-text-aci-bench" / name
        yield from (
            RecordInput(f"aci/{r.id}", r.text) for r in read_csv(path, id_field="encounter_id", text_field="note")
        )
    for name in MTS:
        path = data / "clinical-text-mts-dialog" / name
        yield from (
            RecordInput(f"mts/{path.stem}/{r.id}", r.text)
            for r in read_csv(path, id_field="ID", text_field="section_text")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--min-pair-count", type=int, default=2)
    args = parser.parse_args()
    settings = load_settings()
    source = sqlite_path(args.store or settings.store)
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "graph.sqlite"
        shutil.copyfile(source, copy)
        store = open_store(str(copy))
        nlp = load_pipeline(store, settings)
        ingester = load_ingester(store, settings, nlp, min_pair_count=args.min_pair_count)
        report = ingester.ingest(chain(records(args.data)))
        print(json.dumps(report.to_dict(), indent=2))
        print(f"{report.words / report.seconds:,.0f} words/s including graph writes and statistics")
        for support in (args.min_pair_count, 3, 5):
            precision = record_edge_precision(store, min_support=support)
            print(f"record-derived edges seen in >= {support} records, against curated:", json.dumps(precision))
        before = store.stats().edge_count
        again = ingester.ingest(chain(records(args.data)))
        print(
            f"re-ingesting the same records: {again.replaced} replaced, {again.new} new, "
            f"edges {before:,} -> {store.stats().edge_count:,} (equal if idempotent)"
        )
        store.close()


if __name__ == "__main__":
    main()
