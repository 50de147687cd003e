"""Does the pipeline tell a past condition from a current one? Precision and recall of `historical` on visit
notes labelled by hand (`tests/data/temporality_labels.jsonl`: ids, offsets and labels only, no note text;
the ACI-bench notes come from `cdss data fetch`).

The labels follow clinical use: a chronic condition listed under past medical history that is still managed
at the visit is current; a past surgery or a resolved episode is historical.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import InputError
from cdss.types import Assertion

HISTORICAL, CURRENT = "historical", "current"


@dataclass(frozen=True, slots=True)
class TemporalLabel:
    file: str
    encounter_id: str
    start: int
    end: int
    label: str


def read_labels(path: Path) -> list[TemporalLabel]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            label = TemporalLabel(
                item["file"], item["encounter_id"], int(item["start"]), int(item["end"]), item["label"]
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path} line {number}: expected file, encounter_id, start, end, label ({exc})") from None
        if label.label not in (HISTORICAL, CURRENT):
            raise InputError(f"{path} line {number}: label must be historical or current, not {label.label!r}")
        out.append(label)
    return out


def read_notes(folder: Path, files: set[str]) -> dict[tuple[str, str], str]:
    """(file, encounter id) -> the visit note, from the ACI-bench CSV files."""
    notes = {}
    for name in sorted(files):
        path = folder / name
        if not path.is_file():
            raise InputError(f"no ACI-bench file {path}: run `cdss data fetch` or pass --notes")
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                notes[(name, row["encounter_id"])] = row["note"]
    return notes


def score_temporality(
    labels: Sequence[TemporalLabel],
    notes: dict[tuple[str, str], str],
    assert_spans: Callable[[str, list[tuple[int, int]]], list[Assertion]],
) -> dict:
    """Historical precision, recall and F1, and what the current spans were called."""
    by_note: dict[tuple[str, str], list[TemporalLabel]] = {}
    for label in labels:
        by_note.setdefault((label.file, label.encounter_id), []).append(label)
    confusion: Counter = Counter()
    for key, items in by_note.items():
        if key not in notes:
            raise InputError(f"note {key[1]} is not in {key[0]}")
        predicted = assert_spans(notes[key], [(item.start, item.end) for item in items])
        for item, assertion in zip(items, predicted, strict=True):
            confusion[(item.label, assertion.value)] += 1
    tp = confusion[(HISTORICAL, Assertion.HISTORICAL.value)]
    fp = sum(n for (gold, got), n in confusion.items() if got == Assertion.HISTORICAL.value and gold != HISTORICAL)
    fn = sum(n for (gold, got), n in confusion.items() if gold == HISTORICAL and got != Assertion.HISTORICAL.value)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "spans": len(labels),
        "notes": len(by_note),
        "historical": {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)},
        "confusion": {f"{gold} -> {got}": n for (gold, got), n in sorted(confusion.items())},
    }
