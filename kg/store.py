"""The `GraphStore` interface every store implements, and the types it returns.

The embedded SQLite store and the Neo4j store both implement it, and one
contract test suite runs against both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any

from cdss.types import Concept, Edge, EdgeKey, EdgeType, NodeLabel


class Direction(StrEnum):
    OUT = "out"
    IN = "in"
    BOTH = "both"


META_GRAPH_VERSION = "graph_version"
META_BUILT_AT = "built_at"
META_SOURCES = "sources"
META_SCHEMA_VERSION = "schema_version"


@dataclass(slots=True)
class GraphStats:
    """Counts that describe a built graph."""

    graph_version: str | None
    nodes_by_label: dict[str, int]
    edges_by_type: dict[str, int]
    nodes_by_source: dict[str, dict[str, int]]
    """source -> label -> count."""
    edges_by_source: dict[str, dict[str, int]]
    """source -> edge type -> count."""
    has_finding_with_frequency: int
    built_at: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)
    """What each source contributed at build time (versions, licences, notes)."""

    @property
    def node_count(self) -> int:
        return sum(self.nodes_by_label.values())

    @property
    def edge_count(self) -> int:
        return sum(self.edges_by_type.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "graph_version": self.graph_version,
            "built_at": self.built_at,
            "nodes": self.node_count,
            "edges": self.edge_count,
            "nodes_by_label": dict(sorted(self.nodes_by_label.items())),
            "edges_by_type": dict(sorted(self.edges_by_type.items())),
            "nodes_by_source": {k: dict(sorted(v.items())) for k, v in sorted(self.nodes_by_source.items())},
            "edges_by_source": {k: dict(sorted(v.items())) for k, v in sorted(self.edges_by_source.items())},
            "has_finding_with_frequency": self.has_finding_with_frequency,
            "sources": self.sources,
        }


class GraphStore(ABC):
    """A property graph of `Concept` nodes and `Edge` relations.

    Writes are idempotent upserts: writing the same node or edge twice leaves
    one copy. A node is identified by its id, an edge by (type, start, end,
    source).
    """

    location: str

    # -- writes ---------------------------------------------------------------
    @abstractmethod
    def upsert_nodes(self, nodes: Iterable[Concept]) -> int:
        """Insert or replace nodes, in batches; returns how many were written."""

    @abstractmethod
    def upsert_edges(self, edges: Iterable[Edge]) -> int:
        """Insert or replace edges, in batches; returns how many were written."""

    @abstractmethod
    def delete_edges(self, keys: Iterable[EdgeKey]) -> int:
        """Delete edges by key, in one transaction; returns how many existed."""

    @abstractmethod
    def set_meta(self, values: Mapping[str, str]) -> None:
        """Record build metadata (graph version, build time, source releases)."""

    # -- reads ----------------------------------------------------------------
    @abstractmethod
    def get_nodes(self, ids: Sequence[str]) -> dict[str, Concept]:
        """The nodes with these ids; unknown ids are absent from the result."""

    def get_node(self, node_id: str) -> Concept | None:
        return self.get_nodes([node_id]).get(node_id)

    @abstractmethod
    def find_by_xref(self, curie: str) -> list[Concept]:
        """Nodes that list `curie` among their cross-references."""

    @abstractmethod
    def find_by_name(self, name: str, *, label: NodeLabel | None = None) -> list[Concept]:
        """Nodes whose name or a synonym equals `name` after normalisation."""

    @abstractmethod
    def search(self, text: str, *, label: NodeLabel | None = None, limit: int = 20) -> list[Concept]:
        """Nodes whose names or synonyms contain the words of `text` (prefixes allowed), best first."""

    def neighbours(
        self,
        node_id: str,
        *,
        edge_types: Sequence[EdgeType] | None = None,
        direction: Direction = Direction.BOTH,
        limit: int | None = None,
    ) -> list[Edge]:
        """Edges touching `node_id`, optionally of some types and one direction (outgoing first).

        A negative `limit` means no limit, as None does.
        """
        limit = None if limit is not None and limit < 0 else limit
        edges: list[Edge] = []
        for side in (Direction.OUT, Direction.IN):
            if direction in (side, Direction.BOTH):
                edges += self._edges(node_id, side, edge_types, limit)
        return edges if limit is None else edges[:limit]

    @abstractmethod
    def _edges(
        self, node_id: str, side: Direction, edge_types: Sequence[EdgeType] | None, limit: int | None
    ) -> list[Edge]:
        """Edges leaving (OUT) or reaching (IN) `node_id`, sorted by type, other end and source."""

    @abstractmethod
    def iter_nodes(self, *, label: NodeLabel | None = None) -> Iterator[Concept]:
        """Every node, sorted by id."""

    @abstractmethod
    def iter_edges(self, *, edge_type: EdgeType | None = None, start_label: NodeLabel | None = None) -> Iterator[Edge]:
        """Every edge (of one type, and leaving nodes of one label, if given), sorted by (type, start, end,
        source): the typed export, or one kind of edge without reading its many neighbours of another kind."""

    @abstractmethod
    def meta(self) -> dict[str, str]:
        """Build metadata as written by `set_meta`."""

    @abstractmethod
    def stats(self) -> GraphStats:
        """Counts per label, edge type and source."""

    @property
    def graph_version(self) -> str | None:
        return self.meta().get(META_GRAPH_VERSION)

    def ping(self) -> bool:
        """Whether the store answers now (a server store may go away and come back)."""
        return True

    def replaced(self) -> bool:
        """Whether the store was swapped for another since it was opened (a file store's file rebuilt); a server
        store is rebuilt in place and never is."""
        return False

    # -- lifecycle ------------------------------------------------------------
    @abstractmethod
    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    def __enter__(self) -> GraphStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
