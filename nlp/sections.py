"""Section detection: which part of the note (HPI, family history, plan...) each mention is in.

Headers are phrases from `resources/sections.json` at the start of a line,
followed by a colon or the end of the line. A section runs to the next header.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping

from spacy.language import Language
from spacy.tokens import Doc, Span

from nlp.extensions import SECTION_HEADERS, SECTIONS, doc_text
from nlp.resources import load_resource


def section_rules() -> tuple[dict[str, str], dict[str, str]]:
    """(header phrase -> section, section -> default assertion) from the rule file."""
    headers: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for section, spec in load_resource("sections.json")["sections"].items():
        for header in spec["headers"]:
            headers[header.casefold()] = section
        if "assertion_default" in spec:
            defaults[section] = spec["assertion_default"]
    return headers, defaults


def _header_pattern(headers: Mapping[str, str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(h) for h in sorted(headers, key=len, reverse=True))
    return re.compile(
        rf"^[ \t]*(?:[#*\->]+[ \t]*)?(?P<header>{alternatives})[ \t]*(?::|$)", re.IGNORECASE | re.MULTILINE
    )


@Language.factory("cdss_sections", assigns=["doc.spans"])
def make_sections(nlp: Language, name: str) -> SectionDetector:
    return SectionDetector()


class SectionDetector:
    """Marks each section of a note as a span labelled with the section's name."""

    def __init__(self) -> None:
        self.headers, self.defaults = section_rules()
        self.pattern = _header_pattern(self.headers)

    def __call__(self, doc: Doc) -> Doc:
        starts: list[tuple[int, str]] = []
        headers: list[Span] = []
        for match in self.pattern.finditer(doc_text(doc)):
            span = doc.char_span(match.start("header"), match.end("header"), alignment_mode="expand")
            if span is not None:
                section = self.headers[match.group("header").casefold()]
                starts.append((span.start, section))
                headers.append(Span(doc, span.start, span.end, label=section))
        spans = [
            Span(doc, start, starts[k + 1][0] if k + 1 < len(starts) else len(doc), label=section)
            for k, (start, section) in enumerate(starts)
        ]
        doc.spans[SECTIONS] = [s for s in spans if len(s)]
        doc.spans[SECTION_HEADERS] = headers
        return doc


class SectionIndex:
    """Which section each token is in, for one document: built once, asked many times."""

    def __init__(self, doc: Doc) -> None:
        spans = list(doc.spans.get(SECTIONS, []))
        self.starts = [s.start for s in spans]
        self.ends = [s.end for s in spans]
        self.labels = [s.label_ for s in spans]

    def at(self, token_index: int) -> str | None:
        position = bisect.bisect_right(self.starts, token_index) - 1
        if position >= 0 and token_index < self.ends[position]:
            return self.labels[position]
        return None


def section_at(doc: Doc, token_index: int) -> str | None:
    """The section a token sits in, or None before the first header."""
    return SectionIndex(doc).at(token_index)
