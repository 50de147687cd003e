"""Per-type recall and precision of `find_phi` on ASQ-PHI (Weatherhead 2026; MIT), synthetic clinical
queries whose PHI values are listed without offsets.

Scored on word tokens, as the i2b2 de-identification tasks score "binary token" PHI: a gold
token counts as found if any span covers it, whatever type that span has (what matters for
privacy), and separately if the span's type agrees. Titles (Dr., Mrs.) are left out of both
sides, and so are a few function words ("in", "the", "of") that the gold sometimes puts inside a
place ("St. Mary's Hospital in Chicago"); entity recall, which needs every scored token of a
value, is reported too. Queries are split by position into two
halves: the even ones, read while writing the rules, and the odd ones, only scored.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import InputError
from deid.spans import PhiSpan, PhiType

ASQ_TYPES = {
    "NAME": PhiType.NAME,
    "GEOGRAPHIC_LOCATION": PhiType.LOCATION,
    "DATE": PhiType.DATE,
    "MEDICAL_RECORD_NUMBER": PhiType.MRN,
    "HEALTH_PLAN_BENEFICIARY_NUMBER": PhiType.HEALTH_PLAN,
    "PHONE_NUMBER": PhiType.PHONE,
    "SOCIAL_SECURITY_NUMBER": PhiType.SSN,
    "EMAIL_ADDRESS": PhiType.EMAIL,
    "UNIQUE_IDENTIFIER": PhiType.ID,
    "ACCOUNT_NUMBER": PhiType.ACCOUNT,
    "FAX_NUMBER": PhiType.FAX,
    "CERTIFICATE_LICENSE_NUMBER": PhiType.LICENSE,
    "IP_ADDRESS": PhiType.IP,
}
NOT_SCORED = frozenset({"dr", "mr", "mrs", "ms", "miss", "prof", "doctor", "in", "the", "of", "at", "on", "and"})
"""Titles and function words: they identify nobody and the gold is inconsistent about them."""
WORD = re.compile(r"[A-Za-z0-9]+")
FILE = "synthetic_clinical_queries.txt"


@dataclass(frozen=True, slots=True)
class GoldText:
    text: str
    spans: tuple[PhiSpan, ...]
    unplaced: int
    """Gold values not found verbatim in the text."""


def read_asq_phi(folder: Path) -> list[GoldText]:
    """The queries and their tagged values, each value placed at its first unused occurrence."""
    path = folder / FILE
    if not path.is_file():
        raise InputError(f"{path}: not found; point --data at the deid-asq-phi folder")
    found = []
    for block in path.read_text(encoding="utf-8").split("===QUERY===")[1:]:
        if "===PHI_TAGS===" not in block:
            raise InputError(f"{path}: a query block without ===PHI_TAGS===")
        query, tags = block.split("===PHI_TAGS===")
        text = query.strip()
        spans, unplaced, used = [], 0, set()
        for line in tags.strip().splitlines():
            tag = json.loads(line)
            start = _place(text, tag["value"], used)
            if start is None:
                unplaced += 1
                continue
            used.add(start)
            spans.append(PhiSpan(start, start + len(tag["value"]), ASQ_TYPES[tag["identifier_type"]], "gold"))
        found.append(GoldText(text, tuple(sorted(spans)), unplaced))
    return found


def _place(text: str, value: str, used: set[int]) -> int | None:
    start = text.find(value)
    while start >= 0 and start in used:
        start = text.find(value, start + 1)
    return start if start >= 0 else None


def _tokens(text: str, spans: tuple[PhiSpan, ...] | list[PhiSpan]) -> dict[tuple[int, int], PhiType]:
    """Scored word tokens that a span covers, with the span's type."""
    covered = {}
    for word in WORD.finditer(text):
        if word.group().lower() in NOT_SCORED:
            continue
        for span in spans:
            if span.start < word.end() and word.start() < span.end:
                covered[(word.start(), word.end())] = span.type
                break
    return covered


def score(texts: list[GoldText], find: Callable[[str], list[PhiSpan]]) -> dict:
    """Token recall per gold type (any type, and same type) and precision per predicted type."""
    gold_n, found_any, found_typed = Counter(), Counter(), Counter()
    predicted_n, predicted_right = Counter(), Counter()
    entities, entities_found = Counter(), Counter()
    for item in texts:
        predicted = find(item.text)
        gold_tokens = _tokens(item.text, item.spans)
        predicted_tokens = _tokens(item.text, predicted)
        for token, phi_type in gold_tokens.items():
            gold_n[phi_type] += 1
            found_any[phi_type] += token in predicted_tokens
            found_typed[phi_type] += predicted_tokens.get(token) == phi_type
        for token, phi_type in predicted_tokens.items():
            predicted_n[phi_type] += 1
            predicted_right[phi_type] += token in gold_tokens
        for span in item.spans:
            entities[span.type] += 1
            inside = [t for t in gold_tokens if span.start <= t[0] < span.end]
            entities_found[span.type] += all(t in predicted_tokens for t in inside)
    per_type = {}
    for phi_type in sorted(set(gold_n) | set(predicted_n)):
        per_type[phi_type.value] = {
            "gold_tokens": gold_n[phi_type],
            "recall": _ratio(found_any[phi_type], gold_n[phi_type]),
            "recall_same_type": _ratio(found_typed[phi_type], gold_n[phi_type]),
            "entity_recall": _ratio(entities_found[phi_type], entities[phi_type]),
            "predicted_tokens": predicted_n[phi_type],
            "precision": _ratio(predicted_right[phi_type], predicted_n[phi_type]),
        }
    return {
        "texts": len(texts),
        "gold_values_not_in_text": sum(t.unplaced for t in texts),
        "recall": _ratio(sum(found_any.values()), sum(gold_n.values())),
        "precision": _ratio(sum(predicted_right.values()), sum(predicted_n.values())),
        "entity_recall": _ratio(sum(entities_found.values()), sum(entities.values())),
        "per_type": per_type,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def split_halves(texts: list[GoldText]) -> dict[str, list[GoldText]]:
    return {"development": texts[0::2], "held_out": texts[1::2]}


def errors(texts: list[GoldText], find: Callable[[str], list[PhiSpan]]) -> list[dict]:
    """Missed gold values and predicted spans outside any gold value, for reading (development half only)."""
    found = []
    for item in texts:
        predicted = find(item.text)
        for span in item.spans:
            if not any(p.overlaps(span) for p in predicted):
                found.append({"kind": "missed", "type": span.type.value, "value": item.text[span.start : span.end]})
        for span in predicted:
            if not any(g.overlaps(span) for g in item.spans):
                found.append(
                    {
                        "kind": "extra",
                        "type": span.type.value,
                        "rule": span.rule,
                        "value": item.text[span.start : span.end],
                    }
                )
    return found
