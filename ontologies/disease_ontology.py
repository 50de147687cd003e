"""The Human Disease Ontology from its TSV reports: terms, hierarchy, cross-references
and curated disease -> symptom edges.

HumanDO.tsv names each term's parent by label, so parents are resolved by
joining labels within the file. Symptoms are Symptom Ontology ids; they become
findings once SYMP is unified with HPO.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError, SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.files import csv_records
from ontologies.model import Link, SourceData, SourceRelease

SOURCE = "disease_ontology"
TERMS = "HumanDO.tsv"
XREFS = "allXREFinDO.tsv"
SYMPTOMS = "DO-disease-symptom.tsv"


def _curie(value: str, path: Path, line: int) -> str:
    try:
        return normalize_curie(value)
    except InvalidCurieError as exc:
        raise SourceParseError(path, line, str(exc)) from None


def load_disease_ontology(folder: Path, release: SourceRelease) -> SourceData:
    """Diseases with IS_A and cross-references, plus HAS_FINDING links to SYMP terms."""
    data = SourceData(release=release)
    provenance = release.provenance()
    labels: dict[str, str] = {}
    parents: dict[str, list[tuple[str, int]]] = defaultdict(list)
    terms_path = folder / TERMS
    for line, row in csv_records(terms_path, source=SOURCE, columns=("id", "label", "subClassOf")):
        term_id = _curie(row["id"], terms_path, line)
        if not term_id.startswith("DOID:"):
            raise SourceParseError(terms_path, line, f"expected a DOID term, found {row['id']!r}")
        if labels.setdefault(term_id, row["label"]) != row["label"]:
            raise SourceParseError(terms_path, line, f"{term_id} has two labels: {labels[term_id]!r}, {row['label']!r}")
        if row["subClassOf"]:
            parents[term_id].append((row["subClassOf"], line))
    id_of_label: dict[str, str] = {}
    for term_id, label in labels.items():
        if id_of_label.setdefault(label, term_id) != term_id:
            raise SourceParseError(terms_path, None, f"label {label!r} names both {id_of_label[label]} and {term_id}")

    xrefs: dict[str, set[str]] = defaultdict(set)
    xref_path = folder / XREFS
    skipped_xrefs = 0
    for line, row in csv_records(xref_path, source=SOURCE, columns=("id", "xref")):
        term_id = _curie(row["id"], xref_path, line)
        try:
            xrefs[term_id].add(normalize_curie(row["xref"]))
        except InvalidCurieError:
            skipped_xrefs += 1

    for term_id in sorted(labels):
        data.concepts.append(
            Concept(
                id=term_id,
                label=NodeLabel.DISEASE,
                name=labels[term_id],
                xrefs=tuple(sorted(xrefs.get(term_id, ()))),
                sources=(SOURCE,),
            )
        )
    unresolved: set[str] = set()
    for term_id in sorted(parents):
        for parent_label, _line in parents[term_id]:
            parent = id_of_label.get(parent_label)
            if parent is None:
                unresolved.add(parent_label)
                continue
            data.links.append(Link.between(EdgeType.IS_A, term_id, parent, provenance))

    symptom_path = folder / SYMPTOMS
    for line, row in csv_records(symptom_path, source=SOURCE, columns=("disease_id", "symptom_id")):
        disease = _curie(row["disease_id"], symptom_path, line)
        symptom = _curie(row["symptom_id"], symptom_path, line)
        data.links.append(Link.between(EdgeType.HAS_FINDING, disease, symptom, provenance, {"relation": "has_symptom"}))

    orphans = sorted(x for x in xrefs if x not in labels)
    if unresolved:
        data.notes.append(
            f"parent label(s) not defined in {TERMS}, their IS_A edges left out: {', '.join(sorted(unresolved))}"
        )
    if orphans:
        data.notes.append(f"{len(orphans)} terms in {XREFS} are not in {TERMS}; their cross-references are unused")
    if skipped_xrefs:
        data.notes.append(f"{skipped_xrefs} cross-references are not CURIEs and were skipped")
    return data
