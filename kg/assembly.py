"""Assembling the graph from source data: merge, validate, order.

Pure: takes `SourceData` objects, returns sorted nodes and edges plus a report
of what was merged or set aside. No I/O, so every rule is testable on tiny
hand-made inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from cdss.curies import normalize_curie
from cdss.errors import GraphModelError, InvalidCurieError
from cdss.types import EDGE_ENDPOINTS, Concept, Edge, EdgeKey, NodeLabel, Provenance
from ontologies import SourceData


@dataclass(slots=True)
class SourceSummary:
    """What one source contributed to the assembled graph."""

    name: str
    version: str
    license: str
    concepts: int = 0
    concepts_merged: int = 0
    edges: int = 0
    edges_merged: int = 0
    edges_dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "license": self.license,
            "concepts": self.concepts,
            "concepts_merged": self.concepts_merged,
            "edges": self.edges,
            "edges_merged": self.edges_merged,
            "edges_dropped": self.edges_dropped,
            "notes": list(self.notes),
        }


@dataclass(slots=True)
class AssembledGraph:
    nodes: list[Concept]
    edges: list[Edge]
    sources: list[SourceSummary]


def _scalar_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return None


def _check_value(value: object, owner: str, key: str) -> None:
    """Values must be storable as a Neo4j property: a scalar or a list of one kind of scalar."""
    if value is None or _scalar_kind(value) is not None:
        return
    if isinstance(value, list):
        kinds = {_scalar_kind(v) for v in value}
        if None not in kinds and len(kinds) <= 1:
            return
    raise GraphModelError(
        f"{owner}: property {key!r} has value {value!r}; expected a scalar or a list of one scalar type"
    )


def _check_concept(concept: Concept) -> None:
    try:
        canonical = normalize_curie(concept.id)
    except InvalidCurieError as exc:
        raise GraphModelError(f"node id {concept.id!r} is not a CURIE ({exc})") from None
    if canonical != concept.id:
        raise GraphModelError(f"node id {concept.id!r} is not canonical; expected {canonical!r}")
    if not isinstance(concept.label, NodeLabel):
        raise GraphModelError(f"node {concept.id!r} has unknown label {concept.label!r}")
    if not concept.name:
        raise GraphModelError(f"node {concept.id!r} has no name")
    for key, value in concept.attributes.items():
        _check_value(value, f"node {concept.id!r}", key)


def _merge_concepts(first: Concept, other: Concept) -> Concept:
    """Union of names and ids; the first source's name, label and attribute values win."""
    names = set(first.synonyms) | set(other.synonyms)
    if other.name != first.name:
        names.add(other.name)
    names.discard(first.name)
    attributes = dict(other.attributes)
    attributes.update(first.attributes)
    return Concept(
        id=first.id,
        label=first.label,
        name=first.name,
        synonyms=tuple(sorted(names)),
        xrefs=tuple(sorted(set(first.xrefs) | set(other.xrefs))),
        sources=tuple(sorted(set(first.sources) | set(other.sources))),
        attributes=attributes,
    )


def _merge_edges(first: Edge, other: Edge) -> Edge:
    """Two rows for one edge from one source: union their evidence and references."""
    p, q = first.provenance, other.provenance
    attributes = dict(other.attributes)
    attributes.update(first.attributes)
    return Edge(
        first.type,
        first.start,
        first.end,
        Provenance(
            source=p.source,
            version=p.version,
            license=p.license,
            evidence=tuple(sorted(set(p.evidence) | set(q.evidence))),
            references=tuple(sorted(set(p.references) | set(q.references))),
        ),
        attributes,
    )


def assemble(sources: Iterable[SourceData]) -> AssembledGraph:
    """Merge the sources' concepts by id and their edges by key, and validate the result.

    Sources earlier in the iterable take precedence for names and labels. Edges
    whose endpoints are not in the graph are dropped and counted per source;
    an edge between labels its type does not allow is a model error.
    """
    nodes: dict[str, Concept] = {}
    edges: dict[EdgeKey, Edge] = {}
    summaries: list[SourceSummary] = []
    pending: list[tuple[SourceSummary, list[Edge]]] = []
    for data in sources:
        summary = SourceSummary(name=data.release.name, version=data.release.version, license=data.release.license)
        summary.notes.extend(data.notes)
        summaries.append(summary)
        for concept in data.concepts:
            _check_concept(concept)
            existing = nodes.get(concept.id)
            if existing is None:
                nodes[concept.id] = concept
                summary.concepts += 1
                continue
            if existing.label != concept.label:
                summary.notes.append(
                    f"{concept.id} is a {concept.label} here but already a {existing.label}; kept {existing.label}"
                )
            nodes[concept.id] = _merge_concepts(existing, concept)
            summary.concepts_merged += 1
        pending.append((summary, data.edges))

    for summary, source_edges in pending:
        for edge in source_edges:
            start, end = nodes.get(edge.start), nodes.get(edge.end)
            if start is None or end is None or edge.start == edge.end:
                summary.edges_dropped += 1
                continue
            if (start.label, end.label) not in EDGE_ENDPOINTS[edge.type]:
                raise GraphModelError(
                    f"{edge.type} edge {edge.start} -> {edge.end} from {edge.provenance.source!r} joins "
                    f"{start.label} to {end.label}, which the graph model does not allow"
                )
            for key, value in edge.attributes.items():
                _check_value(value, f"edge {edge.start} -{edge.type}-> {edge.end}", key)
            existing = edges.get(edge.key)
            if existing is None:
                edges[edge.key] = edge
                summary.edges += 1
            else:
                edges[edge.key] = _merge_edges(existing, edge)
                summary.edges_merged += 1
        if summary.edges_dropped:
            summary.notes.append(f"{summary.edges_dropped} edges dropped: an endpoint is not in the graph")

    return AssembledGraph(
        nodes=[nodes[k] for k in sorted(nodes)],
        edges=[edges[k] for k in sorted(edges)],
        sources=summaries,
    )
