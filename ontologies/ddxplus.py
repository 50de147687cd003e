"""DDXPlus: 49 common emergency and primary-care conditions with their evidences.

Conditions are joined to Disease Ontology terms and evidences to HPO/SYMP
findings through our curated tables in `ontologies/mappings/`. An evidence
with no correct finding term stays a DDXPlus-specific finding rather than
being forced onto a wrong one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceError, SourceMissingError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.mappings import mapping_rows
from ontologies.model import Link, SourceData, SourceRelease

SOURCE = "ddxplus"
CONDITIONS = "release_conditions.json"
EVIDENCES = "release_evidences.json"
CONDITION_MAP = "ddxplus_conditions.tsv"
EVIDENCE_MAP = "ddxplus_evidences.tsv"
CONDITION_COLUMNS = ("condition", "doid", "icd10cm", "note")
EVIDENCE_COLUMNS = ("evidence", "finding", "kind", "note")
EVIDENCE_KINDS = frozenset(
    {"symptom", "sign", "history", "exposure", "family_history", "demographic", "characterisation"}
)


def condition_id(key: str) -> str:
    """`Possible NSTEMI / STEMI` -> `DDXPLUS:possible_nstemi_stemi`."""
    return "DDXPLUS:" + re.sub(r"[^a-z0-9]+", "_", key.casefold()).strip("_")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceMissingError(SOURCE, path, "fetch it with `cdss data fetch`") from None
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceParseError(path, None, f"not UTF-8 text ({exc.reason})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceParseError(path, exc.lineno, f"malformed JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise SourceParseError(path, 1, "expected a JSON object keyed by name")
    return data


def _mapped_id(value: str, table: str, line: int) -> str | None:
    if not value:
        return None
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(f"ontologies/mappings/{table}", line, str(exc)) from None


def condition_map() -> dict[str, tuple[str | None, str | None]]:
    """Condition key -> (DOID, ICD-10-CM code) from our curated table."""
    out = {}
    for line, row in mapping_rows(CONDITION_MAP, CONDITION_COLUMNS):
        icd = f"ICD10CM:{row['icd10cm']}" if row["icd10cm"] else None
        out[row["condition"]] = (_mapped_id(row["doid"], CONDITION_MAP, line), icd)
    return out


def evidence_map() -> dict[str, tuple[str | None, str]]:
    """Evidence code -> (finding id or None, kind) from our curated table."""
    out = {}
    for line, row in mapping_rows(EVIDENCE_MAP, EVIDENCE_COLUMNS):
        if row["kind"] not in EVIDENCE_KINDS:
            raise SourceParseError(f"ontologies/mappings/{EVIDENCE_MAP}", line, f"unknown kind {row['kind']!r}")
        out[row["evidence"]] = (_mapped_id(row["finding"], EVIDENCE_MAP, line), row["kind"])
    return out


def _own_findings(used: set[str], evidences: dict, evidences_mapped: dict, evidences_path: Path) -> list[Concept]:
    """A DDXPlus-only finding for each cited evidence our table ties to no HPO or SYMP term."""
    out = []
    for code in sorted(used):
        finding, kind = evidences_mapped.get(code, (None, "symptom"))
        if finding is not None:
            continue
        entry = evidences[code]
        if not isinstance(entry, dict):
            raise SourceParseError(evidences_path, None, f"evidence {code!r} is not a JSON object")
        out.append(
            Concept(
                id=f"DDXPLUS:{code}",
                label=NodeLabel.FINDING,
                name=str(entry.get("question_en") or code),
                sources=(SOURCE,),
                attributes={
                    "evidence_kind": kind,
                    "data_type": str(entry.get("data_type", "")),
                    "is_antecedent": bool(entry.get("is_antecedent", False)),
                },
            )
        )
    return out


def load_ddxplus(folder: Path, release: SourceRelease) -> SourceData:
    data = SourceData(release=release)
    conditions_path, evidences_path = folder / CONDITIONS, folder / EVIDENCES
    conditions = _read_json(conditions_path)
    evidences = _read_json(evidences_path)
    conditions_mapped = condition_map()
    evidences_mapped = evidence_map()
    provenance = release.provenance(evidence=("DDXPlus knowledge base",))

    used: set[str] = set()
    unmapped_conditions = []
    for key in sorted(conditions):
        entry = conditions[key]
        if not isinstance(entry, dict) or not isinstance(entry.get("symptoms"), dict):
            raise SourceParseError(conditions_path, None, f"condition {key!r} has no 'symptoms' object")
        for field in ("symptoms", "antecedents"):
            cited = entry.get(field) or {}
            if not isinstance(cited, dict):
                raise SourceParseError(conditions_path, None, f"condition {key!r}: {field!r} is not an object")
        doid, icd = conditions_mapped.get(key, (None, None))
        if doid is None:
            unmapped_conditions.append(key)
        node = condition_id(key)
        data.concepts.append(
            Concept(
                id=node,
                label=NodeLabel.DISEASE,
                name=str(entry.get("cond-name-eng") or key),
                xrefs=tuple(x for x in (doid, icd) if x),
                sources=(SOURCE,),
                attributes={"severity": entry.get("severity"), "icd10": str(entry.get("icd10-id", ""))},
            )
        )
        for relation, field in (("symptom", "symptoms"), ("antecedent", "antecedents")):
            for code in sorted(entry.get(field) or {}):
                if code not in evidences:
                    raise SourceParseError(conditions_path, None, f"condition {key!r} cites unknown evidence {code!r}")
                finding, kind = evidences_mapped.get(code, (None, "symptom"))
                used.add(code)
                data.links.append(
                    Link.between(
                        EdgeType.HAS_FINDING,
                        node,
                        finding or f"DDXPLUS:{code}",
                        provenance,
                        {"relations": [relation], "evidence_codes": [code], "evidence_kinds": [kind]},
                    )
                )

    own_findings = _own_findings(used, evidences, evidences_mapped, evidences_path)
    data.concepts.extend(own_findings)
    unmapped_evidences = len(own_findings)
    missing_rows = sorted(set(evidences) - set(evidences_mapped))
    data.notes.append(
        f"{len(used) - unmapped_evidences} of {len(used)} cited evidences mapped to HPO/SYMP findings; "
        f"{unmapped_evidences} kept as DDXPlus-specific findings"
    )
    if unmapped_conditions:
        data.notes.append(f"conditions with no Disease Ontology term: {', '.join(unmapped_conditions)}")
    if missing_rows:
        data.notes.append(f"{len(missing_rows)} evidences have no row in {EVIDENCE_MAP}")
    return data
