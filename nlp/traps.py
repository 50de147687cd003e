"""The regression trap suite (`tests/data/assertion_traps.jsonl`): spans with the assertion, and for some the
concept, the pipeline must give them.

A span is `[start, end, assertion]` or `[start, end, assertion, concept]`. The first kind needs only the
ConText rules (`SpanAsserter`); the second needs the whole pipeline over a graph (the linker, the
measurement reader), and is judged against the mentions that overlap the span.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import InputError
from cdss.types import Mention
from nlp.records import decode_utf8


@dataclass(frozen=True, slots=True)
class Trap:
    id: str
    text: str
    spans: tuple[tuple, ...]

    @property
    def concept_spans(self) -> list[tuple]:
        return [s for s in self.spans if len(s) > 3]


def read_traps(path: Path) -> Iterator[Trap]:
    for lineno, raw in enumerate(path.read_bytes().splitlines(), start=1):
        line = decode_utf8(raw, f"{path}:{lineno}").strip()
        if not line:
            continue
        try:
            item = json.loads(line)
            spans = tuple(tuple(s) for s in item["spans"])
            if any(not (isinstance(s[0], int) and isinstance(s[1], int)) for s in spans):
                raise ValueError("start and end must be integers")
            yield Trap(str(item.get("id", lineno)), str(item["text"]), spans)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise InputError(
                f"{path}:{lineno}: expected {{id, text, spans: [[start, end, ...], ...]}} ({exc})"
            ) from None


def judge_with_pipeline(traps: Sequence[Trap], mentions_of: Callable[[str], list[Mention]]) -> dict:
    """Every span with an expected assertion, judged against the pipeline's overlapping mentions: right when one
    of them has the expected assertion (and the expected concept, where the span names one). An assertion-only
    span over words that are no mention is not judged: it tests the ConText rules, not the linker."""
    rows, right, judged, unlinked = [], 0, 0, 0
    for trap in traps:
        mentions = mentions_of(trap.text)
        for span in trap.spans:
            if len(span) < 3:
                continue
            start, end, expected = span[:3]
            concept = span[3] if len(span) > 3 else None
            found = [m for m in mentions if m.start < end and start < m.end]
            if not found and concept is None:
                unlinked += 1  # an assertion trap on words the graph has no concept for ("appendectomy")
                continue
            ok = any(m.assertion.value == expected and (concept is None or m.concept_id == concept) for m in found)
            judged += 1
            right += ok
            if not ok:
                got = [(m.text, m.concept_id, m.assertion.value) for m in found]
                rows.append({"id": trap.id, "span": trap.text[start:end], "expected": [expected, concept], "got": got})
    accuracy = right / judged if judged else None
    return {"judged": judged, "right": right, "accuracy": accuracy, "not_a_mention": unlinked, "wrong": rows}
