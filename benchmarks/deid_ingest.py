"""Benchmark: what de-identifying and sealing adds to reading a note, on the 207 ACI-bench visit notes.

Prints, measured side by side in one run (the best of three passes each, alternated):
- notes per second of the NLP pipeline alone (what ingest does without text storage);
- notes per second of de-identification (surrogates) alone, and of de-identification, the pipeline on
  the de-identified text and sealing (what ingest does with `CDSS_STORE_RECORD_TEXT=1`);
- the ratio of the two ingest paths, and how many identifiers were found per note.

    python benchmarks/deid_ingest.py [--notes ../shared/data/clinical-text-aci-bench] [--store URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nlp_pipeline import BATCH, read_notes

from cdss.sealing import load_keyring, seal
from cdss.settings import load_settings
from deid import deidentify
from nlp import load_pipeline
from runtime import open_graph

PASSES = 3
KEY = b"benchmark key, not a deployment's" * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=Path("../shared/data/clinical-text-aci-bench"))
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    args = parser.parse_args()
    settings = load_settings()
    notes = read_notes(args.notes)
    with open_graph(settings, args.store) as store:
        nlp = load_pipeline(store, settings)
    keyring = load_keyring(Path(tempfile.mkdtemp()) / "data-keys.json")

    def nlp_only() -> None:
        list(nlp.pipe(notes, batch_size=BATCH))

    def deid_only() -> None:
        for n, text in enumerate(notes):
            deidentify(text, mode="surrogates", key=KEY, record_id=str(n))

    def stored() -> None:
        texts = [deidentify(t, mode="surrogates", key=KEY, record_id=str(n)).text for n, t in enumerate(notes)]
        list(nlp.pipe(texts, batch_size=BATCH))
        for n, text in enumerate(texts):
            seal(text, keyring=keyring, aad=f"RECORD:{n}")

    best = {
        "pipeline alone": float("inf"),
        "de-identification alone": float("inf"),
        "de-identify + pipeline + seal": float("inf"),
    }
    runs = dict(zip(best, (nlp_only, deid_only, stored), strict=True))
    for _ in range(PASSES):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    found = sum(len(deidentify(t, mode="spans").spans) for t in notes)
    print(
        f"{len(notes)} notes, {sum(len(t.split()) for t in notes):,} words; {found / len(notes):.1f} identifiers a note"
    )
    for name, seconds in best.items():
        print(f"{name:<32} {len(notes) / seconds:8.1f} notes/s")
    ratio = best["de-identify + pipeline + seal"] / best["pipeline alone"]
    print(f"ingest with stored text / without: {ratio:.2f}x the time")


if __name__ == "__main__":
    main()
