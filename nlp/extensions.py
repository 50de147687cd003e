"""The custom attributes cdss components set on spaCy objects, registered in one place.

Span attributes describe a chosen mention; they live in `Doc.user_data`, so
they survive `Doc.to_bytes` and multiprocessing in `nlp.pipe`.

spaCy keys a span's extension values by its character offsets alone, so two
candidate spans over the same text (the dictionary's and the NER's) would
share them. Candidates therefore keep their link in a `Link` stored under
their own label; only the mentions finally chosen, which never overlap,
publish it as `span._.cdss_*`.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc, Span

SPAN_ATTRIBUTES = {
    "cdss_concept": None,  # CURIE of the linked concept, or None
    "cdss_type": None,  # Disease / Finding / Drug (or the NER label when unlinked)
    "cdss_method": None,  # dictionary / fuzzy / ner / measurement
    "cdss_confidence": 0.0,
    "cdss_alternates": (),  # other concepts the same text names
    "cdss_assertion": "present",
    "cdss_section": None,
    "cdss_expansion": None,  # long form of an abbreviation
    "cdss_long_form": None,  # (start, end) tokens of the definition of an abbreviation the text defines
}

# Span groups the components write, in pipeline order.
SECTIONS = "cdss_sections"
SECTION_HEADERS = "cdss_section_headers"
DICTIONARY = "cdss_dictionary"
ABBREVIATIONS = "cdss_abbreviations"
MEASUREMENTS = "cdss_measurements"
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


LINK_KEY = "cdss.link"


@dataclass(frozen=True, slots=True)
class Link:
    """What a candidate span names, and how it was found."""

    concept: str | None
    type: str | None
    method: str
    confidence: float
    alternates: tuple[str, ...] = ()


def _link_key(span: Span) -> tuple[str, str, int, int]:
    return (LINK_KEY, span.label_, span.start_char, span.end_char)


def set_candidate_link(span: Span, link: Link) -> None:
    span.doc.user_data[_link_key(span)] = (link.concept, link.type, link.method, link.confidence, link.alternates)


def candidate_link(span: Span) -> Link:
    """The link a component gave this candidate; an unlinked one of its own method if none."""
    stored = span.doc.user_data.get(_link_key(span))
    if stored is None:
        return Link(None, None, span.label_, 0.0)
    concept, type_, method, confidence, alternates = stored
    return Link(concept, type_, method, confidence, tuple(alternates))


def publish_link(span: Span, link: Link) -> None:
    """Make a chosen mention's link its `span._.cdss_*` attributes."""
    extension = span._
    extension.cdss_concept = link.concept
    extension.cdss_type = link.type
    extension.cdss_method = link.method
    extension.cdss_confidence = link.confidence
    extension.cdss_alternates = link.alternates


def register_extensions() -> None:
    for name, default in SPAN_ATTRIBUTES.items():
        if not Span.has_extension(name):
            Span.set_extension(name, default=default)


register_extensions()
