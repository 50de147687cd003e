"""The clinical NLP pipeline, component by component and whole, on the tiny graph."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span

from cdss.errors import InputError
from cdss.types import Assertion, Concept, MentionMethod, NodeLabel
from kg import open_store
from nlp import build_pipeline, extract_mentions, pipeline_version
from nlp.context import SpanAsserter
from nlp.extensions import DICTIONARY, MENTIONS, NER, Link, set_candidate_link
from nlp.fuzzy import osa_distance
from nlp.mentions import MentionResolver
from nlp.pipeline import PIPELINE_REVISION
from nlp.sections import section_at
from nlp.sentences import SentenceIndex
from nlp.terms import build_term_table, plural
from nlp.tokenizer import blank_pipeline

TRAPS = Path(__file__).parents[2] / "data" / "assertion_traps.jsonl"
LIMIT = 100_000


def mentions_of(nlp, text):
    return [(m.text, m.concept_id, m.assertion.value) for m in extract_mentions(nlp, text, max_chars=LIMIT)]


def test_sentences_survive_vitals_lists_and_wrapped_lines():
    nlp = blank_pipeline()
    nlp.add_pipe("cdss_sentences")
    doc = nlp("HPI: cough,\nfevers and chills. BP 140/90. HR 88.\n- no vomiting\n1. asthma\nDr. Smith agreed.")
    assert [s.text.strip() for s in doc.sents] == [
        "HPI: cough,\nfevers and chills.",
        "BP 140/90.",
        "HR 88.",
        "- no vomiting",
        "1. asthma",
        "Dr. Smith agreed.",
    ]


def test_sections_are_found_at_line_starts():
    nlp = blank_pipeline()
    nlp.add_pipe("cdss_sentences")
    nlp.add_pipe("cdss_sections")
    doc = nlp("CHIEF COMPLAINT\nCough.\nFamily History: mother had asthma.\nPMH: HTN\nHistory of stroke.")
    sections = [(s.label_, s.text.split("\n")[0]) for s in doc.spans["cdss_sections"]]
    assert sections == [
        ("chief_complaint", "CHIEF COMPLAINT"),
        ("family_history", "Family History: mother had asthma."),
        ("past_medical_history", "PMH: HTN"),
    ]
    assert section_at(doc, 0) == "chief_complaint"
    stroke = next(t for t in doc if t.text == "stroke")
    assert section_at(doc, stroke.i) == "past_medical_history"


def test_term_table_ranks_and_guards_terms():
    nlp = blank_pipeline()
    concepts = [
        Concept("HP:1", NodeLabel.FINDING, "Pneumonia", ("Lung infection",)),
        Concept("DOID:1", NodeLabel.DISEASE, "pneumonia"),
        Concept("ICD10CM:R1", NodeLabel.FINDING, "Shortness of breath"),
        Concept("HP:2", NodeLabel.FINDING, "Dyspnea", ("Shortness of breath", "SOB")),
        Concept("DOID:2", NodeLabel.DISEASE, "multiple sclerosis", ("MS",)),
        Concept("HP:3", NodeLabel.FINDING, "Low-grade fever", ("All",)),
        Concept("DRUGBANK:DB1", NodeLabel.DRUG, "Aspirin"),
    ]
    table = build_term_table(
        concepts,
        lambda texts: ([t.text for t in d] for d in nlp.tokenizer.pipe(texts)),
        denied=["lung infection"],
        prefix_order={"Finding": ("HP", "SYMP", "ICD10CM")},
    )
    assert [h.concept.id for h in table.lookup("pneumonia")] == ["DOID:1", "HP:1"]
    # Within a label the curated vocabulary wins even over an exact name elsewhere.
    assert [h.concept.id for h in table.lookup("shortness of breath")] == ["HP:2", "ICD10CM:R1"]
    assert table.lookup("ms") == [] and [h.concept.id for h in table.lookup("MS", case_sensitive=True)] == ["DOID:2"]
    assert table.lookup("all") == [] and table.lookup("lung infection") == []
    # Keys are tokens joined by spaces; the tokenizer splits "low-grade" at its hyphen.
    assert table.lookup("low grade fever") and table.lookup("low - grade fever") and table.lookup("low - grade fevers")
    # Plurals for diseases and findings, not for drugs nor for Latin-looking endings.
    assert table.lookup("low grade fevers") and not table.lookup("pneumonias") and not table.lookup("aspirins")


def test_plural():
    assert [plural(w) for w in ("fever", "Allergy", "chest pain", "pneumonia", "HTN", "seizures", "a b c d")] == [
        "fevers",
        "Allergies",
        "chest pains",
        None,
        None,
        None,
        None,
    ]


def test_edit_distance_counts_a_transposition_once():
    assert osa_distance("pnuemonia", "pneumonia") == 1
    assert osa_distance("fever", "fever") == 0
    assert osa_distance("", "abc") == 3


def test_dictionary_links_with_assertion_and_section(pipeline):
    text = "HPI: No fever. Patient has pneumonia and a cough; takes amoxicillin.\nFamily History: seizures."
    mentions = extract_mentions(pipeline, text, record_id="r1", max_chars=LIMIT)
    found = {(m.text, m.concept_id, m.assertion.value, m.section, m.method.value) for m in mentions}
    assert found == {
        ("fever", "HP:0001945", "negated", "history_of_present_illness", "dictionary"),
        ("pneumonia", "DOID:552", "present", "history_of_present_illness", "dictionary"),
        ("cough", "HP:0012735", "present", "history_of_present_illness", "dictionary"),
        ("amoxicillin", "DRUGBANK:DB01060", "present", "history_of_present_illness", "dictionary"),
        ("seizures", "HP:0001250", "family", "family_history", "dictionary"),
    }
    for m in mentions:
        assert text[m.start : m.end] == m.text and m.record_id == "r1"
        assert m.concept_type in (NodeLabel.DISEASE, NodeLabel.FINDING, NodeLabel.DRUG)


def test_sentence_index_gives_each_token_its_sentence_bounds():
    nlp = blank_pipeline()
    nlp.add_pipe("cdss_sentences")
    doc = nlp("BP 140/90. HR 88.\n- no vomiting")
    index = SentenceIndex(doc)
    assert [index.bounds(t.i) for t in doc] == [(t.sent.start, t.sent.end) for t in doc]


def test_curated_abbreviations_and_defined_ones_link_through_their_expansion(pipeline):
    found = mentions_of(pipeline, "Seen for CAP. Earlier, cystic fibrosis (CF) was diagnosed; CF is stable.")
    assert ("CF", "DOID:1485", "present") in found
    assert sum(1 for t, c, _ in found if c == "DOID:1485") == 3


def test_misspellings_are_linked_by_the_fuzzy_linker(pipeline):
    mentions = extract_mentions(pipeline, "Three days of pnuemonia and amoxicilin.", max_chars=LIMIT)
    fuzzy = {(m.text, m.concept_id) for m in mentions if m.method == MentionMethod.FUZZY}
    assert fuzzy == {("pnuemonia", "DOID:552"), ("amoxicilin", "DRUGBANK:DB01060")}
    assert all(0.8 <= m.confidence < 1 for m in mentions if m.method == MentionMethod.FUZZY)


def test_fuzzy_windows_spell_out_multiword_names_and_single_words_need_edit_similarity(tmp_path):
    store = open_store(str(tmp_path / "fuzzy.sqlite"), create=True)
    store.upsert_nodes(
        [
            Concept("HP:0005110", NodeLabel.FINDING, "Atrial fibrillation"),
            Concept("DRUGBANK:DB14337", NodeLabel.DRUG, "Salvia miltiorrhiza root"),
        ]
    )
    store.set_meta({"graph_version": "test"})
    nlp = build_pipeline(store)
    found = extract_mentions(nlp, "Known atrial fibrilation. The miltiorrhizza was stopped.", max_chars=LIMIT)
    assert [(m.text, m.concept_id, m.method) for m in found] == [
        ("atrial fibrilation", "HP:0005110", MentionMethod.FUZZY)
    ]


def test_batched_fuzzy_linking_matches_one_note_at_a_time(pipeline):
    notes = ["Three days of pnuemonia.", "No fever.", "Started amoxicilin for pnuemonia."] * 3

    def linked(doc):
        return [(s.start, s.end, s._.cdss_concept) for s in doc.spans[MENTIONS]]

    one_by_one = [linked(pipeline(n)) for n in notes]
    batched = [linked(doc) for doc in pipeline.pipe(notes)]
    assert batched == one_by_one
    assert one_by_one[2][-1][2] == "DOID:552"


def test_overlaps_resolve_to_the_longest_span(pipeline):
    doc = pipeline("Focal-onset seizure today.")
    assert [(s.text, s._.cdss_concept) for s in doc.spans[MENTIONS]] == [("Focal-onset seizure", "HP:0007359")]


def test_a_section_header_is_not_a_mention(tmp_path):
    store = open_store(str(tmp_path / "headers.sqlite"), create=True)
    store.upsert_nodes(
        [
            Concept("HP:0032316", NodeLabel.FINDING, "Family history"),
            Concept("HP:0001945", NodeLabel.FINDING, "Fever"),
        ]
    )
    store.set_meta({"graph_version": "test"})
    nlp = build_pipeline(store)
    assert mentions_of(nlp, "Family History:\nfever.") == [("fever", "HP:0001945", "family")]
    # "family history" is a context trigger (term_denylist.json), not a finding of the patient.
    assert mentions_of(nlp, "She reports a family history of fever.") == [("fever", "HP:0001945", "family")]


def _traps():
    """The assertion traps; spans that also name a concept are judged through the whole pipeline over the real
    graph (tests/integration/test_nlp_real_graph.py)."""
    cases = [json.loads(line) for line in TRAPS.read_text().splitlines()]
    return [
        c | {"spans": [s for s in c["spans"] if len(s) == 3]} for c in cases if any(len(s) == 3 for s in c["spans"])
    ]


@pytest.mark.parametrize("case", _traps(), ids=lambda c: c["id"])
def test_assertion_traps(case):
    spans = [(s, e) for s, e, _ in case["spans"]]
    got = [a.value for a in SpanAsserter()(case["text"], spans)]
    assert got == [expected for *_, expected in case["spans"]]


def test_assertion_of_a_span_outside_the_text_is_an_input_error():
    with pytest.raises(InputError, match=r"span \[5, 50\] is outside the text"):
        SpanAsserter()("No fever.", [(5, 50)])


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("x" * (LIMIT + 1), "text is 100,001 characters; the limit is 100,000 (CDSS_MAX_TEXT_CHARS)"),
        (b"bytes", "text must be a string, got bytes"),
    ],
)
def test_bad_text_is_refused_clearly(pipeline, text, error):
    with pytest.raises(InputError) as info:
        extract_mentions(pipeline, text, max_chars=LIMIT)
    assert str(info.value) == error


def test_empty_and_control_character_text_is_safe(pipeline):
    assert extract_mentions(pipeline, "", max_chars=LIMIT) == []
    assert extract_mentions(pipeline, "   \n\t ", max_chars=LIMIT) == []
    # Whitespace-only records reach the pipeline as documents of space tokens when ingested in batches.
    from nlp.mentions import doc_mentions
    from nlp.pipeline import annotate

    docs = list(annotate(pipeline, ["\r", " \n", "\r\n", "fever"], max_chars=LIMIT))
    assert [len(doc_mentions(d, "r")) for d in docs] == [0, 0, 0, 1]
    text = "No\x00 fever\x07 but\x1b cough."
    mentions = extract_mentions(pipeline, text, max_chars=LIMIT)
    assert [(text[m.start : m.end], m.assertion) for m in mentions] == [
        ("fever", Assertion.NEGATED),
        ("cough", Assertion.PRESENT),
    ]


def test_saved_pipeline_reloads_with_spacy_load_alone(pipeline, tmp_path):
    path = tmp_path / "pipeline"
    pipeline.to_disk(path)
    script = (
        "import spacy, json, sys\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "doc = nlp('No fever; pneumonia.')\n"
        "print(json.dumps([[s.text, s._.cdss_concept, s._.cdss_assertion] for s in doc.spans['cdss_mentions']]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [["fever", "HP:0001945", "negated"], ["pneumonia", "DOID:552", "present"]]
    assert spacy.load(path).meta["cdss"] == pipeline.meta["cdss"]
    assert pipeline_version(pipeline).startswith(f"cdss_clinical-{PIPELINE_REVISION}-")


def test_component_settings_live_in_the_pipeline_config_and_can_be_overridden(pipeline, tmp_path):
    assert pipeline.config["components"]["cdss_concept_matcher"]["synonym_confidence"] == 0.95
    assert pipeline.config["components"]["cdss_mentions"]["abbreviation_discount"] == 0.9
    path = tmp_path / "pipeline"
    pipeline.to_disk(path)
    overrides = {"cdss_concept_matcher": {"name_confidence": 0.7, "abbreviation_confidence": 0.4}}
    tuned = spacy.load(path, config={"components": overrides})
    text = "Cystic fibrosis (CF) was diagnosed; fever."

    def confidences(nlp):
        return {m.text: m.confidence for m in extract_mentions(nlp, text, max_chars=LIMIT)}

    default, changed = confidences(pipeline), confidences(tuned)
    assert (default["fever"], changed["fever"]) == (1.0, 0.7)
    assert (default["CF"], changed["CF"]) == (0.9, 0.4)


def _doc_with_candidates(text, candidates, resolver=None):
    """A note run through the rule components, with hand-made candidate spans (group, start, end, link)."""
    nlp = blank_pipeline()
    for name in ("cdss_sentences", "cdss_sections", "cdss_abbreviations"):
        nlp.add_pipe(name)
    doc = nlp(text)
    groups = {}
    for group, start, end, link in candidates:
        span = Span(doc, start, end, label=link.method)
        set_candidate_link(span, link)
        groups.setdefault(group, []).append(span)
    for group, spans in groups.items():
        doc.spans[group] = spans
    return (resolver or MentionResolver())(doc)


def test_candidates_over_the_same_text_keep_their_own_links():
    drug = Link("DRUGBANK:DB01362", "Drug", "dictionary", 1.0)
    doc = _doc_with_candidates(
        "Iohexol was given.", [(DICTIONARY, 0, 1, drug), (NER, 0, 1, Link(None, "Disease", "ner", 0.5))]
    )
    assert [(s.text, s._.cdss_concept, s._.cdss_type, s._.cdss_method) for s in doc.spans[MENTIONS]] == [
        ("Iohexol", "DRUGBANK:DB01362", "Drug", "dictionary")
    ]


def test_a_defined_abbreviation_means_what_its_definition_means():
    text = "Hormone therapy (HT) was stopped. Acute kidney injury (AKI) followed HT. AKI resolved."
    unlinked = Link(None, "Disease", "ner", 0.5)
    aki = Link("HP:0001919", "Finding", "dictionary", 1.0)
    # Tokens 3 and 15 are "HT", 12 and 17 "AKI", 8-10 "Acute kidney injury".
    candidates = [(NER, 3, 4, unlinked), (NER, 15, 16, unlinked), (NER, 12, 13, unlinked), (DICTIONARY, 8, 11, aki)]
    doc = _doc_with_candidates(text, candidates)
    found = [(s.text, s._.cdss_concept, s._.cdss_confidence) for s in doc.spans[MENTIONS]]
    assert found == [("Acute kidney injury", "HP:0001919", 1.0), ("AKI", "HP:0001919", 0.9), ("AKI", "HP:0001919", 0.9)]
    halved = _doc_with_candidates(text, candidates, MentionResolver(abbreviation_discount=0.5))
    assert [s._.cdss_confidence for s in halved.spans[MENTIONS]] == [1.0, 0.5, 0.5]


def test_a_gene_symbol_is_not_the_disease_named_after_it():
    vhl = Link("DOID:14175", "Disease", "dictionary", 1.0)
    text = "VHL gene mutations cause tumors. The patient has VHL."
    # Tokens 0 and 10 are "VHL".
    doc = _doc_with_candidates(text, [(DICTIONARY, 0, 1, vhl), (DICTIONARY, 10, 11, vhl)])
    assert [(s.start, s._.cdss_concept) for s in doc.spans[MENTIONS]] == [(10, "DOID:14175")]
    knockout = _doc_with_candidates("ATM-/- mice", [(DICTIONARY, 0, 1, Link("DOID:12704", "Disease", "ner", 0.6))])
    assert list(knockout.spans[MENTIONS]) == []
