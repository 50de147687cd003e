"""Our own curated knowledge of common and can't-miss diseases, every row citing a public source.

- `mappings/common_disease_signs.tsv`: the symptoms, signs, labs, imaging and
  ECG findings a clinician expects in the diseases most often seen in US
  offices and emergency departments, and in the can't-miss diagnoses, with a
  sensitivity where the cited source gives one. They are what reasons for
  visit cannot say (crackles, right lower quadrant pain, neck stiffness).
- `mappings/cant_miss.tsv`: diagnoses that must not be missed (DXplain's
  "important", Isabel's "red flag"), each with why and a citation; they become
  the `urgent` node attribute.
- `mappings/first_line_treatments.tsv`: first-line and alternative drugs of
  current guidelines for frequent and can't-miss diseases (`TREATS`, with the
  line of treatment), so that a differential's treatments lead with what a
  clinician would start, ahead of drug-label indications.

Edges carry the source `cdss_curated`, the table's digest as its version and
the citation as their reference, so anyone can audit each row.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from cdss.types import EdgeType, NodeLabel
from ontologies.mappings import mapping_rows
from ontologies.model import Derived, GraphLookup, Link, SourceData, SourceRelease

SOURCE = "cdss_curated"
LICENSE = "CC0 1.0 (cdss curation); each row cites the public source of its fact"
SIGNS = "common_disease_signs.tsv"
SIGN_COLUMNS = ("disease", "disease_name", "finding", "finding_name", "frequency", "kind", "citation", "note")
SIGN_KINDS = frozenset({"symptom", "sign", "lab", "imaging", "ecg", "history"})
CANT_MISS = "cant_miss.tsv"
CANT_MISS_COLUMNS = ("disease", "name", "reason", "citation")
FIRST_LINE = "first_line_treatments.tsv"
FIRST_LINE_COLUMNS = ("disease", "drug", "drug_name", "line", "citation", "note")
LINES = frozenset({"first", "alternative"})
DISEASE = frozenset({NodeLabel.DISEASE})


def _curie(value: str, table: str, line: int) -> str:
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(f"ontologies/mappings/{table}", line, str(exc)) from None


def _frequency(value: str, line: int) -> float | None:
    if not value:
        return None
    try:
        frequency = float(value)
    except ValueError:
        raise SourceParseError(f"ontologies/mappings/{SIGNS}", line, f"frequency {value!r} is not a number") from None
    if not 0.0 < frequency <= 1.0:
        raise SourceParseError(f"ontologies/mappings/{SIGNS}", line, f"frequency {value} is not in (0, 1]")
    return frequency


def release() -> SourceRelease:
    """The tables' digest is the release: any edit to a row is a new version."""
    digest = hashlib.sha256()
    for name in (SIGNS, CANT_MISS, FIRST_LINE):
        digest.update(resources.files("ontologies.mappings").joinpath(name).read_bytes())
    return SourceRelease(name=SOURCE, version=f"cdss tables {digest.hexdigest()[:12]}", license=LICENSE)


def load_curated() -> SourceData:
    data = SourceData(release=release())
    seen: set[tuple[str, str]] = set()
    for line, row in mapping_rows(SIGNS, SIGN_COLUMNS):
        disease, finding = _curie(row["disease"], SIGNS, line), _curie(row["finding"], SIGNS, line)
        if (disease, finding) in seen:
            raise SourceParseError(f"ontologies/mappings/{SIGNS}", line, f"{disease} - {finding} has two rows")
        seen.add((disease, finding))
        if row["kind"] not in SIGN_KINDS:
            raise SourceParseError(f"ontologies/mappings/{SIGNS}", line, f"unknown kind {row['kind']!r}")
        if not row["citation"].strip():
            raise SourceParseError(f"ontologies/mappings/{SIGNS}", line, "every row must cite its source")
        attributes: dict = {"relation": f"curated_{row['kind']}", "note": row["note"], "curated_by": "cdss"}
        frequency = _frequency(row["frequency"], line)
        if frequency is not None:
            attributes.update(frequency=frequency, frequency_kind="sensitivity")
        provenance = data.release.provenance(evidence=("cdss curation",), references=(row["citation"].strip(),))
        data.links.append(Link.between(EdgeType.HAS_FINDING, disease, finding, provenance, attributes))
    treatments = 0
    for line, row in mapping_rows(FIRST_LINE, FIRST_LINE_COLUMNS):
        where = f"ontologies/mappings/{FIRST_LINE}"
        if row["line"] not in LINES:
            raise SourceParseError(where, line, f"line {row['line']!r} is not one of {sorted(LINES)}")
        if not row["citation"].strip():
            raise SourceParseError(where, line, "every row must cite its guideline")
        provenance = data.release.provenance(evidence=("guideline",), references=(row["citation"].strip(),))
        data.links.append(
            Link.between(
                EdgeType.TREATS,
                _curie(row["drug"], FIRST_LINE, line),
                _curie(row["disease"], FIRST_LINE, line),
                provenance,
                {"line": row["line"], "note": row["note"], "curated_by": "cdss"},
            )
        )
        treatments += 1
    urgent = []
    for line, row in mapping_rows(CANT_MISS, CANT_MISS_COLUMNS):
        if not row["reason"].strip() or not row["citation"].strip():
            raise SourceParseError(
                f"ontologies/mappings/{CANT_MISS}", line, "a can't-miss row needs a reason and a citation"
            )
        urgent.append((_curie(row["disease"], CANT_MISS, line), row["name"], row["reason"], row["citation"]))
    data.notes.append(
        f"{len(seen)} curated disease-finding rows over {len({d for d, _ in seen})} diseases; "
        f"{treatments} guideline treatment rows"
    )

    def derive(lookup: GraphLookup) -> Derived:
        derived = Derived()
        missing = []
        for disease, name, reason, citation in urgent:
            node = lookup.resolve((disease,), DISEASE)
            if node is None:
                missing.append(f"{disease} {name}")
                continue
            derived.node_attributes[node] = {"urgent": True, "urgent_reason": reason, "urgent_citation": citation}
        derived.notes.append(f"{len(derived.node_attributes)} can't-miss diseases flagged urgent")
        if missing:
            derived.notes.append(f"can't-miss rows naming no disease in the graph: {', '.join(missing)}")
        return derived

    data.derive = derive
    return data
