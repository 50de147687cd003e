"""Survey visits as arrays, our reason-for-visit rows, and where a diagnosis code may land in the graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import sparse

from ontologies.model import ByXref, Endpoint

SYMPTOM = "symptom"
RFV_KINDS = frozenset({SYMPTOM, "condition", "behaviour", "administrative", "injury", "test_result"})
SETTING_NAMES = ("ed", "office")
AGE_BANDS = ((0.0, 5.0, "0-4"), (5.0, 18.0, "5-17"), (18.0, 65.0, "18-64"), (65.0, float("inf"), "65+"))
SEX_NAMES = ("female", "male")


@dataclass(frozen=True, slots=True)
class RfvRow:
    """One reason-for-visit code as our curated table reads it."""

    code: int
    label: str
    finding: str | None
    parent: str | None
    kind: str


@dataclass(slots=True)
class Visits:
    """Survey visits as arrays; one row per visit."""

    setting: np.ndarray
    """Index into `SETTING_NAMES`."""
    year: np.ndarray
    age: np.ndarray
    sex: np.ndarray
    """0 female, 1 male, -1 unknown."""
    weight: np.ndarray
    rfv: np.ndarray
    """visits x 5 reason codes; blanks are non-positive or unknown codes."""
    diagnoses: np.ndarray
    """visits x 5 ICD-10-CM codes with their dot, '' for none; the first is the primary diagnosis."""

    def __len__(self) -> int:
        return len(self.weight)

    @classmethod
    def concat(cls, parts: Sequence[Visits]) -> Visits:
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in cls.__dataclass_fields__})

    def age_band(self) -> np.ndarray:
        band = np.full(len(self), -1, dtype=np.int8)
        for index, (low, high, _) in enumerate(AGE_BANDS):
            band[(self.age >= low) & (self.age < high)] = index
        return band


def code_prefixes(code: str) -> list[str]:
    """`K35.80` -> [`K35.80`, `K35.8`, `K35`]: the code and every shorter code above it."""
    out = [code]
    while "." in out[-1]:
        shorter = out[-1][:-1].rstrip(".")
        out.append(shorter)
    return out


def diagnosis_candidates(code: str, overrides: Mapping[str, str]) -> tuple[Endpoint, ...]:
    """Where a diagnosis code may land, best first: from the code up to its category, our curated disease
    for that code, else the one disease that cross-references it; failing all, the ICD-10-CM category node,
    which pools the category's codes."""
    out: list[Endpoint] = []
    for prefix in code_prefixes(code):
        if prefix in overrides:
            out.append(overrides[prefix])
        out.append(ByXref(f"ICD10CM:{prefix}"))
    out.append(f"ICD10CM:{code[:3]}")
    return tuple(out)


class Reasons(NamedTuple):
    """Visits' reasons as findings: visits x findings (1 when any reason of the visit maps to the finding), the
    finding ids, the weighted share of reasons by kind, and the weight of each reason code our table does not know."""

    matrix: sparse.csr_matrix
    finding_ids: list[str]
    kinds: dict[str, float]
    unknown: dict[int, float]

    def symptomatic(self) -> np.ndarray:
        """Per visit: whether any of its reasons is a finding (the visits a differential is asked for)."""
        return np.asarray(self.matrix.sum(axis=1)).ravel() > 0
