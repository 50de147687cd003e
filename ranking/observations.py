"""From a case to observations: which findings the patient has or lacks, how surely, and why we think so.

- Stated findings are taken as given, with their confidence.
- Text goes through the NLP pipeline: present mentions are evidence for,
  negated ones evidence against; possible, historical, family and
  hypothetical mentions are not the patient's findings now, and are listed
  as not used, with the reason.
- Image-model labels map to findings through the chest X-ray label table,
  then through the finding phrases the NLP pipeline also reads
  (`ontologies/phrases.py`: "infiltrate", "ST elevation"); a finding CURIE
  may stand in for a label. Unknown labels are reported back.
- Diseases stated present (or mentioned present) are known conditions; stated
  absent, ruled out. Drugs are medications.
- Reported genes resolve to the graph's genes by symbol or CURIE; unknown ones
  are reported back (`ranking.genotype`).

When one finding is observed several ways, a stated finding beats an image
finding, which beats the text; within the text a present mention beats a
negated one (a note's review of systems may deny what its exam then records).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cdss.curies import normalize_curie
from cdss.errors import InputError, InvalidCurieError, NotFoundError
from cdss.types import Assertion, Concept, Mention, NodeLabel
from kg.lookup import resolve
from kg.store import GraphStore
from ontologies.cxr import CxrLabel
from ontologies.phrases import phrase_finding
from ranking.case import Case
from ranking.genotype import ResolvedGene, resolve_genes

STATED, IMAGE, TEXT = "stated", "image", "text"
ORIGIN_RANK = {STATED: 0, IMAGE: 1, TEXT: 2}
NOT_NOW = {
    Assertion.POSSIBLE: "possible, not established",
    Assertion.HISTORICAL: "past history, not a finding now",
    Assertion.FAMILY: "family history, not the patient",
    Assertion.HYPOTHETICAL: "hypothetical",
}


@dataclass(frozen=True, slots=True)
class Observation:
    """The patient has `finding` with probability `probability` (0: certainly absent).

    `reference` is the probability the source would give without looking: 0.5
    for a person's confidence, the typical rate of a label for an image model.
    """

    finding: str
    probability: float
    origin: str
    detail: dict[str, Any] = field(default_factory=dict)
    reference: float = 0.5

    def to_dict(self) -> dict:
        return {"finding": self.finding, "probability": self.probability, "origin": self.origin, **self.detail}


@dataclass(slots=True)
class ResolvedCase:
    observations: list[Observation] = field(default_factory=list)
    known_conditions: list[Concept] = field(default_factory=list)
    ruled_out: list[Concept] = field(default_factory=list)
    medications: list[dict] = field(default_factory=list)
    unknown_image_labels: list[str] = field(default_factory=list)
    genes: list[ResolvedGene] = field(default_factory=list)
    unknown_genes: list[str] = field(default_factory=list)
    not_used: list[dict] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


def _concept(store: GraphStore, curie: str, where: str) -> Concept:
    try:
        matches = resolve(store, curie)
    except NotFoundError:
        raise InputError(f"{where}: unknown concept {curie!r}; no node has this id or cross-reference") from None
    if len(matches) > 1:
        names = ", ".join(m.id for m, _ in matches[:5])
        raise InputError(f"{where}: {curie!r} names several concepts ({names}); use one of their ids")
    return matches[0][0]


def _label_key(label: str) -> str:
    return label.replace("_", " ").strip().casefold()


def _image_observations(
    case: Case,
    store: GraphStore,
    labels: dict[str, CxrLabel],
    image_reference: float,
    out: ResolvedCase,
    observe: Callable[[Observation], None],
) -> None:
    """Each image finding as an observation of its graph finding, relative to its model's reference."""
    lookup = {_label_key(name): label for name, label in labels.items()}
    for i, image in enumerate(case.image_findings):
        detail = {"label": image.label, "model": image.model}
        reference = image_reference if image.reference is None else image.reference
        if image.reference is not None:
            detail["reference"] = image.reference
        label = lookup.get(_label_key(image.label))
        if label is None:
            finding = _image_curie(store, image.label, f"image_findings[{i}].label") or _phrase(store, image.label)
            if finding is None:
                out.unknown_image_labels.append(image.label)
                continue
            observe(Observation(finding, image.probability, IMAGE, detail, reference))
            continue
        if not label.clinical or not label.findings:
            out.not_used.append({**detail, "probability": image.probability, "reason": "label has no clinical meaning"})
            continue
        # A label standing for several findings ("Lung Lesion") counts once, as its first.
        observe(Observation(label.findings[0], image.probability, IMAGE, detail, reference))


def resolve_case(
    case: Case,
    store: GraphStore,
    *,
    labels: dict[str, CxrLabel],
    mentions: list[Mention] | None = None,
    image_reference: float = 0.5,
) -> ResolvedCase:
    """Turn a case (and the mentions found in its text) into observations and context."""
    out = ResolvedCase(mentions=list(mentions or []))
    chosen: dict[str, Observation] = {}

    def observe(observation: Observation) -> None:
        current = chosen.get(observation.finding)
        if current is None:
            chosen[observation.finding] = observation
            return
        current_key = (ORIGIN_RANK[current.origin], -current.probability)
        if (ORIGIN_RANK[observation.origin], -observation.probability) < current_key:
            chosen[observation.finding] = observation
            current, observation = observation, current
        out.not_used.append({**observation.to_dict(), "reason": f"also observed ({current.origin}); that one is used"})

    for status, items in (("present", case.present), ("absent", case.absent)):
        for i, item in enumerate(items):
            concept = _concept(store, item.id, f"{status}[{i}]")
            probability = item.confidence if status == "present" else 1.0 - item.confidence
            if concept.label == NodeLabel.FINDING:
                observe(Observation(concept.id, probability, STATED, {"stated": status, "input": item.id}))
            elif concept.label == NodeLabel.DISEASE:
                (out.known_conditions if status == "present" else out.ruled_out).append(concept)
            elif status == "present":
                out.medications.append(_medication(item.id, concept))
            else:
                out.not_used.append({"concept": concept.id, "stated": status, "reason": "a drug is not a finding"})

    _image_observations(case, store, labels, image_reference, out, observe)

    for mention in out.mentions:
        if mention.concept_id is None or mention.concept_type is None:
            continue
        detail = {"text": mention.text, "start": mention.start, "end": mention.end, "assertion": str(mention.assertion)}
        if mention.measurement is not None:
            detail["measurement"] = mention.measurement
        if mention.assertion in NOT_NOW:
            out.not_used.append({"concept": mention.concept_id, **detail, "reason": NOT_NOW[mention.assertion]})
            continue
        present = mention.assertion == Assertion.PRESENT
        if mention.concept_type == NodeLabel.FINDING:
            probability = mention.confidence if present else 1.0 - mention.confidence
            observe(Observation(mention.concept_id, round(probability, 4), TEXT, detail))
        elif mention.concept_type == NodeLabel.DISEASE and present:
            concept = store.get_node(mention.concept_id)
            if concept is not None and all(c.id != concept.id for c in out.known_conditions):
                out.known_conditions.append(concept)
        elif mention.concept_type == NodeLabel.DRUG and present:
            concept = store.get_node(mention.concept_id)
            if concept is not None:
                out.medications.append(_medication(mention.text, concept))

    for i, name in enumerate(case.medications):
        out.medications.append(_resolve_medication(store, name, f"medications[{i}]"))
    out.genes, out.unknown_genes = resolve_genes(store, case.genes)
    out.observations = sorted(chosen.values(), key=lambda o: (ORIGIN_RANK[o.origin], o.finding))
    return out


def _medication(given: str, concept: Concept | None) -> dict:
    return {"input": given, "id": concept.id if concept else None, "name": concept.name if concept else None}


def _phrase(store: GraphStore, label: str) -> str | None:
    """The graph finding an image label names through the finding phrases, if any."""
    finding = phrase_finding(label)
    return finding if finding is not None and store.get_node(finding) is not None else None


def _image_curie(store: GraphStore, label: str, where: str) -> str | None:
    """A finding CURIE given in place of an image label, or None when the label is no CURIE."""
    try:
        normalize_curie(label)
    except InvalidCurieError:
        return None
    try:
        concept = _concept(store, label, where)
    except InputError:
        return None
    if concept.label != NodeLabel.FINDING:
        raise InputError(f"{where}: {label!r} is a {concept.label}, not a finding")
    return concept.id


def _resolve_medication(store: GraphStore, given: str, where: str) -> dict:
    try:
        normalize_curie(given)
        is_curie = True
    except InvalidCurieError:
        is_curie = False
    if is_curie:
        concept = _concept(store, given, where)
        if concept.label != NodeLabel.DRUG:
            raise InputError(f"{where}: {given!r} is a {concept.label}, not a drug")
        return _medication(given, concept)
    drugs = store.find_by_name(given, label=NodeLabel.DRUG)
    return _medication(given, drugs[0] if len(drugs) == 1 else None)


def case_notes(resolved: ResolvedCase, tied_genes: list[ResolvedGene]) -> list[str]:
    """What the answer could not use (unknown image labels and genes, genes tied to no disease), and a ranking
    on genes alone."""
    notes = []
    if not resolved.observations and tied_genes:
        notes.append("no findings: ranked on the genotype alone, over the diseases tied to the reported genes")
    if resolved.unknown_image_labels:
        notes.append(f"image labels not recognised: {', '.join(resolved.unknown_image_labels)}")
    if resolved.unknown_genes:
        notes.append(f"genes not in the graph, not used: {', '.join(resolved.unknown_genes)}")
    untied = sorted({g.symbol for g in resolved.genes} - {g.symbol for g in tied_genes})
    if untied:
        notes.append(f"genes tied to no disease the ranking knows, so they change no score: {', '.join(untied)}")
    return notes


def nothing_to_rank(case: Case, resolved: ResolvedCase) -> str:
    """Why a case cannot be ranked: what it gave and why none of it counts."""
    parts = ["nothing to rank on: the case gives no finding the patient has or lacks"]
    if case.genes:
        parts[0] += " and no gene tied to a disease in the graph"
    if resolved.unknown_genes:
        parts.append(f"genes not in the graph: {', '.join(resolved.unknown_genes)}")
    if resolved.genes:
        parts.append(f"genes tied to no disease the ranking knows: {', '.join(g.symbol for g in resolved.genes)}")
    if case.text is not None and not case.text.strip():
        parts.append("its text is empty")
    elif case.text:
        parts.append(f"its text has {len(resolved.mentions)} mentions, none a present or negated finding")
    if resolved.not_used:
        reasons = sorted({str(item.get("reason")) for item in resolved.not_used})
        parts.append(f"not used: {'; '.join(reasons)}")
    if resolved.unknown_image_labels:
        parts.append(f"unknown image labels: {', '.join(resolved.unknown_image_labels)}")
    if resolved.known_conditions:
        parts.append("known conditions are context, not findings")
    return "; ".join(parts)
