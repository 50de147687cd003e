"""Statistical NER, when a model is present: our own (trained by `cdss nlp train`) or a
published scispaCy model the user has installed. Either way its entities become
`cdss_ner` spans typed Drug or Disease, to be linked by the dictionary or the fuzzy linker.
"""

from __future__ import annotations

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from cdss.errors import ConfigError
from nlp.extensions import NER, Link, doc_text, set_candidate_link

LABEL = "ner"
UNLINKED_CONFIDENCE = 0.5
# NER labels of the biomedical corpora -> the concept type they stand for.
TYPES = {"CHEMICAL": "Drug", "DRUG": "Drug", "DISEASE": "Disease", "FINDING": "Finding"}


def span_from_entity(
    doc: Doc, start_char: int, end_char: int, label: str, *, confidence: float = UNLINKED_CONFIDENCE
) -> Span | None:
    span = doc.char_span(start_char, end_char, label=LABEL, alignment_mode="expand")
    if span is None or not span.text.strip():
        return None
    set_candidate_link(span, Link(None, TYPES.get(label.upper(), label), "ner", confidence))
    return span


@Language.factory("cdss_ner_spans", assigns=["doc.spans"], default_config={"unlinked_confidence": UNLINKED_CONFIDENCE})
def make_ner_spans(nlp: Language, name: str, unlinked_confidence: float) -> NerSpans:
    return NerSpans(unlinked_confidence=unlinked_confidence)


class NerSpans:
    """Copies the entities of the pipeline's own `ner` component into `cdss_ner` spans."""

    def __init__(self, *, unlinked_confidence: float = UNLINKED_CONFIDENCE) -> None:
        """`unlinked_confidence`: what an entity counts for before a linker names its concept."""
        self.unlinked_confidence = unlinked_confidence

    def __call__(self, doc: Doc) -> Doc:
        confidence = self.unlinked_confidence
        spans = [span_from_entity(doc, e.start_char, e.end_char, e.label_, confidence=confidence) for e in doc.ents]
        doc.spans[NER] = [s for s in spans if s is not None]
        return doc


@Language.factory("cdss_published_ner", assigns=["doc.spans"], default_config={"model": ""})
def make_published_ner(nlp: Language, name: str, model: str) -> PublishedNer:
    return PublishedNer(model)


class PublishedNer:
    """Runs an installed scispaCy NER package (e.g. en_ner_bc5cdr_md) and adds its entities."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        self.model: Language | None = None

    def _load(self) -> None:
        if not self.model_name:
            raise ConfigError("cdss_published_ner needs a model name, e.g. en_ner_bc5cdr_md")
        if not spacy.util.is_package(self.model_name):
            raise ConfigError(
                f"the scispaCy model {self.model_name!r} is not installed; install it or unset CDSS_SCISPACY_MODEL"
            )
        self.model = spacy.load(self.model_name)

    def initialize(self, get_examples=None, *, nlp: Language | None = None) -> None:
        self._load()

    def __call__(self, doc: Doc) -> Doc:
        if self.model is None:
            self._load()
        spans = list(doc.spans.get(NER, []))
        for entity in self.model(doc_text(doc)).ents:
            span = span_from_entity(doc, entity.start_char, entity.end_char, entity.label_)
            if span is not None:
                spans.append(span)
        doc.spans[NER] = spans
        return doc
