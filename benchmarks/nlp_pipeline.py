"""Benchmark: the clinical NLP pipeline on the 207 ACI-bench visit notes.

Prints, measured side by side in one run:
- words per second of the full pipeline, and as a ratio to the scispaCy tokenizer alone;
- cold start: a fresh process importing spaCy and loading the cached pipeline;
- resident memory of that process after it has processed every note.

    python benchmarks/nlp_pipeline.py [--notes ../shared/data/clinical-text-aci-bench] [--store URL] [--no-ner]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import spacy

from cdss.settings import load_settings
from nlp import load_pipeline, ner_choice, pipeline_version
from nlp.pipeline import cache_dir
from nlp.tokenizer import blank_pipeline
from runtime import open_graph

ACI_FILES = (
    "train.csv",
    "valid.csv",
    "clinicalnlp_taskB_test1.csv",
    "clinicalnlp_taskC_test2.csv",
    "clef_taskC_test3.csv",
)

COLD_STARTS = 3
BATCH = 32
"""Notes per `nlp.pipe` batch, as `cdss ingest records` sends them."""

CHILD = """
import json, resource, sys, time
started = time.perf_counter()
import spacy
nlp = spacy.load(sys.argv[1])
loaded = time.perf_counter() - started
notes = json.load(open(sys.argv[2]))
for doc in nlp.pipe(notes, batch_size=32):
    pass
print(json.dumps({"cold_start_s": loaded, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def read_notes(folder: Path) -> list[str]:
    csv.field_size_limit(1 << 30)
    notes = []
    for name in ACI_FILES:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            notes += [row["note"] for row in csv.DictReader(handle)]
    return notes


def words(docs) -> int:
    return sum(1 for doc in docs for t in doc if not t.is_space and not t.is_punct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--notes",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "data" / "clinical-text-aci-bench",
    )
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    parser.add_argument("--no-ner", action="store_true", help="benchmark the dictionary + fuzzy pipeline")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    settings = load_settings()
    store = open_graph(settings, args.store)
    ner = ner_choice(settings, use_ner=not args.no_ner)
    load_pipeline(store, settings, ner=ner)
    # Measure the pipeline as a service loads it, from the cache, after one warm-up pass.
    nlp = spacy.load(cache_dir(settings, store.graph_version, ner))
    notes = read_notes(args.notes)
    for _doc in nlp.pipe(notes[:20]):
        pass
    tokenizer = blank_pipeline()
    total_words = words(tokenizer.pipe(notes))
    print(f"{len(notes)} notes, {total_words:,} words; pipeline {pipeline_version(nlp)} ({', '.join(nlp.pipe_names)})")

    rates = {"tokenizer": [], "pipeline": [], "without measurements": []}
    for _ in range(args.repeat):
        for name, runner in (("tokenizer", tokenizer), ("pipeline", nlp)):
            started = time.perf_counter()
            for _doc in runner.pipe(notes, batch_size=BATCH):
                pass
            rates[name].append(total_words / (time.perf_counter() - started))
        with nlp.select_pipes(disable=["cdss_measurements"]):
            started = time.perf_counter()
            for _doc in nlp.pipe(notes, batch_size=BATCH):
                pass
            rates["without measurements"].append(total_words / (time.perf_counter() - started))
    best = {name: max(values) for name, values in rates.items()}
    print(f"scispaCy tokenizer alone:         {best['tokenizer']:,.0f} words/s")
    print(f"full pipeline:                    {best['pipeline']:,.0f} words/s")
    print(f"without the measurement reader:   {best['without measurements']:,.0f} words/s")
    print(f"ratio pipeline / tokenizer: {best['pipeline'] / best['tokenizer']:.3f} (floor 0.15)")
    print(f"ratio without measurements / tokenizer: {best['without measurements'] / best['tokenizer']:.3f}")

    with open(Path(settings.data_dir) / "benchmark-notes.json", "w", encoding="utf-8") as handle:
        json.dump(notes, handle)
    runs = []
    for _ in range(COLD_STARTS):
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(cache_dir(settings, store.graph_version, ner)),
                str(Path(settings.data_dir) / "benchmark-notes.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    (Path(settings.data_dir) / "benchmark-notes.json").unlink()
    starts = sorted(run["cold_start_s"] for run in runs)
    print(
        "cold start (fresh process: import spaCy, load the cached pipeline): "
        f"median {statistics.median(starts):.2f} s of {', '.join(f'{s:.2f}' for s in starts)} (target <= 5 s)"
    )
    measured = {"rss_mb": max(run["rss_mb"] for run in runs)}
    print(f"resident memory after all notes: {measured['rss_mb']:.0f} MB (target <= 1024 MB)")


if __name__ == "__main__":
    main()
