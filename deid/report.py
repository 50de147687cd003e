"""`cdss eval deid`'s report: ASQ-PHI per type, false flags on PHI-free notes, planted-PHI recall."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from deid.detect import find_phi
from deid.evaluate import read_asq_phi, score, split_halves
from deid.synthetic import planted_note


def negatives_report(path: Path) -> dict:
    """Every flag on notes that hold no identifiers is a false one, or a month or age Safe Harbor asks for."""
    flags, words, notes = Counter(), 0, 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            text = json.loads(line)["text"]
            notes += 1
            words += len(re.findall(r"\S+", text))
            flags.update(span.type.value for span in find_phi(text))
    total = sum(flags.values())
    return {
        "notes": notes,
        "words": words,
        "flags": total,
        "flags_per_1000_words": round(1000 * total / words, 3) if words else None,
        "flags_by_type": dict(sorted(flags.items())),
    }


def synthetic_report(n: int) -> dict:
    found = planted = 0
    missed: Counter = Counter()
    for seed in range(n):
        note = planted_note(seed)
        spans = find_phi(note.text)
        for value, phi_type in note.planted:
            start = note.text.find(value)
            covered = all(any(s.start <= i < s.end for s in spans) for i in range(start, start + len(value)))
            planted += 1
            found += covered
            missed[phi_type.value] += not covered
    return {
        "notes": n,
        "planted": planted,
        "found": found,
        "recall": round(found / planted, 4) if planted else None,
        "missed_by_type": {k: v for k, v in sorted(missed.items()) if v},
    }


def deid_report(data: Path, *, negatives: Path | None, synthetic: int) -> dict:
    halves = split_halves(read_asq_phi(data))
    report: dict = {"asq_phi": {name: score(texts, find_phi) for name, texts in halves.items()}}
    if negatives is not None:
        report["negatives"] = {"file": negatives.name, **negatives_report(negatives)}
    if synthetic:
        report["synthetic"] = synthetic_report(synthetic)
    return report
