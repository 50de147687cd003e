"""FHIR resources become a Case: codes through the graph's cross-references, values through reference ranges,
and every resource either used (as what) or listed as not used (and why)."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from interop.fhir_bundle import read_bundle
from interop.fhir_case import case_from_resources
from kg import open_store
from tests.ranking_graph import write_ranking_graph

SNOMED, LOINC, RXNORM = "http://snomed.info/sct", "http://loinc.org", "http://www.nlm.nih.gov/research/umls/rxnorm"
TERMS = {"8310-5|H": ("HP:0001945", "LOINC2HPO"), "8310-5|N": ("HP:0001945", "LOINC2HPO")}
TODAY = date(2026, 11, 29)
SUBJECT = {"reference": "Patient/p1"}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = open_store(str(write_ranking_graph(tmp_path_factory.mktemp("fhir") / "graph.sqlite")))
    yield store
    store.close()


def _coded(system: str, code: str, display: str = "") -> dict:
    return {"coding": [{"system": system, "code": code, **({"display": display} if display else {})}]}


def _obs(i: str, code: dict, **value) -> dict:
    return {"resourceType": "Observation", "id": i, "status": "final", "code": code, **value}


def _read(store, *resources: dict):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    return case_from_resources(read_bundle(bundle), store, terms=TERMS, today=TODAY)


def test_patient_encounter_and_coded_findings_make_the_case(store):
    read = _read(
        store,
        {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1980-12-01"},
        {"resourceType": "Encounter", "id": "e1", "status": "in-progress", "class": {"code": "EMER"}},
        _obs("o1", _coded(SNOMED, "49727002", "Cough")),
        _obs("o2", _coded(SNOMED, "271807003"), valueCodeableConcept=_coded(SNOMED, "373067005", "No")),
        _obs("o3", _coded(SNOMED, "267036007"), valueBoolean=False),
        _obs(
            "o4", {"text": "Symptom"}, valueCodeableConcept=_coded("http://human-phenotype-ontology.org", "HP:0001250")
        ),
    )
    case = read.case
    assert (case.age, case.sex, case.setting) == (45.0, "male", "ed")
    assert {f.id for f in case.present} == {"HP:0012735", "HP:0001250"}
    assert {f.id for f in case.absent} == {"HP:0000988", "HP:0002094"}
    roles = {u["resource"]: u["as"] for u in read.used}
    assert roles["Observation/o2"] == "finding absent" and roles["Encounter/e1"] == "care setting"
    assert read.not_used == []


def test_a_loinc_value_is_read_against_its_range_and_a_blood_pressure_panel_counts_once(store):
    high = _obs("t1", _coded(LOINC, "8310-5"), valueQuantity={"value": 38.9, "code": "Cel"})
    normal = _obs("t2", _coded(LOINC, "8310-5"), valueQuantity={"value": 98.6, "code": "[degF]"})
    impossible = _obs("t3", _coded(LOINC, "8310-5"), valueQuantity={"value": 380, "code": "Cel"})
    pressure = _obs(
        "bp",
        _coded(LOINC, "85354-9"),
        component=[
            {"code": _coded(LOINC, "8480-6"), "valueQuantity": {"value": 150, "code": "mm[Hg]"}},
            {"code": _coded(LOINC, "8462-4"), "valueQuantity": {"value": 95, "code": "mm[Hg]"}},
        ],
    )
    unknown = _obs("u1", _coded(LOINC, "99999-9"), valueQuantity={"value": 1, "code": "mg"})
    read = _read(store, high, impossible, pressure, unknown)
    assert [f.id for f in read.case.present] == ["HP:0001945"]
    used = {u["resource"]: u for u in read.used}
    assert "38.9 °C is high against" in used["Observation/t1"]["via"]
    reasons = {n["resource"]: n["reason"] for n in read.not_used}
    assert "not a possible temperature value" in reasons["Observation/t3"]
    assert reasons["Observation/bp"] == "no finding for a high blood_pressure"
    assert reasons["Observation/u1"] == "LOINC 99999-9 is not an analyte cdss reads values of"
    assert [f.id for f in _read(store, normal).case.absent] == ["HP:0001945"]


def test_conditions_follow_their_statuses(store):
    def condition(i: str, code: str, **status) -> dict:
        return {"resourceType": "Condition", "id": i, "subject": SUBJECT, "code": _coded(SNOMED, code), **status}

    def coded_status(kind: str, code: str) -> dict:
        return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/condition-{kind}", "code": code}]}

    read = _read(
        store,
        condition("c1", "84757009"),
        condition("c2", "49727002", verificationStatus=coded_status("ver-status", "refuted")),
        condition("c3", "386661006", clinicalStatus=coded_status("clinical", "resolved")),
        condition("c4", "386661006", verificationStatus=coded_status("ver-status", "provisional")),
        condition("c5", "999999999"),
    )
    assert [f.id for f in read.case.present] == ["OMIM:100002"]
    assert [f.id for f in read.case.absent] == ["HP:0012735"]
    reasons = {n["resource"]: n["reason"] for n in read.not_used}
    assert reasons["Condition/c3"] == "clinicalStatus resolved: not a current condition"
    assert reasons["Condition/c4"] == "verificationStatus provisional: not a confirmed condition"
    assert reasons["Condition/c5"].startswith("none of its codes is in the graph")


def test_medications_allergies_notes_and_reports(store):
    note = base64.b64encode(b"No fever. Three days of cough.").decode()
    read = _read(
        store,
        {"resourceType": "Medication", "id": "med1", "code": _coded(RXNORM, "18631")},
        {
            "resourceType": "MedicationStatement",
            "id": "m1",
            "status": "active",
            "subject": SUBJECT,
            "medicationCodeableConcept": {"text": "Doxycycline 100 mg capsule"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "m2",
            "status": "active",
            "intent": "order",
            "subject": SUBJECT,
            "medicationReference": {"reference": "Medication/med1"},
        },
        {
            "resourceType": "MedicationStatement",
            "id": "m3",
            "status": "stopped",
            "subject": SUBJECT,
            "medicationCodeableConcept": _coded(RXNORM, "723"),
        },
        {"resourceType": "AllergyIntolerance", "id": "a1", "patient": SUBJECT, "code": _coded(RXNORM, "723")},
        {
            "resourceType": "DocumentReference",
            "id": "d1",
            "status": "current",
            "content": [
                {"attachment": {"contentType": "text/plain", "data": note}},
                {"attachment": {"contentType": "application/pdf", "url": "http://x/y.pdf"}},
            ],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "r1",
            "status": "final",
            "code": {"text": "CXR"},
            "conclusion": "Right lower lobe consolidation.",
            "conclusionCode": [_coded(SNOMED, "267036007")],
        },
        {
            "resourceType": "Immunization",
            "id": "i1",
            "status": "completed",
            "vaccineCode": {"text": "flu"},
            "patient": SUBJECT,
            "occurrenceDateTime": "2020-01-01",
        },
    )
    case = read.case
    assert case.medications == ("DRUGBANK:DB00254", "DRUGBANK:DB00207")
    assert case.allergies == ("DRUGBANK:DB01060",)
    assert case.text == "No fever. Three days of cough.\n\nRight lower lobe consolidation."
    assert [f.id for f in case.present] == ["HP:0002094"]
    reasons = {n["resource"]: n["reason"] for n in read.not_used}
    assert reasons["MedicationStatement/m3"] == "status stopped: not a current medication"
    assert "URLs are not fetched" in reasons["DocumentReference/d1.content[1]"]
    assert reasons["Immunization/i1"] == "cdss does not read Immunization resources"


def test_a_gene_named_by_an_observation_is_no_finding(store):
    read = _read(store, _obs("g1", {"text": "FBN1"}))
    assert read.case.present == () and read.case.absent == ()
    assert read.not_used == [
        {"resource": "Observation/g1", "concept": "NCBIGene:2200", "reason": "a Gene is not a finding or condition"}
    ]
