"""Historical against current on hand-labelled notes: reading the labels and notes, and the scores."""

from __future__ import annotations

import csv
import json

import pytest

from cdss.errors import InputError
from nlp.context import SpanAsserter
from nlp.temporality import read_labels, read_notes, score_temporality

NOTE = "PAST SURGICAL HISTORY:\nAppendectomy.\n\nHPI: She had pneumonia 2 years ago. Now she has a cough."


def _write(tmp_path, labels):
    with (tmp_path / "notes.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["dataset", "encounter_id", "dialogue", "note"])
        writer.writeheader()
        writer.writerow({"dataset": "x", "encounter_id": "E1", "dialogue": "", "note": NOTE})
    path = tmp_path / "labels.jsonl"
    rows = []
    for phrase, label in labels:
        start = NOTE.index(phrase)
        rows.append(
            {"file": "notes.csv", "encounter_id": "E1", "start": start, "end": start + len(phrase), "label": label}
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_historical_precision_and_recall_on_labelled_spans(tmp_path):
    path = _write(tmp_path, [("Appendectomy", "historical"), ("pneumonia", "historical"), ("cough", "current")])
    labels = read_labels(path)
    report = score_temporality(labels, read_notes(tmp_path, {"notes.csv"}), SpanAsserter())
    assert report["historical"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert report["confusion"] == {"current -> present": 1, "historical -> historical": 2}


def test_bad_labels_and_missing_notes_are_named(tmp_path):
    path = tmp_path / "labels.jsonl"
    path.write_text('{"file": "notes.csv", "encounter_id": "E1", "start": 0, "end": 3, "label": "past"}\n')
    with pytest.raises(InputError, match="historical or current"):
        read_labels(path)
    with pytest.raises(InputError, match="no ACI-bench file"):
        read_notes(tmp_path, {"notes.csv"})
    labels = read_labels(_write(tmp_path, [("cough", "current")]))
    with pytest.raises(InputError, match="E2"):
        score_temporality(
            [type(labels[0])("notes.csv", "E2", 0, 3, "current")], read_notes(tmp_path, {"notes.csv"}), SpanAsserter()
        )


def test_the_shipped_labels_carry_no_note_text():
    from pathlib import Path

    path = Path(__file__).parents[2] / "data" / "temporality_labels.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert len(rows) >= 250 and {r["label"] for r in rows} == {"historical", "current"}
    assert all(set(r) <= {"file", "encounter_id", "start", "end", "label", "why"} for r in rows)
