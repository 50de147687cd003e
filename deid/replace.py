"""What a de-identified text looks like: typed tags, consistent surrogates, or the spans alone.

Surrogates are keyed: a record's names map to the same fake names and its dates move by one
offset, both derived from the deployment's secret key and the record's id, so two records do
not share a mapping and nobody without the key can undo it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from cdss.errors import InputError
from deid.dates import shift_date
from deid.detect import find_phi
from deid.gazetteers import gazetteers
from deid.spans import PhiSpan, PhiType

MAX_SHIFT_DAYS = 365
TEST_NET = "192.0.2."
"""Addresses reserved for documentation (RFC 5737), so a surrogate IP is never a real host."""


class DeidMode(StrEnum):
    TAGS = "tags"
    SURROGATES = "surrogates"
    SPANS = "spans"


@dataclass(frozen=True, slots=True)
class DeidResult:
    text: str
    """The de-identified text (the input itself in spans mode)."""
    spans: list[PhiSpan]
    """Where the identifiers were, in the input text."""
    mode: DeidMode
    date_shift_days: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self, *, record_id: str | None = None) -> dict:
        body = {"spans": [s.to_dict() for s in self.spans], "text": self.text}
        return {"id": record_id, **body} if record_id is not None else body


def _mode(mode: str | DeidMode) -> DeidMode:
    try:
        return DeidMode(mode)
    except ValueError:
        raise InputError(f"unknown de-identification mode {mode!r}; use one of {', '.join(DeidMode)}") from None


class _Surrogates:
    """Fake values for one record, the same fake for the same value."""

    def __init__(self, key: bytes, record_id: str) -> None:
        self.seed = hmac.new(key, b"cdss deid surrogates\x00" + record_id.encode(), hashlib.sha256).digest()
        self.shift = -(1 + self._number("date shift", MAX_SHIFT_DAYS))

    def _number(self, value: str, modulo: int) -> int:
        digest = hmac.new(self.seed, value.encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") % modulo

    def _pick(self, value: str, choices: list[str]) -> str:
        return choices[self._number(value.lower(), len(choices))]

    def name(self, value: str) -> str:
        first, last = _name_lists()
        words = []
        for word in value.split():
            bare = word.rstrip(".,")
            if len(bare) == 1:
                words.append(chr(ord("A") + self._number("initial " + bare, 26)) + word[1:])
            elif bare.lower() in gazetteers().first_names:
                words.append(self._pick("first " + bare, first) + word[len(bare) :])
            else:
                words.append(self._pick("last " + bare, last) + word[len(bare) :])
        return " ".join(words)

    def shape(self, value: str) -> str:
        """Digits and letters replaced, separators kept, so a code keeps its look."""
        out = []
        for i, char in enumerate(value):
            if char.isdigit():
                out.append(str(self._number(f"digit {value} {i}", 10)))
            elif char.isalpha():
                letter = chr(ord("A") + self._number(f"letter {value} {i}", 26))
                out.append(letter if char.isupper() else letter.lower())
            else:
                out.append(char)
        return "".join(out)

    def place(self, value: str) -> str:
        head = value.split()[-1] if len(value.split()) > 1 else ""
        if head.lower() in gazetteers().cues["facility_heads"] | gazetteers().cues["lowercase_heads"]:
            return f"{self._pick('place ' + value, _name_lists()[1])} {head}"
        return self._pick("city " + value, _city_list())

    def replace(self, span_type: PhiType, value: str) -> str:
        if span_type == PhiType.NAME:
            return self.name(value)
        if span_type == PhiType.DATE:
            return shift_date(value, self.shift) or "[DATE]"
        if span_type == PhiType.AGE:
            return "90+"
        if span_type == PhiType.LOCATION:
            return self.place(value)
        if span_type == PhiType.EMAIL:
            first, last = _name_lists()
            user = f"{self._pick('email first ' + value, first)}.{self._pick('email last ' + value, last)}"
            return f"{user}@example.org".lower()
        if span_type == PhiType.URL:
            return f"https://example.org/{self._number('url ' + value, 10**8):08d}"
        if span_type == PhiType.IP:
            return TEST_NET + str(1 + self._number("ip " + value, 254))
        return self.shape(value)


@cache
def _name_lists() -> tuple[list[str], list[str]]:
    gaz = gazetteers()
    return sorted(n.capitalize() for n in gaz.first_names), sorted(n.capitalize() for n in gaz.last_names)


@cache
def _city_list() -> list[str]:
    return sorted(
        name.title() for name, (population, in_us) in gazetteers().cities.items() if in_us and population > 50_000
    )


def deidentify(
    text: str, *, mode: str | DeidMode = DeidMode.TAGS, key: bytes | None = None, record_id: str = ""
) -> DeidResult:
    """`text` with its identifiers tagged or replaced; surrogates need the deployment's `key`."""
    mode = _mode(mode)
    spans = find_phi(text)
    counts: dict[str, int] = {}
    for span in spans:
        counts[span.type.value] = counts.get(span.type.value, 0) + 1
    if mode == DeidMode.SPANS:
        return DeidResult(text, spans, mode, counts=counts)
    if mode == DeidMode.SURROGATES and not key:
        raise InputError("surrogates need the deployment's key (the record-id key)")
    surrogates = _Surrogates(key, record_id) if mode == DeidMode.SURROGATES else None
    pieces, at = [], 0
    for span in spans:
        pieces.append(text[at : span.start])
        value = text[span.start : span.end]
        pieces.append(surrogates.replace(span.type, value) if surrogates else f"[{span.type.value}]")
        at = span.end
    pieces.append(text[at:])
    return DeidResult("".join(pieces), spans, mode, surrogates.shift if surrogates else None, counts)
