"""What a source adapter hands to the graph builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cdss.types import Concept, EdgeType, NodeLabel, PropertyValue, Provenance


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRelease:
    """The release of a source that was actually read: stamped on every edge."""

    name: str
    version: str
    license: str

    def provenance(self, *, evidence: tuple[str, ...] = (), references: tuple[str, ...] = ()) -> Provenance:
        return Provenance(
            source=self.name,
            version=self.version,
            license=self.license,
            evidence=evidence,
            references=references,
        )


@dataclass(frozen=True, slots=True)
class ByName:
    """A link endpoint named only by text (e.g. an indication's disease name).

    It resolves to the one node of an allowed label whose name or synonym is
    this text after normalisation; it is tried after every id.
    """

    text: str


@dataclass(frozen=True, slots=True)
class ByXref:
    """A link endpoint named by a cross-reference only: the one node of an allowed label that lists this
    CURIE among its cross-references, never a node whose own id it is (an ICD-10-CM code names its own node,
    but the Disease Ontology term that cites it is the disease the rest of the graph knows)."""

    curie: str


Endpoint = str | ByName | ByXref


@dataclass(frozen=True, slots=True)
class Link:
    """An edge as a source states it, before concepts are unified.

    Each endpoint is a tuple of candidate CURIEs, best first: a concept id or
    any cross-reference (a UMLS CUI, an RxNorm id). The graph builder resolves
    the first candidate that names exactly one node of an allowed label.
    """

    type: EdgeType
    start: tuple[Endpoint, ...]
    end: tuple[Endpoint, ...]
    provenance: Provenance
    attributes: Mapping[str, PropertyValue] = field(default_factory=dict)

    @classmethod
    def between(
        cls,
        edge_type: EdgeType,
        start: str,
        end: str,
        provenance: Provenance,
        attributes: Mapping[str, PropertyValue] | None = None,
    ) -> Link:
        """A link whose endpoints are known ids."""
        return cls(edge_type, (start,), (end,), provenance, attributes or {})


class GraphLookup(Protocol):
    """What a source's derivation may ask of the unified graph while it is being assembled."""

    def resolve(self, candidates: tuple[Endpoint, ...], labels: frozenset[NodeLabel]) -> str | None:
        """The first candidate that names exactly one node of an allowed label (ambiguous ones are skipped)."""

    def node(self, node_id: str) -> Concept:
        """A unified node by its id."""


@dataclass(slots=True, kw_only=True)
class Derived:
    """Links and node attributes a source computes once it knows which node each of its codes became."""

    links: list[Link] = field(default_factory=list)
    node_attributes: dict[str, dict[str, PropertyValue]] = field(default_factory=dict)
    """Node id -> attributes to set on that node (a source's statistics about an existing concept)."""
    notes: list[str] = field(default_factory=list)
    details: dict[str, PropertyValue] = field(default_factory=dict)
    """Figures for the build report (`cdss kg stats --sources`)."""


@dataclass(slots=True, kw_only=True)
class SourceData:
    """Concepts and links read from one source, plus what was set aside and why."""

    release: SourceRelease
    concepts: list[Concept] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Human-readable counts of rows skipped or remapped, so nothing is dropped silently."""
    derive: Callable[[GraphLookup], Derived] | None = None
    """Statistics that depend on how concepts unify (survey counts pooled per graph disease): called once
    the graph's concepts are unified, before links are resolved."""
