"""Dictionary matching of every name and synonym in the graph, with spaCy's PhraseMatcher.

Patterns are added as tuples of attribute hashes rather than as Doc objects,
which is how PhraseMatcher itself unpickles: 200,000 patterns load in about a
second instead of minutes of tokenisation.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import srsly
from spacy.attrs import LOWER, ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.strings import hash_string
from spacy.tokens import Doc, Span
from spacy.util import ensure_path

from nlp.extensions import ABBREVIATIONS, DICTIONARY, Link, set_candidate_link
from nlp.terms import TermHit, TermTable

LABEL = "dictionary"
TABLE_FILE = "terms.msgpack"
CONFIDENCE_NAME = 1.0
CONFIDENCE_SYNONYM = 0.95
CONFIDENCE_ACRONYM = 0.9
CONFIDENCE_ABBREVIATION = 0.9


PATTERNS_FILE = "patterns.msgpack"


def pattern_hashes(keys: Iterable[str]) -> list[list[int]]:
    """Each key as the token-attribute hashes PhraseMatcher compares (LOWER or ORTH)."""
    cache: dict[str, int] = {}

    def h(word: str) -> int:
        value = cache.get(word)
        if value is None:
            value = cache[word] = hash_string(word)
        return value

    return [[h(word) for word in key.split(" ")] for key in keys]


def set_link(span: Span, hits: list[TermHit], *, method: str, confidence: float) -> None:
    """Link a candidate span to the best of `hits`, keeping the others as alternates."""
    best = hits[0]
    alternates = tuple(h.concept.id for h in hits[1:])
    set_candidate_link(span, Link(best.concept.id, best.concept.label, method, confidence, alternates))


@Language.factory(
    "cdss_concept_matcher",
    assigns=["doc.spans"],
    default_config={
        "name_confidence": CONFIDENCE_NAME,
        "synonym_confidence": CONFIDENCE_SYNONYM,
        "acronym_confidence": CONFIDENCE_ACRONYM,
        "abbreviation_confidence": CONFIDENCE_ABBREVIATION,
    },
)
def make_concept_matcher(
    nlp: Language,
    name: str,
    name_confidence: float,
    synonym_confidence: float,
    acronym_confidence: float,
    abbreviation_confidence: float,
) -> ConceptMatcher:
    return ConceptMatcher(
        nlp,
        name_confidence=name_confidence,
        synonym_confidence=synonym_confidence,
        acronym_confidence=acronym_confidence,
        abbreviation_confidence=abbreviation_confidence,
    )


class ConceptMatcher:
    """Finds graph concepts by exact (normalised) name; links defined and curated abbreviations."""

    def __init__(
        self,
        nlp: Language,
        *,
        name_confidence: float = CONFIDENCE_NAME,
        synonym_confidence: float = CONFIDENCE_SYNONYM,
        acronym_confidence: float = CONFIDENCE_ACRONYM,
        abbreviation_confidence: float = CONFIDENCE_ABBREVIATION,
    ) -> None:
        """Confidences: an exact name, a synonym, a case-sensitive acronym, an expanded abbreviation
        (settable in the pipeline's config.cfg under [components.cdss_concept_matcher])."""
        self.confidence = {
            "name": name_confidence,
            "synonym": synonym_confidence,
            "acronym": acronym_confidence,
            "abbreviation": abbreviation_confidence,
        }
        self.vocab = nlp.vocab
        self.tokenizer = nlp.tokenizer
        self.table = TermTable.empty()
        self._build()

    def _build(self, patterns: dict[str, list[list[int]]] | None = None) -> None:
        patterns = patterns or self._pattern_hashes()
        self.lower = PhraseMatcher(self.vocab, attr="LOWER")
        self.orth = PhraseMatcher(self.vocab, attr="ORTH")
        if patterns["lower"]:
            self.lower.add(LABEL, patterns["lower"])
        if patterns["orth"]:
            self.orth.add(LABEL, patterns["orth"])

    def _pattern_hashes(self) -> dict[str, list[list[int]]]:
        return {"lower": pattern_hashes(self.table.lower), "orth": pattern_hashes(self.table.orth)}

    def initialize(self, get_examples=None, *, nlp: Language | None = None, table: TermTable | None = None) -> None:
        if table is not None:
            self.table = table
            self._build()

    def key_of(self, text: str) -> str:
        return " ".join(t.lower_ for t in self.tokenizer(text) if not t.is_space)

    def __call__(self, doc: Doc) -> Doc:
        spans: dict[tuple[int, int], Span] = {}
        # Curated and defined abbreviations first: their chosen expansion beats whatever
        # concept happens to list the bare acronym as a synonym.
        for abbreviation in doc.spans.get(ABBREVIATIONS, []):
            if not abbreviation._.cdss_expansion:
                continue
            hits = self.table.lookup(self.key_of(abbreviation._.cdss_expansion))
            if hits:
                span = Span(doc, abbreviation.start, abbreviation.end, label=LABEL, kb_id=hits[0].concept.id)
                set_link(span, hits, method="dictionary", confidence=self.confidence["abbreviation"])
                span._.cdss_expansion = abbreviation._.cdss_expansion
                spans[(abbreviation.start, abbreviation.end)] = span
        strings = self.vocab.strings
        for matcher, case_sensitive in ((self.lower, False), (self.orth, True)):
            # Keys are rebuilt from the attribute hashes the matcher compared, not from Token objects.
            hashes = doc.to_array(ORTH if case_sensitive else LOWER).tolist()
            for _, start, end in matcher(doc):
                key = " ".join(strings[h] for h in hashes[start:end])
                hits = self.table.lookup(key, case_sensitive=case_sensitive)
                if not hits or (start, end) in spans:
                    continue
                span = Span(doc, start, end, label=LABEL, kb_id=hits[0].concept.id)
                kind = "acronym" if case_sensitive else "name" if hits[0].exact else "synonym"
                confidence = self.confidence[kind]
                set_link(span, hits, method="dictionary", confidence=confidence)
                spans[(start, end)] = span
        doc.spans[DICTIONARY] = [spans[k] for k in sorted(spans)]
        return doc

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / TABLE_FILE).write_bytes(self.table.to_bytes())
        (path / PATTERNS_FILE).write_bytes(srsly.msgpack_dumps(self._pattern_hashes()))

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> ConceptMatcher:
        path = ensure_path(path)
        self.table = TermTable.from_bytes((path / TABLE_FILE).read_bytes())
        self._build(srsly.msgpack_loads((path / PATTERNS_FILE).read_bytes()))
        return self
