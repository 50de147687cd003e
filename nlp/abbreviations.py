"""Abbreviations: those a note defines itself ("community-acquired pneumonia (CAP)"),
found by scispaCy's AbbreviationDetector, and a curated list of clinical shorthand
(SOB, HTN, DM2...) kept as data. Each becomes a span whose expansion is used for linking;
a defined one also records where its definition is, so that every use of the
short form can mean what the definition means (see `nlp.mentions`).
"""

from __future__ import annotations

import re
import warnings

from scispacy.abbreviation import AbbreviationDetector
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from nlp.extensions import ABBREVIATIONS, doc_text
from nlp.resources import load_resource

LABEL = "abbreviation"
DEFINED = "defined"
# Schwartz-Hearst definitions always sit in parentheses; without one, the detector has nothing to do.
_PARENTHETICAL = re.compile(r"\([^()\n]{1,120}\)")


@Language.factory("cdss_abbreviations", assigns=["doc.spans"])
def make_abbreviations(nlp: Language, name: str) -> ClinicalAbbreviations:
    return ClinicalAbbreviations(nlp)


class ClinicalAbbreviations:
    def __init__(self, nlp: Language) -> None:
        self.detector = AbbreviationDetector(nlp)
        self.curated: dict[str, str] = load_resource("abbreviations.json")["abbreviations"]
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.matcher.add(LABEL, [nlp.make_doc(short) for short in self.curated])

    def __call__(self, doc: Doc) -> Doc:
        spans: dict[tuple[int, int], Span] = {}
        if _PARENTHETICAL.search(doc_text(doc)):
            with warnings.catch_warnings():
                # scispaCy runs a matcher that has no patterns when a note defines no abbreviation.
                warnings.filterwarnings("ignore", message=r"\[W036\]", category=UserWarning)
                self.detector(doc)
        for short in doc._.abbreviations:
            long_form = short._.long_form
            span = Span(doc, short.start, short.end, label=DEFINED)
            span._.cdss_expansion = long_form.text if isinstance(long_form, Span) else str(long_form)
            if isinstance(long_form, Span):
                span._.cdss_long_form = (long_form.start, long_form.end)
            spans[(span.start, span.end)] = span
        for _, start, end in self.matcher(doc):
            if (start, end) not in spans:
                span = Span(doc, start, end, label=LABEL)
                span._.cdss_expansion = self.curated[span.text]
                spans[(start, end)] = span
        doc.spans[ABBREVIATIONS] = [spans[k] for k in sorted(spans)]
        return doc
