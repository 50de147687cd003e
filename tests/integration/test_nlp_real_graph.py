"""The NLP pipeline over the graph built from every source, on a real-looking note and real corpora."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp import extract_mentions
from nlp.corpora import read_pubtator
from nlp.evaluate import evaluate
from nlp.traps import judge_with_pipeline, read_traps
from tests.integration.conftest import MIRROR

pytestmark = pytest.mark.integration

NOTE = (
    "HPI: 67 year old with three days of fever, productive cough and shortness of breath. "
    "Denies chest pain. No hemoptysis.\n"
    "PMH: HTN, DM2. History of stroke in 2010.\n"
    "Family history: mother had breast cancer.\n"
    "Medications: metformin, lisinopril.\n"
    "Assessment: community-acquired pneumonia (CAP). Rule out pulmonary embolism.\n"
    "Plan: start amoxicilin; return if chest pain develops."
)


@pytest.fixture(scope="module")
def pipeline(real_pipeline):
    return real_pipeline


def test_a_clinical_note_gives_linked_asserted_mentions(pipeline):
    _, nlp, settings = pipeline
    found = {
        (m.text, m.concept_id, m.assertion.value, m.method.value)
        for m in extract_mentions(nlp, NOTE, max_chars=settings.max_text_chars)
    }
    assert {
        ("fever", "HP:0001945", "present", "dictionary"),
        ("chest pain", "HP:0100749", "negated", "dictionary"),
        ("hemoptysis", "HP:0002105", "negated", "dictionary"),
        ("HTN", "DOID:10763", "historical", "dictionary"),
        ("stroke", "DOID:0051061", "historical", "dictionary"),
        ("breast cancer", "DOID:1612", "family", "dictionary"),
        ("metformin", "DRUGBANK:DB00331", "present", "dictionary"),
        ("CAP", "DOID:552", "present", "dictionary"),
        ("pulmonary embolism", "DOID:9477", "possible", "dictionary"),
        ("amoxicilin", "DRUGBANK:DB01060", "present", "fuzzy"),
        ("chest pain", "HP:0100749", "hypothetical", "dictionary"),
    } <= found


def test_dictionary_and_fuzzy_matching_holds_its_f1_on_bc5cdr_test_abstracts(pipeline):
    store, nlp, settings = pipeline
    documents = read_pubtator(Path(MIRROR / "bc5cdr" / "CDR_TestSet.PubTator.txt"))[:100]
    report = evaluate(nlp, documents, max_chars=settings.max_text_chars, store=store).to_dict()
    # These 100 abstracts score 0.78 (Chemical), 0.73 (Disease) and 0.78 linking accuracy this way.
    assert report["exact"]["Chemical"]["f1"] >= 0.74
    assert report["exact"]["Disease"]["f1"] >= 0.69
    assert report["linking"]["accuracy"] >= 0.74


def test_every_trap_is_right_through_the_whole_pipeline(pipeline):
    """Assertions, concepts and measurements: the issue's rows (vital signs, ECG and X-ray phrases, lay words,
    "photophobia") and our own, with LOINC2HPO fetched as `cdss data fetch` does."""
    _, nlp, settings = pipeline
    traps = list(read_traps(Path(__file__).parents[1] / "data" / "assertion_traps.jsonl"))
    report = judge_with_pipeline(traps, lambda text: extract_mentions(nlp, text, max_chars=settings.max_text_chars))
    assert report["wrong"] == [] and report["judged"] >= 150
    assert sum(len(t.concept_spans) for t in traps) >= 50
