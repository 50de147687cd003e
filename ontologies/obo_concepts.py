"""Turning OBO terms into graph concepts: shared by HPO and the Symptom Ontology."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from cdss.curies import normalize_curie
from cdss.errors import InvalidCurieError
from cdss.types import Concept, EdgeType, NodeLabel
from ontologies.model import Link, SourceData, SourceRelease
from ontologies.obo import OboDocument, OboTerm


def header_license(doc: OboDocument) -> str | None:
    """The `terms:license` URL an OBO header declares, if any."""
    for value in doc.header.get("property_value", []):
        if value.startswith("terms:license "):
            return value.split(" ", 1)[1].strip()
    return None


def header_version(doc: OboDocument) -> str:
    """The release date from `data-version` (e.g. `hp/releases/2025-01-16` -> `2025-01-16`)."""
    raw = doc.header_value("data-version") or "unknown"
    parts = [p for p in raw.split("/") if p and not p.endswith(".obo") and p != "releases"]
    return parts[-1] if parts else raw


def descendants(terms: dict[str, OboTerm], roots: Iterable[str]) -> set[str]:
    """Live terms under `roots` (roots included), following is_a downwards."""
    children: dict[str, list[str]] = defaultdict(list)
    for term in terms.values():
        if not term.is_obsolete:
            for parent in term.is_a:
                children[parent].append(term.id)
    seen: set[str] = set()
    stack = [root for root in roots if root in terms]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(children[node])
    return seen


def concepts_from_terms(
    doc: OboDocument,
    term_ids: set[str],
    *,
    label: NodeLabel,
    release: SourceRelease,
    keep_xref: Callable[[str], bool] = lambda _: True,
) -> SourceData:
    """A concept per term, and IS_A links between the selected terms.

    EXACT and RELATED synonyms become synonyms; NARROW and BROAD ones are kept
    as attributes only, because matching text on them would mislink.
    """
    data = SourceData(release=release)
    provenance = release.provenance()
    skipped = 0
    for term_id in sorted(term_ids):
        term = doc.terms[term_id]
        name = term.name or term_id
        keep = {s.text for s in term.synonyms if s.scope in {"EXACT", "RELATED"} and s.type != "obsolete_synonym"}
        keep.discard(name)
        attributes: dict = {}
        if term.definition:
            attributes["definition"] = term.definition
        for scope in ("NARROW", "BROAD"):
            texts = sorted({s.text for s in term.synonyms if s.scope == scope})
            if texts:
                attributes[f"{scope.lower()}_synonyms"] = texts
        xrefs = set()
        for value in [*term.xrefs, *term.alt_ids]:
            if not keep_xref(value):
                continue
            try:
                xrefs.add(normalize_curie(value))
            except InvalidCurieError:
                skipped += 1
        data.concepts.append(
            Concept(
                id=term_id,
                label=label,
                name=name,
                synonyms=tuple(sorted(keep)),
                xrefs=tuple(sorted(xrefs)),
                sources=(release.name,),
                attributes=attributes,
            )
        )
        for parent in sorted(set(term.is_a)):
            if parent in term_ids:
                data.links.append(Link.between(EdgeType.IS_A, term_id, parent, provenance))
    if skipped:
        data.notes.append(f"{skipped} term cross-references are not CURIEs and were skipped")
    return data
