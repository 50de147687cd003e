"""Choosing the mentions: overlapping candidates resolve to the longest, best-linked span.

Candidates come from the dictionary, the fuzzy linker and NER. Of overlapping
ones the longest wins; among equally long ones a linked span beats an unlinked
one, the dictionary beats fuzzy and NER, and higher confidence wins. An NER span
that nothing could link inherits the concept of the dictionary span at its end
(its head: "acute renal failure" -> renal failure), at lower confidence.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from cdss.types import Assertion, Mention, MentionMethod, NodeLabel
from nlp.extensions import DICTIONARY, FUZZY, MENTIONS, NER, SECTION_HEADERS

METHOD_RANK = {"dictionary": 0, "fuzzy": 1, "ner": 2}
HEAD_CONFIDENCE = 0.6


def _inherit_head(span: Span, dictionary: list[Span]) -> None:
    heads = [d for d in dictionary if span.start <= d.start and d.end == span.end and d._.cdss_concept]
    if heads and not span._.cdss_concept:
        head = max(heads, key=lambda d: len(d))
        if span._.cdss_type in (None, head._.cdss_type) or (
            span._.cdss_type == "Disease" and head._.cdss_type == "Finding"
        ):
            span._.cdss_concept = head._.cdss_concept
            span._.cdss_type = head._.cdss_type
            span._.cdss_alternates = head._.cdss_alternates
            span._.cdss_confidence = HEAD_CONFIDENCE


@Language.factory("cdss_mentions", assigns=["doc.spans"])
def make_mentions(nlp: Language, name: str) -> MentionResolver:
    return MentionResolver()


class MentionResolver:
    def __call__(self, doc: Doc) -> Doc:
        dictionary = list(doc.spans.get(DICTIONARY, []))
        ner = list(doc.spans.get(NER, []))
        for span in ner:
            _inherit_head(span, dictionary)
        candidates = dictionary + list(doc.spans.get(FUZZY, [])) + ner

        def rank(span: Span) -> tuple:
            ext = span._
            return (
                span.start - span.end,
                ext.cdss_concept is None,
                METHOD_RANK.get(ext.cdss_method or "ner", 3),
                -ext.cdss_confidence,
                span.start,
            )

        # A section header ("Family history:") names the section, not a finding of the patient.
        taken: set[int] = {i for h in doc.spans.get(SECTION_HEADERS, []) for i in range(h.start, h.end)}
        chosen: list[Span] = []
        for span in sorted(candidates, key=rank):
            if taken.isdisjoint(range(span.start, span.end)):
                chosen.append(span)
                taken.update(range(span.start, span.end))
        # The chosen spans keep their own label (dictionary, fuzzy or ner) and extension values.
        doc.spans[MENTIONS] = sorted(chosen, key=lambda s: s.start)
        return doc


def doc_mentions(doc: Doc, record_id: str) -> list[Mention]:
    """The pipeline's output contract: one `Mention` per chosen span."""
    out = []
    for span in doc.spans.get(MENTIONS, []):
        concept_type = span._.cdss_type
        out.append(
            Mention(
                record_id=record_id,
                start=span.start_char,
                end=span.end_char,
                text=span.text,
                concept_id=span._.cdss_concept,
                concept_type=NodeLabel(concept_type) if concept_type in NodeLabel._value2member_map_ else None,
                assertion=Assertion(span._.cdss_assertion),
                section=span._.cdss_section,
                confidence=float(span._.cdss_confidence),
                method=MentionMethod(span._.cdss_method or "ner"),
            )
        )
    return out
