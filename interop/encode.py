"""A case read from text, coded as an EHR would send it: a FHIR Bundle with SNOMED CT and LOINC codes.

For measuring the FHIR path on cases somebody else wrote: the same vignette, sent once as text plus structured
findings (HPO ids) and once as a Bundle (the note as a DocumentReference, each finding an Observation coded in
SNOMED CT where the graph cross-references one, else HPO; each measured value a LOINC Observation with its
quantity), should rank the same.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import date, timedelta

from cdss.types import Assertion, Mention, MentionMethod, NodeLabel
from interop.fhir_codes import concept_coding
from kg.lookup import resolve
from kg.store import GraphStore
from nlp.measurements import Patient
from ranking.case import Case, StatedFinding

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NO = {"coding": [{"system": SNOMED, "code": "373067005", "display": "No"}]}
UCUM_OF = {"°C": "Cel", "°F": "[degF]"}
"""Our unit keys that UCUM spells otherwise; the rest of analytes.tsv's units are UCUM codes already."""
SYSTOLIC, DIASTOLIC = "8480-6", "8462-4"


def stated_findings(mentions: Sequence[Mention]) -> tuple[dict[str, Mention], dict[str, Mention]]:
    """Finding id -> the mention stating it present, and absent; a finding stated both ways is in neither."""
    present: dict[str, Mention] = {}
    absent: dict[str, Mention] = {}
    for m in mentions:
        if m.concept_id is None or m.concept_type != NodeLabel.FINDING:
            continue
        if m.assertion == Assertion.PRESENT:
            present.setdefault(m.concept_id, m)
        elif m.assertion == Assertion.NEGATED:
            absent.setdefault(m.concept_id, m)
    both = present.keys() & absent.keys()
    return {k: v for k, v in present.items() if k not in both}, {k: v for k, v in absent.items() if k not in both}


def structured_case(text: str, mentions: Sequence[Mention], patient: Patient, case_id: str = "") -> Case:
    """The case as JSON would send it: the text, and its findings as HPO ids."""
    present, absent = stated_findings(mentions)
    return Case(
        id=case_id,
        text=text,
        present=tuple(StatedFinding(f) for f in sorted(present)),
        absent=tuple(StatedFinding(f) for f in sorted(absent)),
        age=_whole_age(patient.age),
        sex=patient.sex,
    )


def _whole_age(age: float | None) -> float | None:
    """Years as a FHIR birthDate gives them back: whole from two years on, to the day below."""
    if age is None:
        return None
    return float(int(age)) if age >= 2 else age


def _snomed(store: GraphStore, finding: str) -> str | None:
    """A SNOMED CT code the graph cross-references to this finding alone (so it maps back to it)."""
    node = store.get_node(finding)
    for xref in node.xrefs if node is not None else ():
        if xref.startswith("SNOMEDCT:") and [c.id for c, _ in resolve(store, xref)] == [finding]:
            return xref.split(":", 1)[1]
    return None


def _finding_observation(store: GraphStore, i: int, finding: str, name: str, *, present: bool) -> dict:
    code = _snomed(store, finding)
    coding = {"system": SNOMED, "code": code} if code else concept_coding(finding)
    observation = {
        "resourceType": "Observation",
        "id": f"finding-{i}",
        "status": "final",
        "code": {"coding": [{**coding, "display": name}] if coding else [], "text": name},
    }
    return observation if present else {**observation, "valueCodeableConcept": NO}


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": UCUM_OF.get(unit, unit)}


def _value_observation(i: int, measured: dict) -> dict:
    observation = {
        "resourceType": "Observation",
        "id": f"value-{i}",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": measured["loinc"]}], "text": measured["analyte"]},
    }
    value, unit = measured["value"], measured["unit"]
    if isinstance(value, str) and "/" in value:
        systolic, diastolic = (float(v) for v in value.split("/"))
        parts = ((SYSTOLIC, systolic), (DIASTOLIC, diastolic))
        components = [
            {"code": {"coding": [{"system": LOINC, "code": c}]}, "valueQuantity": _quantity(v, unit)} for c, v in parts
        ]
        return {**observation, "component": components}
    return {**observation, "valueQuantity": _quantity(float(value), unit)}


def _birth_date(age: float, today: date) -> str:
    if age >= 2:
        return date(today.year - int(age), today.month, min(today.day, 28)).isoformat()
    return (today - timedelta(days=round(age * 365.25))).isoformat()


def bundle_for(text: str, mentions: Sequence[Mention], patient: Patient, store: GraphStore, *, today: date) -> dict:
    """The Bundle an EHR would send for this case (FHIR JSON)."""
    resources: list[dict] = []
    person: dict = {"resourceType": "Patient", "id": "patient"}
    if patient.sex:
        person["gender"] = patient.sex
    if patient.age is not None:
        person["birthDate"] = _birth_date(patient.age, today)
    resources.append(person)
    note = base64.b64encode(text.encode("utf-8")).decode("ascii")
    resources.append(
        {
            "resourceType": "DocumentReference",
            "id": "note",
            "status": "current",
            "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": note}}],
        }
    )
    present, absent = stated_findings(mentions)
    stated = sorted([(f, m, True) for f, m in present.items()] + [(f, m, False) for f, m in absent.items()])
    for i, (finding, mention, is_present) in enumerate(stated):
        if mention.method == MentionMethod.MEASUREMENT and mention.measurement and mention.measurement.get("value"):
            resources.append(_value_observation(i, mention.measurement))
        else:
            node = store.get_node(finding)
            resources.append(
                _finding_observation(store, i, finding, node.name if node else finding, present=is_present)
            )
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
