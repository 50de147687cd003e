"""The `cdss_deid` spaCy component: Safe Harbor identifiers as `doc.spans["phi"]`, labelled by type.

It holds no state, so a saved pipeline reloads it from the factory alone.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from deid.detect import find_phi

SPANS_KEY = "phi"


class DeidComponent:
    def __init__(self, nlp: Language, name: str, *, spans_key: str = SPANS_KEY) -> None:
        self.name = name
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for found in find_phi(doc.text):
            span = doc.char_span(found.start, found.end, label=found.type.value, alignment_mode="expand")
            if span is not None:
                spans.append(Span(doc, span.start, span.end, label=found.type.value))
        doc.spans[self.spans_key] = spans
        return doc


@Language.factory("cdss_deid", default_config={"spans_key": SPANS_KEY}, assigns=["doc.spans"])
def make_deid(nlp: Language, name: str, spans_key: str) -> DeidComponent:
    return DeidComponent(nlp, name, spans_key=spans_key)
