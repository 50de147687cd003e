"""Benchmark: record ingest on Spark against the single-process path, on the staged notes.

Each run ingests into its own copy of the graph, from one JSONL file of the notes (the 207 ACI-bench notes
and 1,701 MTS-Dialog sections, as `benchmarks/ingest_records.py` reads them), with the same pipeline.

- `equivalence`: the single-process path and `--master` (local[2]); prints whether the records, MENTIONS edges
  and record-derived edges are the same, byte for byte after sorting, and the graph versions.
- `scaling`: the single-process path, local[1] and local[2] in one run, on the staged notes or `--notes N`:
  notes a second, and where Spark's time goes (check, NLP with the pipeline loads, driver writes, aggregation,
  edges).
- `growth`: local[2] on 1,908 notes and on more made by recombining their sentences (`--sizes`).

    python benchmarks/spark_ingest.py equivalence|scaling|growth [--data ../shared/data] [--notes 10000]
        [--sizes 1908,50000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import spacy
from ingest_records import records as staged_records

from cdss.settings import load_settings
from cdss.types import EdgeType, NodeLabel
from cluster.ingest import ingest_on_spark
from cluster.session import read_records, spark_session
from kg import open_store
from kg.store_urls import sqlite_path
from nlp import load_pipeline, ner_choice
from nlp.ingest import SOURCE, IngestReport
from nlp.pipeline import cache_dir
from nlp.records import read_jsonl
from runtime import load_ingester


def write_notes(path: Path, notes: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record_id, text in notes:
            handle.write(json.dumps({"id": record_id, "text": text}) + "\n")


def recombined(notes: list[tuple[str, str]], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` notes: the staged ones, then new ones of 6-14 sentences drawn from all of them."""
    sentences = [s.strip() + "." for _, text in notes for s in text.split(". ") if len(s.split()) >= 3]
    rng = random.Random(seed)
    made = [(f"syn/{n}", " ".join(rng.sample(sentences, rng.randint(6, 14)))) for n in range(count - len(notes))]
    return (notes + made)[:count]


def dump(path: Path) -> list[str]:
    with open_store(str(path)) as store:
        rows = [json.dumps(n.to_dict(), sort_keys=True) for n in store.iter_nodes(label=NodeLabel.RECORD)]
        rows += [json.dumps(e.to_dict(), sort_keys=True) for e in store.iter_edges(edge_type=EdgeType.MENTIONS)]
        rows += [
            json.dumps(e.to_dict(), sort_keys=True)
            for e in store.iter_edges(edge_type=EdgeType.HAS_FINDING)
            if e.provenance.source == SOURCE
        ]
    return sorted(rows)


class Runner:
    """Ingests a notes file into a fresh copy of the graph, in this process or on Spark."""

    def __init__(self, scratch: Path, graph: Path) -> None:
        self.scratch, self.graph, self.settings = scratch, graph, load_settings()
        with open_store(str(graph)) as store:
            load_pipeline(store, self.settings)
            self.pipeline_dir = cache_dir(self.settings, store.graph_version, ner_choice(self.settings))
        self.runs = 0

    def copy(self) -> Path:
        self.runs += 1
        path = self.scratch / f"graph-{self.runs}.sqlite"
        shutil.copyfile(self.graph, path)
        return path

    def single(self, notes: Path) -> tuple[IngestReport, Path]:
        path = self.copy()
        with open_store(str(path)) as store:
            ingester = load_ingester(store, self.settings, spacy.load(self.pipeline_dir))
            return ingester.ingest(read_jsonl(notes), show_progress=False), path

    def spark(self, notes: Path, master: str) -> tuple[IngestReport, Path]:
        path = self.copy()
        session = spark_session(master=master, app_name="cdss ingest benchmark", progress=False)
        try:
            with open_store(str(path)) as store:
                ingester = load_ingester(store, self.settings, spacy.load(self.pipeline_dir))
                frame = read_records(session, str(notes), form="jsonl", id_field="id", text_field="text")
                out = str(self.scratch / f"mentions-{self.runs}.parquet")
                report = ingest_on_spark(
                    session, frame, ingester, pipeline_dir=self.pipeline_dir, ship_pipeline=False, mentions_out=out
                )
        finally:
            session.stop()
        return report, path


def line(name: str, report: IngestReport) -> str:
    rate = report.records / report.seconds
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())
    return (
        f"{name}: {report.records:,} notes, {report.mentions:,} mentions, {report.pair_edges_written:,} "
        f"record-derived edges in {report.seconds:.1f} s ({rate:.1f} notes/s)" + (f" [{phases}]" if phases else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["equivalence", "scaling", "growth"])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--sizes", default="1908,5000,20000,50000", help="growth: the numbers of notes")
    parser.add_argument("--notes", type=int, default=1908, help="scaling: the number of notes")
    args = parser.parse_args()
    graph = sqlite_path(args.store or load_settings().store)
    notes = [(r.id, r.text) for r in staged_records(args.data)]
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        runner = Runner(scratch, graph)
        started = time.perf_counter()
        spacy.load(runner.pipeline_dir)
        print(f"pipeline load (once per Python worker on Spark): {time.perf_counter() - started:.1f} s", flush=True)
        staged = scratch / "notes.jsonl"
        write_notes(staged, notes)
        if args.mode == "equivalence":
            one, one_path = runner.single(staged)
            print(line("single process", one), flush=True)
            other, other_path = runner.spark(staged, args.master)
            print(line(f"spark {args.master}", other), flush=True)
            same = dump(one_path) == dump(other_path)
            with open_store(str(one_path)) as a, open_store(str(other_path)) as b:
                versions = (a.graph_version, b.graph_version)
            print(
                f"records, mentions and record-derived edges byte for byte the same: {same}; graph versions {versions}"
            )
        elif args.mode == "scaling":
            if args.notes != len(notes):
                staged = scratch / f"notes-{args.notes}.jsonl"
                write_notes(staged, recombined(notes, args.notes))
            one, _ = runner.single(staged)
            print(line("single process", one), flush=True)
            for master in ("local[1]", "local[2]"):
                report, _ = runner.spark(staged, master)
                print(line(f"spark {master}", report), flush=True)
        else:
            for size in (int(s) for s in args.sizes.split(",")):
                path = scratch / f"notes-{size}.jsonl"
                write_notes(path, recombined(notes, size))
                report, _ = runner.spark(path, args.master)
                print(line(f"spark {args.master}, {size:,} notes", report), flush=True)


if __name__ == "__main__":
    main()
