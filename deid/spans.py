"""The identifier types of HIPAA Safe Harbor (45 CFR 164.514(b)(2)) that occur in text, and found spans."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhiType(StrEnum):
    NAME = "NAME"
    LOCATION = "LOCATION"
    """Geographic subdivisions smaller than a state: streets, cities, counties, ZIP codes, and facilities."""
    DATE = "DATE"
    """Dates more precise than a year."""
    AGE = "AGE"
    """Ages over 89."""
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN = "HEALTH_PLAN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    VEHICLE = "VEHICLE"
    DEVICE = "DEVICE"
    URL = "URL"
    IP = "IP"
    ID = "ID"
    """Any other unique identifying number or code."""


@dataclass(frozen=True, slots=True, order=True)
class PhiSpan:
    start: int
    end: int
    type: PhiType
    rule: str = ""
    """Which rule found it, for review and error analysis."""

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "type": self.type.value}

    def overlaps(self, other: PhiSpan) -> bool:
        return self.start < other.end and other.start < self.end


def resolve_overlaps(spans: list[PhiSpan], priority: dict[str, int]) -> list[PhiSpan]:
    """Non-overlapping spans: where two overlap, the higher-priority rule wins, then the longer span.

    A span that loses is not simply dropped when it reaches beyond the winner: identifiers
    must not be lost, so the union of an overlapping group is kept under the winner's type.
    """
    ordered = sorted(spans, key=lambda s: (s.start, -s.end))
    groups: list[list[PhiSpan]] = []
    for span in ordered:
        if groups and span.start < max(s.end for s in groups[-1]):
            groups[-1].append(span)
        else:
            groups.append([span])
    merged = []
    for group in groups:
        best = max(group, key=lambda s: (priority.get(s.rule, 0), s.end - s.start, -s.start))
        merged.append(PhiSpan(min(s.start for s in group), max(s.end for s in group), best.type, best.rule))
    return merged
