"""Chest X-ray classifier labels (CheXpert, NIH ChestX-ray14) mapped to finding concepts.

The ranking engine uses this to turn an image model's label probabilities
into evidence about findings in the graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from ontologies.mappings import mapping_rows

TABLE = "cxr_labels.tsv"
COLUMNS = ("label", "chexpert", "nih", "findings", "clinical", "note")


@dataclass(frozen=True, slots=True)
class CxrLabel:
    label: str
    findings: tuple[str, ...]
    clinical: bool
    """False for labels with no meaning as a patient finding (No Finding, Support Devices)."""
    label_sets: tuple[str, ...]
    note: str


def _flag(value: str, line: int, column: str) -> bool:
    if value not in {"0", "1", "yes", "no"}:
        raise SourceParseError(f"ontologies/mappings/{TABLE}", line, f"{column} must be 0/1 or yes/no, not {value!r}")
    return value in {"1", "yes"}


@cache
def cxr_label_map() -> dict[str, CxrLabel]:
    """Label as the image model emits it -> its finding concepts."""
    labels = {}
    for line, row in mapping_rows(TABLE, COLUMNS):
        try:
            findings = tuple(normalize_curie(f) for f in row["findings"].split(";") if f)
        except InvalidCurieError as exc:
            raise SourceParseError(f"ontologies/mappings/{TABLE}", line, str(exc)) from None
        sets = tuple(name for name in ("chexpert", "nih") if _flag(row[name], line, name))
        labels[row["label"]] = CxrLabel(
            label=row["label"],
            findings=findings,
            clinical=_flag(row["clinical"], line, "clinical"),
            label_sets=sets,
            note=row["note"],
        )
    return labels
