"""What a source adapter hands to the graph builder."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdss.types import Concept, Edge, Provenance


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


@dataclass(slots=True, kw_only=True)
class SourceData:
    """Concepts and edges read from one source, plus what was set aside and why."""

    release: SourceRelease
    concepts: list[Concept] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Human-readable counts of rows skipped or remapped, so nothing is dropped silently."""
