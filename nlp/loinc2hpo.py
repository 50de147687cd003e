"""Which HPO term a low, normal or high value of a LOINC-coded test stands for.

LOINC2HPO (`cdss data fetch` puts it under `<CDSS_SOURCES_DIR>/loinc2hpo/`)
maps a LOINC code and an outcome to an HPO term: for L and H the term is
present, for N it is absent (usually the parent "Abnormal ... level", or the
one "Increased ..." term of a test that only has that). Our
`loinc2hpo_overrides.tsv` corrects known errors and adds what LOINC2HPO
lacks (the blood pressure panel, BMI); an empty `hpo` there removes a row.
Without the LOINC2HPO file only our rows apply, and the build says so.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from cdss.errors import SourceParseError
from nlp.resources import read_resource_text

FILE = Path("loinc2hpo") / "loinc2hpo-annotations.tsv"
QUANTITATIVE = "Qn"
OUTCOMES = ("L", "N", "H")


@dataclass(frozen=True, slots=True)
class OutcomeTerm:
    hpo: str
    origin: str
    """"LOINC2HPO" or "cdss override: <reason>"."""


def read_loinc2hpo(path: Path) -> dict[tuple[str, str], str]:
    """(LOINC, L/N/H) -> HPO id, from the quantitative rows of a LOINC2HPO annotation file."""
    out: dict[tuple[str, str], str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = {"loincId", "loincScale", "outcome", "hpoTermId"} - set(reader.fieldnames or ())
        if missing:
            raise SourceParseError(str(path), 1, f"missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            if row["loincScale"] == QUANTITATIVE and row["outcome"] in OUTCOMES:
                out[(row["loincId"], row["outcome"])] = row["hpoTermId"]
    return out


def outcome_terms(sources_dir: Path | None) -> tuple[dict[tuple[str, str], OutcomeTerm], list[str]]:
    """LOINC2HPO with our overrides applied, and notes on what was missing."""
    notes: list[str] = []
    terms: dict[tuple[str, str], OutcomeTerm] = {}
    path = sources_dir / FILE if sources_dir else None
    if path is not None and path.is_file():
        terms = {key: OutcomeTerm(hpo, "LOINC2HPO") for key, hpo in read_loinc2hpo(path).items()}
    else:
        notes.append(f"no LOINC2HPO file at {path}: only cdss's own outcome rows apply (run `cdss data fetch`)")
    for row in csv.DictReader(io.StringIO(read_resource_text("loinc2hpo_overrides.tsv")), delimiter="\t"):
        key = (row["loinc"], row["outcome"])
        if row["hpo"]:
            terms[key] = OutcomeTerm(row["hpo"], f"cdss override: {row['reason']}")
        else:
            terms.pop(key, None)
    return terms, notes
