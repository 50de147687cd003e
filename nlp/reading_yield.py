"""How much a pipeline reads from real notes: findings per record, and records with nothing to rank on.

The ranking engine ranks on findings asserted present or absent; a record
with neither is refused. These figures say how much of a note's clinical
content survives into the differential, before any ranking quality is asked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from cdss.types import Assertion, Mention, MentionMethod, NodeLabel

USED = (Assertion.PRESENT, Assertion.NEGATED)


def record_yield(mentions: Sequence[Mention]) -> dict[str, int]:
    """One record's counts: present and negated findings, measurements read and refused, diseases, drugs."""
    findings = [m for m in mentions if m.concept_type == NodeLabel.FINDING and m.assertion in USED]
    measured = [m for m in mentions if m.method == MentionMethod.MEASUREMENT]
    return {
        "present_findings": sum(1 for m in findings if m.assertion == Assertion.PRESENT),
        "negated_findings": sum(1 for m in findings if m.assertion == Assertion.NEGATED),
        "measurements_used": sum(1 for m in measured if m.concept_id),
        "measurements_refused": sum(1 for m in measured if not m.concept_id),
        "diseases": sum(1 for m in mentions if m.concept_type == NodeLabel.DISEASE),
        "drugs": sum(1 for m in mentions if m.concept_type == NodeLabel.DRUG),
    }


def summarise_yield(per_record: Iterable[dict[str, int]], methods: Counter | None = None) -> dict:
    """Median and 10th percentile of present findings per record, and the share with nothing to rank on."""
    rows = list(per_record)
    if not rows:
        return {"records": 0}
    present = np.array([r["present_findings"] for r in rows])
    usable = np.array([r["present_findings"] + r["negated_findings"] for r in rows])
    out = {
        "records": len(rows),
        "present_findings": {
            "median": float(np.median(present)),
            "p10": float(np.percentile(present, 10)),
            "mean": round(float(present.mean()), 2),
        },
        "nothing_to_rank": int((usable == 0).sum()),
        "nothing_to_rank_share": round(float((usable == 0).mean()), 4),
        "totals": {key: int(sum(r[key] for r in rows)) for key in rows[0]},
    }
    if methods is not None:
        out["finding_mentions_by_method"] = dict(sorted(methods.items()))
    return out
