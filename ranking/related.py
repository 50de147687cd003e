"""Diseases related to a disease: by shared findings, shared treatments and nearness in the hierarchy.

    score = 0.6 * findings + 0.25 * treatments + 0.15 * hierarchy

- findings: information-content-weighted overlap of the two diseases' annotated
  findings (shared IC over the geometric mean of each one's total IC), so that
  sharing a rare, specific finding counts for more than sharing "fever";
- treatments: shared drugs over the geometric mean of each one's drug count;
- hierarchy: 1 for a parent or child, 1/2 two IS_A steps away (sibling, grandparent).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ranking.knowledge import Knowledge
from ranking.treatment_index import TherapyIndex

WEIGHTS = {"findings": 0.6, "treatments": 0.25, "hierarchy": 0.15}
CANDIDATES_BY_FINDINGS = 200
SHOWN = 3


@dataclass(slots=True)
class RelatedIndex:
    """Precomputed pieces of the similarity: binary annotations, IC totals, drug -> diseases."""

    annotated: object
    ic_total: np.ndarray
    diseases_of_drug: dict[str, list[str]]


def build_related_index(knowledge: Knowledge, therapy: TherapyIndex) -> RelatedIndex:
    # Follow-up questions (DDXPlus's "how intense is the pain?") say nothing about what a disease is.
    annotated = knowledge.annotations_by_disease.astype(bool).astype(np.float64).tocsr()
    annotated = annotated.multiply(knowledge.askable.astype(np.float64)[None, :]).tocsr()
    annotated.eliminate_zeros()
    ic_total = np.asarray(annotated @ knowledge.ic).ravel()
    diseases_of_drug: dict[str, list[str]] = defaultdict(list)
    for disease, drugs in sorted(therapy.drugs_of.items()):
        for drug in drugs:
            diseases_of_drug[drug].append(disease)
    return RelatedIndex(annotated, ic_total, dict(diseases_of_drug))


def _neighbourhood(therapy: TherapyIndex, disease: str) -> dict[str, tuple[int, str]]:
    """Diseases within two IS_A steps, with the step count and how they relate."""
    name = therapy.names.get
    near: dict[str, tuple[int, str]] = {}
    for parent in therapy.parents.get(disease, []):
        near.setdefault(parent, (1, "parent"))
        for grandparent in therapy.parents.get(parent, []):
            near.setdefault(grandparent, (2, "grandparent"))
        for sibling in therapy.children.get(parent, []):
            near.setdefault(sibling, (2, f"sibling under {name(parent, parent)}"))
    for child in therapy.children.get(disease, []):
        near.setdefault(child, (1, "child"))
        for grandchild in therapy.children.get(child, []):
            near.setdefault(grandchild, (2, "grandchild"))
    near.pop(disease, None)
    return near


def related_diseases(
    knowledge: Knowledge, therapy: TherapyIndex, index: RelatedIndex, disease: str, *, limit: int = 20
) -> list[dict]:
    finding_score: dict[str, float] = {}
    shared_findings: dict[str, list[int]] = {}
    own = knowledge.disease_index.get(disease)
    if own is not None:
        findings, _ = knowledge.disease_findings(own)
        findings = findings[knowledge.askable[findings]]
        weights = np.zeros(len(knowledge.finding_ids))
        weights[findings] = knowledge.ic[findings]
        shared = np.asarray(index.annotated @ weights).ravel()
        shared[own] = 0
        norm = np.sqrt(index.ic_total[own] * np.maximum(index.ic_total, 1e-12))
        similarity = np.where(shared > 0, shared / norm, 0.0)
        count = min(CANDIDATES_BY_FINDINGS, int((similarity > 0).sum()))
        if count:
            top = np.argpartition(-similarity, count - 1)[:count]
            own_set = set(findings.tolist())
            for other in top.tolist():
                other_id = knowledge.disease_ids[other]
                finding_score[other_id] = float(similarity[other])
                theirs = set(index.annotated[other].indices.tolist())
                shared_findings[other_id] = sorted(own_set & theirs, key=lambda f: -knowledge.ic[f])
    drugs = therapy.drugs_of.get(disease, frozenset())
    treatment_score: dict[str, float] = {}
    shared_drugs: dict[str, list[str]] = defaultdict(list)
    for drug in sorted(drugs):
        for other in index.diseases_of_drug.get(drug, []):
            if other != disease:
                shared_drugs[other].append(drug)
    for other, common in shared_drugs.items():
        treatment_score[other] = len(common) / math.sqrt(len(drugs) * len(therapy.drugs_of[other]))
    near = _neighbourhood(therapy, disease)
    out = []
    for other in set(finding_score) | set(treatment_score) | set(near):
        parts = {
            "findings": finding_score.get(other, 0.0),
            "treatments": treatment_score.get(other, 0.0),
            "hierarchy": 1.0 / near[other][0] if other in near else 0.0,
        }
        score = sum(WEIGHTS[k] * v for k, v in parts.items())
        reasons = []
        if other in shared_findings:
            names = [knowledge.finding_names[f] for f in shared_findings[other][:SHOWN]]
            reasons.append(f"shares {len(shared_findings[other])} findings, most specific: {', '.join(names)}")
        if other in shared_drugs:
            names = [therapy.names.get(d, d) for d in shared_drugs[other][:SHOWN]]
            reasons.append(f"shares {len(shared_drugs[other])} treatments: {', '.join(names)}")
        if other in near:
            reasons.append(f"{near[other][1]} in the disease hierarchy")
        out.append(
            {
                "id": other,
                "name": therapy.names.get(other, other),
                "score": round(score, 6),
                "components": {k: round(v, 4) for k, v in parts.items()},
                "shared_findings": [knowledge.finding_ids[f] for f in shared_findings.get(other, [])[:10]],
                "shared_treatments": shared_drugs.get(other, [])[:10],
                "why": "; ".join(reasons),
            }
        )
    out.sort(key=lambda r: (-r["score"], r["id"]))
    return out[:limit]
