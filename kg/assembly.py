"""Assembling the graph from source data: unify concepts, resolve links, validate, order.

Pure: takes `SourceData` objects, returns sorted nodes and edges plus a report
of what was merged, left unmapped or set aside. No I/O, so every rule is
testable on tiny hand-made inputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from cdss.errors import GraphModelError
from cdss.json_fields import json_fields
from cdss.merge_rules import MergeRule
from cdss.types import EDGE_ENDPOINTS, Concept, Edge, EdgeKey, EdgeType, NodeLabel, Provenance
from kg.graph_checks import RESERVED_EDGE_KEYS, RESERVED_NODE_KEYS, check_concept, check_value
from kg.resolution import Resolver
from kg.unify import MergeStats, merge_concepts, unify
from ontologies import SourceData
from ontologies.model import Endpoint, Link


@dataclass(slots=True)
class SourceSummary:
    """What one source contributed to the assembled graph, and what unification did with it."""

    name: str
    version: str
    license: str
    concepts: int = 0
    edges: int = 0
    edges_merged: int = 0
    links_unmapped: int = 0
    links_ambiguous: int = 0
    links_by_name: int = 0
    links_wrong_label: int = 0
    links_self: int = 0
    contradictions: int = 0
    cycles_dropped: int = 0
    merge: MergeStats = field(default_factory=MergeStats)
    notes: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    """Source-specific figures (e.g. a survey's coverage), reported as they are."""

    def to_dict(self) -> dict:
        merge = {**json_fields(self.merge, omit=("routes",)), "merge_routes": dict(sorted(self.merge.routes.items()))}
        return {
            **json_fields(self, omit=("merge", "details")),
            **merge,
            **({"details": self.details} if self.details else {}),
        }


@dataclass(slots=True)
class AssembledGraph:
    nodes: list[Concept]
    edges: list[Edge]
    sources: list[SourceSummary]


def _merge_edges(first: Edge, other: Edge) -> Edge:
    """Two statements of one edge by one source (often after their endpoints were unified).

    Evidence, references and every list attribute are united, so nothing either
    statement said is lost. Observed counts are pooled when both give them;
    for other scalars the first statement's value wins.
    """
    p, q = first.provenance, other.provenance
    a, b = first.attributes, other.attributes
    attributes = dict(b)
    attributes.update(a)
    for key in a.keys() & b.keys():
        if isinstance(a[key], list) and isinstance(b[key], list):
            attributes[key] = sorted(set(a[key]) | set(b[key]))
    if all(isinstance(x.get(k), int) for x in (a, b) for k in ("frequency_n", "frequency_m")):
        n = a["frequency_n"] + b["frequency_n"]
        m = a["frequency_m"] + b["frequency_m"]
        attributes.update(frequency=n / m, frequency_n=n, frequency_m=m, frequency_kind="counts")
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


def _flag_contradictions(edges: dict[EdgeKey, Edge], summaries: Mapping[str, SourceSummary]) -> None:
    """A pair stated both present and excluded (e.g. OMIM and ORPHA disagree after their
    diseases were unified) keeps both statements, each marked so the ranking can tell."""
    excluded = {(k[1], k[2]) for k in edges if k[0] == EdgeType.EXCLUDES_FINDING}
    present = {(k[1], k[2]) for k in edges if k[0] == EdgeType.HAS_FINDING}
    for key, edge in list(edges.items()):
        pair = (key[1], key[2])
        flagged = (key[0] == EdgeType.HAS_FINDING and pair in excluded) or (
            key[0] == EdgeType.EXCLUDES_FINDING and pair in present
        )
        if flagged:
            edges[key] = Edge(
                edge.type, edge.start, edge.end, edge.provenance, {**edge.attributes, "contradicted": True}
            )
            if key[0] == EdgeType.EXCLUDES_FINDING and edge.provenance.source in summaries:
                summaries[edge.provenance.source].contradictions += 1


def _ancestors(parents: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        for parent in parents.get(node, ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


@dataclass(frozen=True, slots=True)
class _Lookup:
    """The unified graph as a source's derivation sees it."""

    resolver: Resolver

    def resolve(self, candidates: tuple[Endpoint, ...], labels: frozenset[NodeLabel]) -> str | None:
        return self.resolver.first_unique(candidates, labels)

    def node(self, node_id: str) -> Concept:
        return self.resolver.nodes[node_id]


def _derive(
    data: Sequence[SourceData],
    resolver: Resolver,
    nodes: dict[str, Concept],
    summaries: Mapping[str, SourceSummary],
) -> list[tuple[str, Link]]:
    """Run each source's derivation on the unified graph: its links join the others, its node
    attributes are set on the nodes (in place), its notes and figures go to its summary."""
    links: list[tuple[str, Link]] = []
    for d in data:
        if d.derive is None:
            continue
        source = d.release.name
        derived = d.derive(_Lookup(resolver))
        links.extend((source, link) for link in derived.links)
        for node_id, attributes in sorted(derived.node_attributes.items()):
            node = nodes.get(node_id)
            if node is None:
                raise GraphModelError(f"{source!r} derived attributes for {node_id!r}, which is not a node")
            for key, value in attributes.items():
                if key in RESERVED_NODE_KEYS:
                    raise GraphModelError(f"{source!r}: derived attribute {key!r} clashes with a node field")
                check_value(value, f"node {node_id!r} from {source!r}", key)
            nodes[node_id] = replace(node, attributes={**node.attributes, **attributes})
        summaries[source].notes.extend(derived.notes)
        summaries[source].details.update(derived.details)
    return links


def assemble(
    sources: Iterable[SourceData],
    *,
    rules: Sequence[MergeRule] = (),
    canonical_prefixes: Mapping[NodeLabel, Sequence[str]] | None = None,
) -> AssembledGraph:
    """Unify the sources' concepts and resolve their links into one validated graph.

    Sources earlier in the iterable take precedence for names, labels and
    attribute values of concepts that share an id. Links whose endpoints name
    no node, or several, are dropped and counted per source; an `IS_A` edge
    that would close a cycle is dropped too (earlier sources' hierarchy wins).
    """
    data = list(sources)
    summaries = {
        d.release.name: SourceSummary(name=d.release.name, version=d.release.version, license=d.release.license)
        for d in data
    }
    releases = {d.release.name: d.release for d in data}
    concepts, contributors = _collect_concepts(data, summaries)
    unified = unify(
        concepts, contributors, rules=rules, canonical_prefixes=canonical_prefixes or {}, source_order=list(summaries)
    )
    for name, stats in unified.stats.items():
        if name in summaries:
            summaries[name].merge = stats

    resolver = Resolver(unified.nodes, unified.node_of)
    derived_links = _derive(data, resolver, unified.nodes, summaries)
    grouping_links = [
        (
            g.rule.source,
            Link.between(
                EdgeType.IS_A,
                g.child,
                g.parent,
                releases[g.rule.source].provenance(),
                {"rule": g.rule.route, "merge_evidence": g.evidence},
            ),
        )
        for g in unified.groupings
    ]
    ordered_links = [(d.release.name, link) for d in data for link in d.links] + grouping_links + derived_links
    edges = _resolve_links(ordered_links, resolver, unified.nodes, summaries)
    _drop_is_a_cycles(edges, summaries)
    _flag_contradictions(edges, summaries)
    for summary in summaries.values():
        summary.notes.extend(_link_notes(summary))
    return AssembledGraph(
        nodes=[unified.nodes[k] for k in sorted(unified.nodes)],
        edges=[edges[k] for k in sorted(edges)],
        sources=list(summaries.values()),
    )


def _collect_concepts(
    data: Sequence[SourceData], summaries: dict[str, SourceSummary]
) -> tuple[dict[str, Concept], dict[str, set[str]]]:
    """Every source's concepts by id, merged where sources share one (earlier sources win), and who gave each."""
    concepts: dict[str, Concept] = {}
    contributors: dict[str, set[str]] = defaultdict(set)
    for d in data:
        summary = summaries[d.release.name]
        summary.notes.extend(d.notes)
        for concept in d.concepts:
            check_concept(concept, d.release.name)
            summary.concepts += 1
            contributors[concept.id].add(d.release.name)
            existing = concepts.get(concept.id)
            if existing is None:
                concepts[concept.id] = concept
                continue
            if existing.label != concept.label:
                summary.notes.append(
                    f"{concept.id} is a {concept.label} here but already a {existing.label}; kept {existing.label}"
                )
            concepts[concept.id] = merge_concepts(existing, concept)
    return concepts, contributors


def _resolve_links(
    ordered_links: Sequence[tuple[str, Link]],
    resolver: Resolver,
    nodes: Mapping[str, Concept],
    summaries: dict[str, SourceSummary],
) -> dict[EdgeKey, Edge]:
    """Links onto unified nodes as edges, merged per key; what cannot be placed is counted per source."""
    edges: dict[EdgeKey, Edge] = {}
    for source, link in ordered_links:
        summary = summaries[source]
        allowed = EDGE_ENDPOINTS[link.type]
        head = resolver.resolve(link.start, {s for s, _ in allowed})
        tail = resolver.resolve(link.end, {e for _, e in allowed})
        start, end = head.node_id, tail.node_id
        if start is None or end is None:
            if head.ambiguous or tail.ambiguous:
                summary.links_ambiguous += 1
            elif head.wrong_label or tail.wrong_label:
                summary.links_wrong_label += 1
            else:
                summary.links_unmapped += 1
            continue
        if start == end:
            summary.links_self += 1
            continue
        if (nodes[start].label, nodes[end].label) not in allowed:
            summary.links_wrong_label += 1
            continue
        for key, value in link.attributes.items():
            if key in RESERVED_EDGE_KEYS:
                raise GraphModelError(f"{link.type} link from {source!r}: attribute {key!r} clashes with an edge field")
            check_value(value, f"edge {start} -{link.type}-> {end}", key)
        if head.by_name or tail.by_name:
            summary.links_by_name += 1
        edge = Edge(link.type, start, end, link.provenance, dict(link.attributes))
        existing = edges.get(edge.key)
        if existing is None:
            edges[edge.key] = edge
            summary.edges += 1
        else:
            edges[edge.key] = _merge_edges(existing, edge)
            summary.edges_merged += 1
    return edges


def _drop_is_a_cycles(edges: dict[EdgeKey, Edge], summaries: dict[str, SourceSummary]) -> None:
    """Remove each IS_A edge that would close a cycle, taking sources in order (earlier hierarchies win)."""
    is_a_by_source: dict[str, list[EdgeKey]] = defaultdict(list)
    for key, edge in edges.items():
        if key[0] == EdgeType.IS_A:
            is_a_by_source[edge.provenance.source].append(key)
    parents: dict[str, set[str]] = defaultdict(set)
    for source in summaries:
        for key in is_a_by_source[source]:
            child, parent = key[1], key[2]
            if parent not in parents[child] and child in _ancestors(parents, parent):
                del edges[key]
                summaries[source].edges -= 1
                summaries[source].cycles_dropped += 1
            else:
                parents[child].add(parent)


def _link_notes(summary: SourceSummary) -> list[str]:
    """The build report's sentences on a source's links that were dropped, flagged or attached by name."""
    notes = []
    if summary.links_self:
        notes.append(f"{summary.links_self} links dropped: both ends are one node after unification")
    if summary.links_wrong_label:
        notes.append(
            f"{summary.links_wrong_label} links dropped: an endpoint names a node of a label "
            "the edge type does not allow"
        )
    if summary.contradictions:
        notes.append(
            f"{summary.contradictions} disease-finding pairs are both HAS_FINDING and EXCLUDES_FINDING; "
            "both edges are kept and flagged `contradicted`"
        )
    if summary.links_unmapped:
        notes.append(f"{summary.links_unmapped} links dropped: an endpoint names no node in the graph")
    if summary.links_by_name:
        notes.append(f"{summary.links_by_name} links attached by exact disease name, no shared id")
    if summary.links_ambiguous:
        notes.append(f"{summary.links_ambiguous} links dropped: an endpoint names several nodes")
    if summary.cycles_dropped:
        notes.append(f"{summary.cycles_dropped} IS_A edges dropped: they would close a cycle")
    return notes
