"""The custom attributes cdss components set on spaCy objects, registered in one place.

Span attributes describe a concept mention; they live in `Doc.user_data`, so
they survive `Doc.to_bytes` and multiprocessing in `nlp.pipe`.
"""

from __future__ import annotations

from spacy.tokens import Doc, Span

SPAN_ATTRIBUTES = {
    "cdss_concept": None,  # CURIE of the linked concept, or None
    "cdss_type": None,  # Disease / Finding / Drug (or the NER label when unlinked)
    "cdss_method": None,  # dictionary / fuzzy / ner
    "cdss_confidence": 0.0,
    "cdss_alternates": (),  # other concepts the same text names
    "cdss_assertion": "present",
    "cdss_section": None,
    "cdss_expansion": None,  # long form of an abbreviation
}

# Span groups the components write, in pipeline order.
SECTIONS = "cdss_sections"
SECTION_HEADERS = "cdss_section_headers"
DICTIONARY = "cdss_dictionary"
ABBREVIATIONS = "cdss_abbreviations"
FUZZY = "cdss_fuzzy"
NER = "cdss_ner"
MENTIONS = "cdss_mentions"
TRIGGERS = "cdss_context_triggers"
TEXT_KEY = "cdss.text"


def doc_text(doc: Doc) -> str:
    """The document's text, computed once: spaCy rebuilds `Doc.text` from every token on each read."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text
    return text


def register_extensions() -> None:
    for name, default in SPAN_ATTRIBUTES.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)


register_extensions()
