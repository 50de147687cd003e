"""Choosing the mentions: overlapping candidates resolve to the longest, best-linked span.

Candidates come from the measurement reader, the dictionary, the fuzzy linker
and NER. A measurement ("temperature of 38.3 C") claims its tokens first: the
words inside it ("oxygen" in "oxygen saturation of 92%") are not mentions of
their own. Of other overlapping candidates the longest wins; among equally long
ones a linked span beats an unlinked
one, the dictionary beats fuzzy and NER, and higher confidence wins. An NER span
that nothing could link inherits the concept of the dictionary span at its end
(its head: "acute renal failure" -> renal failure), at lower confidence.

An abbreviation the text defines means what its definition means: if the
definition is a mention, each use of the short form becomes one with the same
concept; if it is not ("hormone therapy (HT)"), no use of the short form is.
"""

from __future__ import annotations

from dataclasses import replace

from spacy.language import Language
from spacy.tokens import Doc, Span

from cdss.types import Assertion, Mention, MentionMethod, NodeLabel
from nlp.extensions import (
    ABBREVIATIONS,
    DICTIONARY,
    FUZZY,
    MEASUREMENTS,
    MENTIONS,
    NER,
    SECTION_HEADERS,
    Link,
    candidate_link,
    publish_link,
)
from nlp.measurement_spans import measurement_detail

GENE_CONTEXT = frozenset(
    {
        "gene",
        "genes",
        "protein",
        "proteins",
        "mutation",
        "mutations",
        "mutant",
        "mutants",
        "mrna",
        "locus",
        "allele",
        "alleles",
        "promoter",
        "expression",
        "knockout",
        "transcript",
        "transcripts",
        "variant",
        "variants",
        "-/-",
        "-deficient",
        "deficient",
        "product",
        "homolog",
        "carriers",
        "carrier",
    }
)
"""Words after a short upper-case symbol that make it a gene, not the disease named after it ("VHL gene",
"BRCA1 mutations", "ATM-/-"): such a symbol is no disease mention."""
METHOD_RANK = {"measurement": -1, "dictionary": 0, "fuzzy": 1, "ner": 2}
HEAD_CONFIDENCE = 0.6
ABBREVIATION_LABEL = "abbreviation"
ABBREVIATION_DISCOUNT = 0.9


def _with_head(span: Span, link: Link, dictionary: list[tuple[Span, Link]], confidence: float) -> Link:
    """An unlinked NER span takes the concept of the longest dictionary span ending where it ends."""
    if link.concept:
        return link
    heads = [(d, h) for d, h in dictionary if span.start <= d.start and d.end == span.end and h.concept]
    if not heads:
        return link
    _, head = max(heads, key=lambda pair: len(pair[0]))
    if link.type in (None, head.type) or (link.type == "Disease" and head.type == "Finding"):
        return replace(link, concept=head.concept, type=head.type, alternates=head.alternates, confidence=confidence)
    return link


@Language.factory(
    "cdss_mentions",
    assigns=["doc.spans"],
    default_config={"head_confidence": HEAD_CONFIDENCE, "abbreviation_discount": ABBREVIATION_DISCOUNT},
)
def make_mentions(nlp: Language, name: str, head_confidence: float, abbreviation_discount: float) -> MentionResolver:
    return MentionResolver(head_confidence=head_confidence, abbreviation_discount=abbreviation_discount)


class MentionResolver:
    def __init__(
        self, *, head_confidence: float = HEAD_CONFIDENCE, abbreviation_discount: float = ABBREVIATION_DISCOUNT
    ) -> None:
        """`head_confidence`: an NER span linked through the dictionary concept at its head ("acute otitis media"
        -> otitis media); `abbreviation_discount`: what a defined abbreviation keeps of its long form's confidence."""
        self.head_confidence = head_confidence
        self.abbreviation_discount = abbreviation_discount

    def __call__(self, doc: Doc) -> Doc:
        dictionary = [(s, candidate_link(s)) for s in doc.spans.get(DICTIONARY, [])]
        fuzzy = [(s, candidate_link(s)) for s in doc.spans.get(FUZZY, [])]
        ner = [(s, _with_head(s, candidate_link(s), dictionary, self.head_confidence)) for s in doc.spans.get(NER, [])]
        measured = [(s, candidate_link(s)) for s in doc.spans.get(MEASUREMENTS, [])]

        def rank(candidate: tuple[Span, Link]) -> tuple:
            span, link = candidate
            return (
                link.method != "measurement",
                span.start - span.end,
                link.concept is None,
                METHOD_RANK.get(link.method, 3),
                -link.confidence,
                span.start,
            )

        dictionary = [(s, link) for s, link in dictionary if not _gene_symbol(s, link)]
        ner = [(s, link) for s, link in ner if not _gene_symbol(s, link)]
        # A section header ("Family history:") names the section, not a finding of the patient.
        taken: set[int] = {i for h in doc.spans.get(SECTION_HEADERS, []) for i in range(h.start, h.end)}
        chosen: dict[tuple[int, int], tuple[Span, Link]] = {}
        for span, link in sorted(measured + dictionary + fuzzy + ner, key=rank):
            if taken.isdisjoint(range(span.start, span.end)):
                chosen[(span.start, span.end)] = (span, link)
                taken.update(range(span.start, span.end))
        _follow_definitions(doc, chosen, self.abbreviation_discount)
        mentions = []
        for key in sorted(chosen):
            span, link = chosen[key]
            publish_link(span, link)
            mentions.append(span)
        doc.spans[MENTIONS] = mentions
        return doc


def _gene_symbol(span: Span, link: Link) -> bool:
    """A disease link on a gene symbol: a short upper-case token followed by a gene word."""
    text = span.text
    knockout = text.endswith(("-/-", "+/-", "-/+"))
    symbol = text[:-3] if knockout else text
    if link.type != "Disease" or len(span) != 1 or len(symbol) > 8 or not symbol[:1].isupper():
        return False
    if sum(c.isupper() or c.isdigit() for c in symbol) < max(2, len(symbol) - 1):
        return False
    if knockout:
        return True
    following = span.doc[span.end : span.end + 2]
    return (len(following) > 0 and following[0].lower_ in GENE_CONTEXT) or "".join(
        t.text for t in following
    ) in GENE_CONTEXT


def _definition_mention(
    chosen: dict[tuple[int, int], tuple[Span, Link]], start: int, end: int
) -> tuple[Span, Link] | None:
    """The mention that best covers a definition's tokens: most overlap, then the one ending last."""
    overlapping = [(s, link) for s, link in chosen.values() if s.start < end and start < s.end]
    if not overlapping:
        return None
    return max(overlapping, key=lambda pair: (min(pair[0].end, end) - max(pair[0].start, start), pair[0].end))


def _follow_definitions(doc: Doc, chosen: dict[tuple[int, int], tuple[Span, Link]], discount: float) -> None:
    for short in doc.spans.get(ABBREVIATIONS, []):
        long_form = short._.cdss_long_form
        if not long_form:
            continue
        definition = _definition_mention(chosen, *long_form)
        key = (short.start, short.end)
        current = chosen.get(key)
        if definition is None:
            chosen.pop(key, None)
            continue
        if current is not None and current[1].concept:
            continue
        if current is None and any(s.start < short.end and short.start < s.end for s, _ in chosen.values()):
            continue
        _, link = definition
        span = Span(doc, short.start, short.end, label=ABBREVIATION_LABEL, kb_id=link.concept or "")
        chosen[key] = (span, replace(link, confidence=round(link.confidence * discount, 3)))


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
                measurement=measurement_detail(span) if span._.cdss_method == MentionMethod.MEASUREMENT else None,
            )
        )
    return out
