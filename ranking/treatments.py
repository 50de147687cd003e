"""Treatment options for the leading diagnoses, each with the disease it is for and its evidence.

A drug the graph says treats (or palliates) a leading diagnosis is offered
for that diagnosis; if the diagnosis has none, its parents' indications are
offered, marked as such. An option's score is the diagnosis's share times
its evidence grade (`ranking.treatment_index.Grade`): guideline first-line and
physician-curated indications come before drug-label ones, and every option
says which it is. Left out, each with the reason: drugs contraindicated in a
known condition of the patient, pairs a curated source calls a
non-indication, and diagnostics, vehicles, nutrients and medical gases whose
only evidence is a drug label. Drugs the patient already takes are flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cdss.json_fields import json_fields
from ranking.treatment_index import Indication, TherapyIndex

PARENT_DISCOUNT = 0.5


@dataclass(frozen=True, slots=True)
class TreatmentOption:
    """A drug offered for one of the leading diagnoses, with its grade, score and evidence."""

    drug: str
    name: str
    target: dict
    """The diagnosis it is for: id, name, rank."""
    relation: str
    evidence_grade: str
    score: float
    already_taking: bool
    evidence: list[dict]
    via_parent: dict | None = None
    learned_score: float | None = None

    def to_dict(self) -> dict:
        return json_fields(self, rename={"target": "for"}, omit_none=("via_parent", "learned_score"))


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A candidate drug not offered, and why."""

    drug: str
    name: str
    target: dict
    reason: str
    evidence: list[dict]

    def to_dict(self) -> dict:
        return json_fields(self, rename={"target": "for"})


@dataclass(frozen=True, slots=True)
class Leading:
    """A diagnosis treatments are sought for."""

    id: str
    name: str
    rank: int
    score: float


def _candidates(therapy: TherapyIndex, disease: str) -> list[tuple[Indication, str | None]]:
    direct = therapy.indications.get(disease, [])
    if direct:
        return [(i, None) for i in direct]
    return [(i, parent) for parent in therapy.parents.get(disease, []) for i in therapy.indications.get(parent, [])]


def _left_out(therapy: TherapyIndex, indication, disease_id: str, known_conditions: Sequence[str]):
    """Why a candidate drug is not offered, with the evidence for that; None when it is offered."""
    drug = indication.drug
    blocked = [
        (condition, therapy.contraindicated[condition][drug])
        for condition in known_conditions
        if drug in therapy.contraindicated.get(condition, {})
    ]
    if blocked:
        condition, evidence = blocked[0]
        return f"contraindicated in {therapy.names.get(condition, condition)} ({condition})", evidence
    role = therapy.roles.get(drug)
    if role is not None and not indication.curated:
        reason = f"a {role[0].replace('_', ' ')}, not a treatment ({role[1]}); its only evidence is a drug label"
        return reason, indication.evidence
    not_indicated = therapy.not_indicated.get((drug, disease_id))
    if not_indicated:
        return "a curated source says it does not treat this disease", not_indicated
    return None


def treatment_options(
    therapy: TherapyIndex,
    leading: Sequence[Leading],
    *,
    known_conditions: Sequence[str] = (),
    medications: Sequence[str] = (),
    limit: int = 20,
    learned: Callable[[str, str], float | None] | None = None,
) -> tuple[list[TreatmentOption], list[LeftOut]]:
    """(options, left out): options ranked by diagnosis score x relation weight (x learned score)."""
    taking = set(medications)
    options: dict[tuple[str, str], TreatmentOption] = {}
    left_out: list[LeftOut] = []
    for diagnosis in leading:
        for indication, parent in _candidates(therapy, diagnosis.id):
            drug = indication.drug
            target = {"id": diagnosis.id, "name": diagnosis.name, "rank": diagnosis.rank}
            why_not = _left_out(therapy, indication, diagnosis.id, known_conditions)
            if why_not is not None:
                reason, evidence = why_not
                left_out.append(
                    LeftOut(drug, therapy.names.get(drug, drug), target, reason, [e.to_dict() for e in evidence])
                )
                continue
            score = diagnosis.score * indication.grade.weight
            if parent is not None:
                score *= PARENT_DISCOUNT
            learned_score = learned(drug, indication.disease) if learned else None
            if learned_score is not None:
                score *= learned_score
            key = (drug, diagnosis.id)
            if key in options and options[key].score >= score:
                continue
            options[key] = TreatmentOption(
                drug=drug,
                name=therapy.names.get(drug, drug),
                target=target,
                relation=indication.relation,
                evidence_grade=indication.grade.label,
                score=round(score, 6),
                already_taking=drug in taking,
                evidence=[e.to_dict() for e in indication.evidence],
                via_parent={"id": parent, "name": therapy.names.get(parent, parent)} if parent is not None else None,
                learned_score=round(learned_score, 4) if learned_score is not None else None,
            )
    ranked = sorted(options.values(), key=lambda o: (-o.score, o.target["rank"], o.drug))
    return ranked[:limit], left_out
