"""NAMCS and NHAMCS: US national surveys of office and emergency-department visits.

Every sampled visit has up to five reasons for visit (NCHS RFV codes: the
patient's complaints in their own words), up to five ICD-10-CM diagnoses, age,
sex and a national weight. From the visits whose primary diagnosis becomes a
graph disease this source derives, per disease:

- how often each reason comes with it, P(reason | diagnosis), weighted by the
  survey weights, overall and per setting and age band (`HAS_FINDING` edges);
- how often the disease is the diagnosis of a visit, per setting, age band and
  sex (node attributes, the ranking's prior).

Reasons map to findings through our curated table `mappings/namcs_rfv.tsv`;
a symptom with no fitting HPO or SYMP term becomes our own `RFV:` finding.
Diagnoses map to graph diseases after the graph's concepts are unified (see
`ontologies.visit_statistics`), because which node an ICD-10-CM code becomes
depends on the other sources' cross-references.

Reading each file is independent: a missing or unreadable survey year is
named in the build report and the others are used.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import FETCH_HINT
from ontologies.mappings import mapping_rows
from ontologies.model import Link, SourceData, SourceRelease
from ontologies.visit_statistics import derive_visit_statistics
from ontologies.visits import RFV_KINDS, SYMPTOM, RfvRow, Visits

SOURCE = "namcs_nhamcs"
RFV_MAP = "namcs_rfv.tsv"
RFV_COLUMNS = ("rfv", "label", "finding", "parent", "kind", "match", "note")
DIAGNOSIS_MAP = "namcs_diagnoses.tsv"
DIAGNOSIS_COLUMNS = ("icd10cm", "disease", "note")
COLUMNS = ("AGE", "SEX", "PATWT", "RFV1", "RFV2", "RFV3", "RFV4", "RFV5", "DIAG1", "DIAG2", "DIAG3", "DIAG4", "DIAG5")
SETTINGS = ("ed", "office")
SEX_CODES = {1: 0, 2: 1}
"""NCHS codes sex 1 = female, 2 = male; the arrays use 0 = female, 1 = male."""
_ICD = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")


@dataclass(frozen=True, slots=True)
class Survey:
    """One public-use file: a year of one survey."""

    file: str
    setting: str
    year: int
    fmt: str
    """`stata` (a .dta in a zip) or `sas` (a .sas7bdat in a zip)."""

    @property
    def label(self) -> str:
        return f"{'NHAMCS-ED' if self.setting == 'ed' else 'NAMCS'} {self.year}"


SURVEYS = (
    Survey("ed-2018-2022/ED2018-stata.zip", "ed", 2018, "stata"),
    Survey("ed-2018-2022/ED2019-stata.zip", "ed", 2019, "stata"),
    Survey("ed-2018-2022/ed2020-stata.zip", "ed", 2020, "stata"),
    Survey("ed-2018-2022/ed2022-stata.zip", "ed", 2022, "stata"),
    Survey("office-2016-2018/namcs2016_sas.zip", "office", 2016, "sas"),
    Survey("office-2016-2018/namcs2018_sas.zip", "office", 2018, "sas"),
)


def icd10cm_code(raw: object) -> str | None:
    """A survey diagnosis (`J189`, `R51-`, `-9`, `ZZZ1`) as an ICD-10-CM code with its dot, or None.

    The files give four characters without the dot, `-` filling a shorter code;
    blanks and the surveys' own `ZZZ` codes (left before being seen, illegible...) are no diagnosis.
    """
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    code = text.strip().upper().rstrip("-")
    if not _ICD.match(code):
        return None
    return code if len(code) == 3 else f"{code[:3]}.{code[3:]}"


def _member(path: Path, suffix: str) -> bytes:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(suffix)]
            if len(names) != 1:
                raise SourceParseError(path, None, f"expected one {suffix} file in the zip, found {len(names)}")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise SourceParseError(path, None, f"not a readable zip file ({exc})") from None
    except OSError as exc:
        raise SourceError(f"source {SOURCE!r}: cannot read {path}: {exc.strerror or exc}") from None


def read_survey(path: Path, survey: Survey) -> Visits:
    """The visits of one public-use file, with the columns this source needs."""
    import pandas as pd

    try:
        if survey.fmt == "stata":
            frame = pd.read_stata(io.BytesIO(_member(path, ".dta")), columns=list(COLUMNS), convert_categoricals=False)
        else:
            frame = pd.read_sas(io.BytesIO(_member(path, ".sas7bdat")), format="sas7bdat")
    except (ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise SourceParseError(path, None, f"not a readable {survey.fmt} survey file ({exc})") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise SourceParseError(path, None, f"lacks the survey variable(s) {', '.join(missing)}")
    rfv = frame[[f"RFV{i}" for i in range(1, 6)]].fillna(-9).to_numpy(dtype=np.int64)
    diagnoses = np.array(
        [[icd10cm_code(v) or "" for v in frame[f"DIAG{i}"].tolist()] for i in range(1, 6)], dtype=object
    ).T
    sex = frame["SEX"].fillna(0).to_numpy(dtype=np.int64)
    weight = frame["PATWT"].to_numpy(dtype=np.float64)
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise SourceParseError(path, None, "the visit weights (PATWT) are not all finite and non-negative")
    return Visits(
        setting=np.full(len(frame), SETTINGS.index(survey.setting), dtype=np.int8),
        year=np.full(len(frame), survey.year, dtype=np.int16),
        age=frame["AGE"].to_numpy(dtype=np.float64),
        sex=np.array([SEX_CODES.get(int(s), -1) for s in sex], dtype=np.int8),
        weight=weight,
        rfv=rfv,
        diagnoses=diagnoses,
    )


def rfv_table() -> dict[int, RfvRow]:
    """Our curated reason-for-visit table: code -> finding, own-finding parent, kind."""
    out: dict[int, RfvRow] = {}
    for line, row in mapping_rows(RFV_MAP, RFV_COLUMNS):
        where = f"ontologies/mappings/{RFV_MAP}"
        if not re.fullmatch(r"\d{5}", row["rfv"]):
            raise SourceParseError(where, line, f"RFV code {row['rfv']!r} is not five digits")
        if row["kind"] not in RFV_KINDS:
            raise SourceParseError(where, line, f"unknown kind {row['kind']!r}; expected one of {sorted(RFV_KINDS)}")
        code = int(row["rfv"])
        if code in out:
            raise SourceParseError(where, line, f"RFV code {code} has two rows")
        finding, parent = (_curie(row[key], where, line) for key in ("finding", "parent"))
        if row["kind"] != SYMPTOM and (finding or parent):
            raise SourceParseError(
                where, line, f"a {row['kind']} reason is not a finding; leave finding and parent empty"
            )
        out[code] = RfvRow(code=code, label=row["label"], finding=finding, parent=parent, kind=row["kind"])
    return out


def diagnosis_overrides() -> dict[str, str]:
    """Our curated ICD-10-CM code or category -> graph disease, where cross-references are ambiguous or absent."""
    out = {}
    for line, row in mapping_rows(DIAGNOSIS_MAP, DIAGNOSIS_COLUMNS):
        where = f"ontologies/mappings/{DIAGNOSIS_MAP}"
        code = icd10cm_code(row["icd10cm"].replace(".", ""))
        if code is None or code.replace(".", "") != row["icd10cm"].replace(".", ""):
            raise SourceParseError(where, line, f"{row['icd10cm']!r} is not an ICD-10-CM code")
        disease = _curie(row["disease"], where, line)
        if disease is None:
            raise SourceParseError(where, line, f"no disease for {code}")
        out[code] = disease
    return out


def _curie(value: str, where: str, line: int) -> str | None:
    if not value:
        return None
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(where, line, str(exc)) from None


def rfv_finding_id(code: int) -> str:
    return f"RFV:{code}"


def load_namcs(folder: Path, release: SourceRelease) -> SourceData:
    """Our own RFV findings now; the reason profiles and priors once the graph's diseases are known."""
    data = SourceData(release=release)
    table = rfv_table()
    provenance = release.provenance(evidence=("NCHS reason-for-visit classification",))
    for row in sorted(table.values(), key=lambda r: r.code):
        if row.kind != SYMPTOM or row.finding:
            continue
        node = rfv_finding_id(row.code)
        data.concepts.append(
            Concept(
                id=node,
                label=NodeLabel.FINDING,
                name=row.label,
                sources=(SOURCE,),
                attributes={"rfv_code": row.code, "evidence_kind": "reason_for_visit"},
            )
        )
        if row.parent:
            data.links.append(Link.between(EdgeType.IS_A, node, row.parent, provenance, {"rule": "curated parent"}))

    parts, read = [], []
    for survey in SURVEYS:
        path = folder / survey.file
        if not path.is_file():
            data.notes.append(f"{survey.label}: {survey.file} is missing; built without it")
            continue
        try:
            parts.append(read_survey(path, survey))
        except SourceError as error:
            data.notes.append(f"{survey.label}: {survey.file} could not be read and was left out: {error}")
            continue
        read.append(survey.label)
    if not parts:
        raise SourceError(f"source {SOURCE!r}: no survey file under {folder} could be read; {FETCH_HINT}")
    visits = Visits.concat(parts)
    data.notes.append(f"{len(visits):,} visits read from {', '.join(read)}")
    data.derive = partial(
        derive_visit_statistics,
        visits=visits,
        rfv=table,
        overrides=diagnosis_overrides(),
        release=release,
        surveys=tuple(read),
        finding_of=rfv_finding_id,
    )
    return data
