"""Building a knowledge update from labelled cases: pure counting, no I/O.

For each confirmed disease d and finding f present in its cases, with N cases in all, n_d with d,
n_f with f and n_df with both: P(f|d) = n_df / (n_d + 1) (one pseudo-case without f keeps a single
case from making a finding certain), P(f|not d) = (n_f - n_df) / (N - n_d), and the noisy-OR weight
w = 1 - (1 - P(f|d)) / (1 - P(f|not d)) (Rotmensch et al. 2017) becomes the annotation's frequency
when it is positive. A finding common to every disease thus earns little.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime

from learning.cases import LabelledCase
from ranking.learned import LearnedAnnotation, LearnedUpdate


def annotations(
    cases: list[LabelledCase], *, known_findings: set[str], known_diseases: set[str], min_support: int = 1
) -> tuple[LearnedAnnotation, ...]:
    total = len(cases)
    n_disease: Counter = Counter()
    n_finding: Counter = Counter()
    n_both: Counter = Counter()
    for case in cases:
        diseases = {d for d in case.diseases if d in known_diseases}
        findings = {f for f in case.present if f in known_findings}
        n_disease.update(diseases)
        n_finding.update(findings)
        n_both.update((d, f) for d in diseases for f in findings)
    found = []
    for (disease, finding), both in sorted(n_both.items()):
        if both < min_support:
            continue
        given = both / (n_disease[disease] + 1)
        others = total - n_disease[disease]
        without = (n_finding[finding] - both) / others if others else 0.0
        weight = 1.0 - (1.0 - given) / (1.0 - without) if without < 1 else 0.0
        if weight > 0:
            found.append(
                LearnedAnnotation(disease, finding, round(weight, 4), both, n_disease[disease], n_finding[finding])
            )
    return tuple(found)


def build_update(
    cases: list[LabelledCase],
    *,
    graph_version: str,
    known_findings: set[str],
    known_diseases: set[str],
    sequence: int,
    parent: str | None,
    min_support: int = 1,
    prior_strength: float = 100.0,
    created: str | None = None,
) -> LearnedUpdate:
    """The update these cases teach; its version is its sequence number and a hash of its content."""
    learned = annotations(cases, known_findings=known_findings, known_diseases=known_diseases, min_support=min_support)
    counts = Counter(d for case in cases for d in case.diseases if d in known_diseases)
    content = json.dumps(
        [graph_version, [(a.disease, a.finding, a.frequency) for a in learned], sorted(counts.items()), prior_strength],
    )
    digest = hashlib.sha256(content.encode()).hexdigest()[:10]
    return LearnedUpdate(
        version=f"L{sequence:04d}-{digest}",
        graph_version=graph_version,
        created=created or datetime.now(UTC).isoformat(timespec="seconds"),
        n_cases=len(cases),
        annotations=learned,
        disease_counts=dict(sorted(counts.items())),
        prior_strength=prior_strength,
        parent=parent,
    )
