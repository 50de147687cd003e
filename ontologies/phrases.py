"""Phrases that name a finding in words the vocabularies do not use: radiology, ECG and examination
shorthand, and lay language ("infiltrate", "ST elevations", "JVD", "burning when I pee").

One table (`mappings/finding_phrases.tsv`, ours, a source per row) serves two readers: the NLP
pipeline adds each phrase to its finding's names, and the ranking reads an image model's label
through it when the chest X-ray label table does not know the label, so a report's words and a
model's labels reach the same finding.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from ontologies.mappings import mapping_rows

TABLE = "finding_phrases.tsv"
COLUMNS = ("phrase", "finding", "kind", "source")
KINDS = frozenset({"imaging", "ecg", "exam", "lay"})


@dataclass(frozen=True, slots=True)
class FindingPhrase:
    phrase: str
    finding: str
    kind: str
    source: str


@cache
def finding_phrases() -> tuple[FindingPhrase, ...]:
    out = []
    for line, row in mapping_rows(TABLE, COLUMNS):
        where = f"ontologies/mappings/{TABLE}"
        if row["kind"] not in KINDS:
            raise SourceParseError(where, line, f"kind must be one of {', '.join(sorted(KINDS))}, not {row['kind']!r}")
        if not row["phrase"].strip() or not row["source"].strip():
            raise SourceParseError(where, line, "a row needs a phrase and a source")
        try:
            finding = normalize_curie(row["finding"])
        except InvalidCurieError as exc:
            raise SourceParseError(where, line, str(exc)) from None
        out.append(FindingPhrase(row["phrase"].strip(), finding, row["kind"], row["source"].strip()))
    return tuple(out)


def phrases_by_finding() -> dict[str, tuple[str, ...]]:
    """Finding CURIE -> the phrases that name it."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in finding_phrases():
        grouped[row.finding].append(row.phrase)
    return {finding: tuple(phrases) for finding, phrases in grouped.items()}


def phrase_finding(label: str) -> str | None:
    """The finding a phrase names, compared without case or surrounding space; None when no row has it."""
    wanted = " ".join(label.casefold().replace("_", " ").split())
    return next((row.finding for row in finding_phrases() if row.phrase.casefold() == wanted), None)
