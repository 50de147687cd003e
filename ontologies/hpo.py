"""The Human Phenotype Ontology: phenotype terms and disease annotations.

hp.obo terms under "Phenotypic abnormality" and "Past medical history" become
`Finding` nodes with their `IS_A` hierarchy. phenotype.hpoa rows become
`Disease` nodes (OMIM, ORPHA, DECIPHER) with `HAS_FINDING` edges, or
`EXCLUDES_FINDING` for the source's `NOT` annotations. Inheritance, clinical
course and modifier annotations are not findings; they are kept as disease
attributes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import tsv_rows
from ontologies.model import Link, SourceData, SourceRelease
from ontologies.obo import OboDocument, parse_obo
from ontologies.obo_concepts import concepts_from_terms, descendants, header_license, header_version

SOURCE = "hpo"
DEFAULT_LICENSE = "HPO license, free to use with attribution (https://hpo.jax.org/app/license)"

PHENOTYPIC_ABNORMALITY = "HP:0000118"
PAST_MEDICAL_HISTORY = "HP:0032443"
FINDING_ROOTS = (PHENOTYPIC_ABNORMALITY, PAST_MEDICAL_HISTORY)
HEALTH_STATUS = "HP:0032319"
"""Affected / Unaffected / Healthy describe a relative in a pedigree, not a finding in a patient;
as findings they would match "healthy volunteers" in every abstract."""

# HPO's frequency subontology: the range each term stands for, from its definition.
FREQUENCY_TERMS: dict[str, tuple[float, float]] = {
    "HP:0040280": (1.0, 1.0),  # Obligate: 100%
    "HP:0040281": (0.80, 0.99),  # Very frequent: 80-99%
    "HP:0040282": (0.30, 0.79),  # Frequent: 30-79%
    "HP:0040283": (0.05, 0.29),  # Occasional: 5-29%
    "HP:0040284": (0.01, 0.04),  # Very rare: 1-4%
    "HP:0040285": (0.0, 0.0),  # Excluded: 0%
}
EXCLUDED_FREQUENCY = "HP:0040285"

HPOA_COLUMNS = (
    "database_id",
    "disease_name",
    "qualifier",
    "hpo_id",
    "reference",
    "evidence",
    "onset",
    "frequency",
    "sex",
    "modifier",
    "aspect",
    "biocuration",
)
FINDING_ASPECTS = frozenset({"P", "H"})
ATTRIBUTE_ASPECTS = {"I": "inheritance", "C": "clinical_course", "M": "clinical_modifiers"}

_FRACTION = re.compile(r"^(\d+)/(\d+)$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")


@dataclass(frozen=True, slots=True)
class Frequency:
    """One annotation's frequency, as a point estimate in [0, 1]."""

    value: float
    kind: str
    """"counts" (n/m), "percent" or "hpo_term"."""
    n: int | None = None
    m: int | None = None


def parse_frequency(raw: str) -> Frequency | None:
    """Read an HPOA frequency: an HPO frequency term, `n/m` or `x%`. Empty means unknown."""
    raw = raw.strip()
    if not raw:
        return None
    if raw in FREQUENCY_TERMS:
        low, high = FREQUENCY_TERMS[raw]
        return Frequency(value=(low + high) / 2, kind="hpo_term")
    fraction = _FRACTION.match(raw)
    if fraction:
        n, m = int(fraction.group(1)), int(fraction.group(2))
        if m == 0 or n > m:
            raise ValueError(f"frequency {raw!r} is not a fraction between 0 and 1")
        return Frequency(value=n / m, kind="counts", n=n, m=m)
    percent = _PERCENT.match(raw)
    if percent:
        value = float(percent.group(1))
        if value > 100:
            raise ValueError(f"frequency {raw!r} is above 100%")
        return Frequency(value=value / 100, kind="percent")
    raise ValueError(f"unknown frequency {raw!r}: expected an HPO frequency term, n/m or x%")


def pool_frequencies(frequencies: list[Frequency]) -> dict[str, float | int | str]:
    """Combine several annotations of one disease-finding pair.

    Observed counts win: when any annotation gives n/m, the pooled estimate is
    sum(n)/sum(m) over those. Otherwise the mean of the percentages and term
    midpoints is used.
    """
    counts = [f for f in frequencies if f.kind == "counts"]
    if counts:
        n = sum(f.n or 0 for f in counts)
        m = sum(f.m or 0 for f in counts)
        return {"frequency": n / m, "frequency_kind": "counts", "frequency_n": n, "frequency_m": m}
    if frequencies:
        kinds = sorted({f.kind for f in frequencies})
        return {
            "frequency": sum(f.value for f in frequencies) / len(frequencies),
            "frequency_kind": "+".join(kinds),
        }
    return {}


def release_from_obo(doc: OboDocument) -> SourceRelease:
    """HPO's version and licence as hp.obo states them."""
    license_url = header_license(doc)
    license = f"HPO license, free to use with attribution ({license_url})" if license_url else DEFAULT_LICENSE
    return SourceRelease(name=SOURCE, version=header_version(doc), license=license)


def findings_from_obo(doc: OboDocument, release: SourceRelease) -> SourceData:
    """Finding nodes and their IS_A links from the phenotype and history subtrees."""
    kept = descendants(doc.terms, FINDING_ROOTS) - descendants(doc.terms, [HEALTH_STATUS])
    return concepts_from_terms(doc, kept, label=NodeLabel.FINDING, release=release)


@dataclass(slots=True)
class _PairEvidence:
    """Everything the annotation rows say about one (disease, term, qualifier)."""

    aspect: str
    frequencies: list[Frequency] = field(default_factory=list)
    raw_frequencies: set[str] = field(default_factory=set)
    onsets: set[str] = field(default_factory=set)
    sexes: set[str] = field(default_factory=set)
    modifiers: set[str] = field(default_factory=set)
    evidence: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)


def _check_header(fields: list[str], path: Path, lineno: int) -> None:
    if tuple(fields) != HPOA_COLUMNS:
        expected = " | ".join(HPOA_COLUMNS)
        raise SourceParseError(path, lineno, f"expected the HPOA header columns {expected}")


@dataclass
class _Hpoa:
    """What phenotype.hpoa says, gathered row by row."""

    names: dict[str, str] = field(default_factory=dict)
    pairs: dict[tuple[str, str, bool], _PairEvidence] = field(default_factory=dict)
    disease_attrs: dict[str, dict[str, set[str]]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    unknown_terms: set[str] = field(default_factory=set)
    remapped: int = 0
    dropped_rows: int = 0
    version: str | None = None


def _parse_hpoa(path: Path, primary: dict[str, str], finding_ids: set[str]) -> _Hpoa:
    """Every row checked and gathered per (disease, term, negated); a malformed row names its line."""
    out = _Hpoa()
    header_seen = False
    for lineno, fields in tsv_rows(path, source=SOURCE):
        if fields[0].startswith("#"):
            if fields[0].startswith("#version:"):
                out.version = fields[0].split(":", 1)[1].strip()
            continue
        if not header_seen:
            _check_header(fields, path, lineno)
            header_seen = True
            continue
        if len(fields) != len(HPOA_COLUMNS):
            raise SourceParseError(
                path, lineno, f"expected {len(HPOA_COLUMNS)} tab-separated columns, found {len(fields)}"
            )
        db_id, disease_name, qualifier, hpo_id, reference, evidence, onset, frequency, sex, modifier, aspect, _ = fields
        try:
            disease_id = normalize_curie(db_id)
        except InvalidCurieError as exc:
            raise SourceParseError(path, lineno, str(exc)) from None
        if qualifier not in {"", "NOT"}:
            raise SourceParseError(path, lineno, f"unknown qualifier {qualifier!r}: expected '' or 'NOT'")
        if aspect not in FINDING_ASPECTS and aspect not in ATTRIBUTE_ASPECTS:
            raise SourceParseError(path, lineno, f"unknown aspect {aspect!r}: expected one of P, I, C, M, H")
        try:
            parsed_frequency = parse_frequency(frequency)
        except ValueError as exc:
            raise SourceParseError(path, lineno, str(exc)) from None
        out.names.setdefault(disease_id, disease_name)
        if hpo_id in primary:
            hpo_id = primary[hpo_id]
            out.remapped += 1
        if aspect in ATTRIBUTE_ASPECTS:
            if qualifier == "NOT":
                out.dropped_rows += 1
            else:
                out.disease_attrs[disease_id][ATTRIBUTE_ASPECTS[aspect]].add(hpo_id)
            continue
        if hpo_id not in finding_ids:
            out.unknown_terms.add(hpo_id)
            out.dropped_rows += 1
            continue
        negated = qualifier == "NOT" or frequency == EXCLUDED_FREQUENCY
        pair = out.pairs.setdefault((disease_id, hpo_id, negated), _PairEvidence(aspect=aspect))
        if parsed_frequency is not None:
            pair.frequencies.append(parsed_frequency)
            pair.raw_frequencies.add(frequency)
        if onset:
            pair.onsets.add(onset)
        if sex:
            pair.sexes.add(sex.lower())
        pair.modifiers.update(m for m in modifier.split(";") if m)
        if evidence:
            pair.evidence.add(evidence)
        pair.references.update(r for r in reference.split(";") if r)
    if not header_seen:
        raise SourceParseError(path, None, "no HPOA header line found")
    return out


def _pair_attributes(pair: _PairEvidence, term_names: Callable[[set[str]], list[str]]) -> dict:
    """An annotation edge's attributes: pooled frequency, onset, sex and modifiers with their names."""
    attributes = {"aspect": pair.aspect, **pool_frequencies(pair.frequencies)}
    if pair.raw_frequencies:
        attributes["frequency_raw"] = sorted(pair.raw_frequencies)
    if pair.onsets:
        attributes["onset"] = sorted(pair.onsets)
        attributes["onset_names"] = term_names(pair.onsets)
    if pair.sexes:
        attributes["sex"] = sorted(pair.sexes)
    if pair.modifiers:
        attributes["modifiers"] = sorted(pair.modifiers)
        attributes["modifier_names"] = term_names(pair.modifiers)
    return attributes


def annotations_from_hpoa(path: Path, doc: OboDocument, finding_ids: set[str], release: SourceRelease) -> SourceData:
    """Disease nodes and their finding edges from phenotype.hpoa."""
    primary = {alt: term.id for term in doc.terms.values() if not term.is_obsolete for alt in term.alt_ids}
    parsed = _parse_hpoa(path, primary, finding_ids)
    if parsed.version is not None and parsed.version != release.version:
        release = replace(release, version=parsed.version)
    data = SourceData(release=release)

    def term_names(ids: set[str]) -> list[str]:
        return [doc.terms[i].name or i if i in doc.terms else i for i in sorted(ids)]

    for disease_id in sorted(parsed.names):
        attributes: dict = {}
        for key, ids in sorted(parsed.disease_attrs.get(disease_id, {}).items()):
            attributes[key] = sorted(ids)
            attributes[f"{key}_names"] = term_names(ids)
        data.concepts.append(
            Concept(
                id=disease_id,
                label=NodeLabel.DISEASE,
                name=parsed.names[disease_id],
                sources=(SOURCE,),
                attributes=attributes,
            )
        )
    for (disease_id, hpo_id, negated), pair in sorted(parsed.pairs.items()):
        data.links.append(
            Link.between(
                EdgeType.EXCLUDES_FINDING if negated else EdgeType.HAS_FINDING,
                disease_id,
                hpo_id,
                release.provenance(evidence=tuple(sorted(pair.evidence)), references=tuple(sorted(pair.references))),
                _pair_attributes(pair, term_names),
            )
        )
    zero = sum(1 for link in data.links if link.attributes.get("frequency") == 0.0)
    if zero:
        data.notes.append(
            f"{zero} HAS_FINDING edges have frequency 0 (seen in none of m patients, e.g. 0/5); "
            "they are kept with that frequency, which the ranking treats as evidence against"
        )
    if parsed.remapped:
        data.notes.append(f"{parsed.remapped} annotations used an alternative HPO id and were mapped to the primary id")
    if parsed.dropped_rows:
        data.notes.append(
            f"{parsed.dropped_rows} annotation rows dropped: {len(parsed.unknown_terms)} unknown or non-finding "
            "terms, or NOT on a non-phenotype aspect"
        )
    return data


def load_hpo(obo_path: Path, hpoa_path: Path) -> SourceData:
    """Read hp.obo and phenotype.hpoa into findings, diseases and their edges."""
    doc = parse_obo(obo_path, source=SOURCE)
    release = release_from_obo(doc)
    findings = findings_from_obo(doc, release)
    finding_ids = {c.id for c in findings.concepts}
    annotations = annotations_from_hpoa(hpoa_path, doc, finding_ids, release)
    if annotations.release != release:
        annotations.notes.append(f"annotations are from a different release: {annotations.release.version}")
    return SourceData(
        release=release,
        concepts=findings.concepts + annotations.concepts,
        links=findings.links + annotations.links,
        notes=findings.notes + annotations.notes,
    )
