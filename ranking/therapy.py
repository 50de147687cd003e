"""Treatments and disease neighbourhoods, read from the graph once per graph version.

Small enough to hold in memory (thousands of indication edges), so ranking a
case never waits on the store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from cdss.types import EdgeType, NodeLabel
from kg.store import GraphStore
from ranking.knowledge import EdgeEvidence, _evidence

INDICATIONS = (EdgeType.TREATS, EdgeType.PALLIATES)


@dataclass(frozen=True, slots=True)
class Indication:
    drug: str
    disease: str
    relation: str
    evidence: tuple[EdgeEvidence, ...]


@dataclass(slots=True)
class TherapyIndex:
    indications: dict[str, list[Indication]] = field(default_factory=dict)
    """Disease id -> the drugs that treat or palliate it."""
    drugs_of: dict[str, frozenset[str]] = field(default_factory=dict)
    contraindicated: dict[str, dict[str, tuple[EdgeEvidence, ...]]] = field(default_factory=dict)
    """Disease id -> drugs contraindicated in it, with the edges that say so."""
    not_indicated: dict[tuple[str, str], tuple[EdgeEvidence, ...]] = field(default_factory=dict)
    """(drug, disease) pairs a curated source says do not go together as a treatment."""
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    hierarchy_source: dict[tuple[str, str], str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def build_therapy(store: GraphStore) -> TherapyIndex:
    index = TherapyIndex()
    grouped: dict[tuple[str, str, str], list[EdgeEvidence]] = defaultdict(list)
    for edge_type in INDICATIONS:
        for edge in store.iter_edges(edge_type=edge_type):
            grouped[(edge.end, edge.start, str(edge_type))].append(_evidence(edge))
    by_disease: dict[str, list[Indication]] = defaultdict(list)
    for (disease, drug, relation), evidence in sorted(grouped.items()):
        by_disease[disease].append(Indication(drug, disease, relation, tuple(evidence)))
    index.indications = dict(by_disease)
    index.drugs_of = {d: frozenset(i.drug for i in items) for d, items in by_disease.items()}
    contraindicated: dict[str, dict[str, list[EdgeEvidence]]] = defaultdict(lambda: defaultdict(list))
    for edge in store.iter_edges(edge_type=EdgeType.CONTRAINDICATED_FOR):
        contraindicated[edge.end][edge.start].append(_evidence(edge))
    index.contraindicated = {d: {k: tuple(v) for k, v in drugs.items()} for d, drugs in contraindicated.items()}
    not_indicated: dict[tuple[str, str], list[EdgeEvidence]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.NOT_INDICATED_FOR):
        not_indicated[(edge.start, edge.end)].append(_evidence(edge))
    index.not_indicated = {k: tuple(v) for k, v in not_indicated.items()}
    diseases = {c.id: c.name for c in store.iter_nodes(label=NodeLabel.DISEASE)}
    parents: dict[str, list[str]] = defaultdict(list)
    children: dict[str, list[str]] = defaultdict(list)
    for edge in store.iter_edges(edge_type=EdgeType.IS_A):
        if edge.start in diseases and edge.end in diseases:
            parents[edge.start].append(edge.end)
            children[edge.end].append(edge.start)
            index.hierarchy_source[(edge.start, edge.end)] = edge.provenance.source
    index.parents = {k: sorted(set(v)) for k, v in parents.items()}
    index.children = {k: sorted(set(v)) for k, v in children.items()}
    drugs = {i.drug for items in by_disease.values() for i in items}
    drugs |= {drug for items in index.contraindicated.values() for drug in items}
    index.names = {**diseases, **{c.id: c.name for c in store.get_nodes(sorted(drugs)).values()}}
    return index
