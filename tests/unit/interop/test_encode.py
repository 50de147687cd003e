"""A case read from text, coded as an EHR would send it, reads back to the same findings."""

from __future__ import annotations

from datetime import date

import pytest

from cdss.types import Assertion, Mention, MentionMethod, NodeLabel
from interop.encode import bundle_for, structured_case
from interop.fhir_bundle import read_bundle
from interop.fhir_case import case_from_resources
from kg import open_store
from nlp.measurements import Patient
from tests.ranking_graph import write_ranking_graph

TODAY = date(2026, 11, 29)
TERMS = {"8310-5|H": ("HP:0001945", "LOINC2HPO")}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = open_store(str(write_ranking_graph(tmp_path_factory.mktemp("encode") / "graph.sqlite")))
    yield store
    store.close()


def _mention(text: str, concept: str, assertion: Assertion, measurement: dict | None = None) -> Mention:
    method = MentionMethod.MEASUREMENT if measurement else MentionMethod.DICTIONARY
    return Mention("", 0, len(text), text, concept, NodeLabel.FINDING, assertion, None, method, 1.0, measurement)


def test_the_bundle_reads_back_to_the_findings_the_json_case_states(store):
    text = "A 30-year-old woman. Temperature 38.9 C. Cough. No rash. Seizure."
    temperature = {"analyte": "temperature", "loinc": "8310-5", "value": 38.9, "unit": "°C"}
    mentions = [
        _mention("Temperature 38.9 C", "HP:0001945", Assertion.PRESENT, temperature),
        _mention("Cough", "HP:0012735", Assertion.PRESENT),
        _mention("rash", "HP:0000988", Assertion.NEGATED),
        _mention("Seizure", "HP:0001250", Assertion.PRESENT),
        _mention("seizure", "HP:0001250", Assertion.NEGATED),
    ]
    patient = Patient(age=30.4, sex="female")
    bundle = bundle_for(text, mentions, patient, store, today=TODAY)
    codings = [
        e["resource"]["code"]["coding"][0] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    assert {c["system"] for c in codings} == {"http://loinc.org", "http://snomed.info/sct"}
    read = case_from_resources(read_bundle(bundle), store, terms=TERMS, today=TODAY)
    stated = structured_case(text, mentions, patient)
    assert (read.case.present, read.case.absent) == (stated.present, stated.absent)
    assert (read.case.age, read.case.sex, read.case.text) == (stated.age, stated.sex, text) == (30.0, "female", text)
    assert "HP:0001250" not in {f.id for f in stated.present + stated.absent}, "stated both ways: left to the text"


def test_an_infant_keeps_months_of_age(store):
    bundle = bundle_for("A 6-month-old.", [], Patient(age=0.5), store, today=TODAY)
    read = case_from_resources(read_bundle(bundle), store, terms=TERMS, today=TODAY)
    assert read.case.age == pytest.approx(0.5, abs=0.01)
