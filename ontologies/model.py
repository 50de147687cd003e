"""What a source adapter hands to the graph builder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdss.types import Concept, EdgeType, PropertyValue, Provenance


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


Endpoint = str | ByName


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


@dataclass(slots=True, kw_only=True)
class SourceData:
    """Concepts and links read from one source, plus what was set aside and why."""

    release: SourceRelease
    concepts: list[Concept] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Human-readable counts of rows skipped or remapped, so nothing is dropped silently."""
