"""Finding a concept by any of its ids, and describing it with its edges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdss.curies import normalize_curie
from cdss.errors import NotFoundError
from cdss.types import Concept, Edge, EdgeType, NodeLabel
from kg.store import Direction, GraphStore


@dataclass(slots=True)
class NodeView:
    """A node, how it was found, its edges, and its neighbours' names for display."""

    concept: Concept
    matched_xref: str | None
    outgoing: list[Edge]
    incoming: list[Edge]
    neighbours: dict[str, Concept] = field(default_factory=dict)

    def to_dict(self) -> dict:
        def edge(e: Edge, other: str) -> dict:
            data = e.to_dict()
            neighbour = self.neighbours.get(other)
            data["other_name"] = neighbour.name if neighbour else None
            return data

        return {
            "node": self.concept.to_dict(),
            "matched_xref": self.matched_xref,
            "outgoing": [edge(e, e.end) for e in self.outgoing],
            "incoming": [edge(e, e.start) for e in self.incoming],
        }


def resolve(store: GraphStore, curie: str) -> list[tuple[Concept, str | None]]:
    """Nodes for a CURIE: the node with that id, else nodes that list it as a cross-reference.

    Returns (concept, matched xref or None). Raises `NotFoundError` when nothing matches.
    """
    canonical = normalize_curie(curie)
    node = store.get_node(canonical)
    if node is not None:
        return [(node, None)]
    matches = store.find_by_xref(canonical)
    if not matches:
        raise NotFoundError(f"unknown concept {curie!r}: no node has this id or cross-reference")
    return [(m, canonical) for m in matches]


def describe(
    store: GraphStore,
    curie: str,
    *,
    label: NodeLabel | None = None,
    outgoing_types: Sequence[EdgeType] | None = None,
    incoming_types: Sequence[EdgeType] | None = None,
) -> list[NodeView]:
    """Each node matching the CURIE (of `label`, when given) with its edges (of the given types, else all) and
    its neighbours' names: what `cdss kg show` prints and the API's disease page lists."""
    views = []
    for concept, via in resolve(store, curie):
        if label is not None and concept.label != label:
            continue
        outgoing = store.neighbours(concept.id, edge_types=outgoing_types, direction=Direction.OUT)
        incoming = store.neighbours(concept.id, edge_types=incoming_types, direction=Direction.IN)
        other_ids = sorted({e.end for e in outgoing} | {e.start for e in incoming})
        views.append(NodeView(concept, via, outgoing, incoming, store.get_nodes(other_ids)))
    return views


def drug_named(store: GraphStore, text: str) -> Concept | None:
    """The one drug a medication's text names: its longest leading run of words that is a drug's name or synonym
    ("Amoxicillin 500 mg tablet" -> amoxicillin); None when no run, or several drugs, match."""
    words = text.split()
    for end in range(min(len(words), 6), 0, -1):
        drugs = store.find_by_name(" ".join(words[:end]), label=NodeLabel.DRUG)
        if drugs:
            return drugs[0] if len(drugs) == 1 else None
    return None


def gene_named(store: GraphStore, symbol: str) -> list[Concept]:
    """The genes an HGNC symbol names: those that cross-reference `HGNC.SYMBOL:<symbol>` (an NCBI Gene node),
    else the node with that id (a gene only DrugCentral knows), else those named so in any case ("fbn1")."""
    xref = f"HGNC.SYMBOL:{symbol}"
    found = [c for c in store.find_by_xref(xref) if c.label == NodeLabel.GENE]
    node = store.get_node(xref) if not found else None
    if node is not None and node.label == NodeLabel.GENE:
        found = [node]
    return found or store.find_by_name(symbol, label=NodeLabel.GENE)
