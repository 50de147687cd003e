"""Plain domain types shared by every package: the graph model and the NLP contract.

These are contracts, not behaviour: stores, parsers and the API all speak in
`Concept`, `Edge` and `Mention`, so no package needs another's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cdss.json_fields import json_fields

Scalar = str | int | float | bool
PropertyValue = Scalar | None | list[Scalar]
"""What a node or edge property may hold: what Neo4j can store as a property."""


class NodeLabel(StrEnum):
    DISEASE = "Disease"
    FINDING = "Finding"
    DRUG = "Drug"
    GENE = "Gene"
    """A human gene: NCBI Gene id where the source gives one, its HGNC symbol as the name."""
    PHARMACOLOGIC_CLASS = "PharmacologicClass"
    """A drug class: FDA established pharmacologic class or mechanism of action, or a MeSH pharmacological action."""
    RECORD = "Record"
    """A patient record ingested by `cdss ingest records`; its id is a keyed hash, never the raw id."""


class EdgeType(StrEnum):
    HAS_FINDING = "HAS_FINDING"
    EXCLUDES_FINDING = "EXCLUDES_FINDING"
    IS_A = "IS_A"
    TREATS = "TREATS"
    PALLIATES = "PALLIATES"
    CONTRAINDICATED_FOR = "CONTRAINDICATED_FOR"
    NOT_INDICATED_FOR = "NOT_INDICATED_FOR"
    """A curated statement that a drug does not treat a disease (not a contraindication)."""
    ASSOCIATED_WITH = "ASSOCIATED_WITH"
    """A disease or a phenotypic finding tied to a gene (HPO's gene annotations)."""
    TARGETS = "TARGETS"
    """A drug acts on a gene's product (DrugCentral's efficacy targets)."""
    IN_CLASS = "IN_CLASS"
    """A drug belongs to a pharmacologic class."""
    MENTIONS = "MENTIONS"
    """A record mentions a concept, with the assertion and section the NLP pipeline found."""


EDGE_ENDPOINTS: Mapping[EdgeType, frozenset[tuple[NodeLabel, NodeLabel]]] = {
    EdgeType.HAS_FINDING: frozenset({(NodeLabel.DISEASE, NodeLabel.FINDING)}),
    EdgeType.EXCLUDES_FINDING: frozenset({(NodeLabel.DISEASE, NodeLabel.FINDING)}),
    EdgeType.IS_A: frozenset({(NodeLabel.FINDING, NodeLabel.FINDING), (NodeLabel.DISEASE, NodeLabel.DISEASE)}),
    EdgeType.TREATS: frozenset({(NodeLabel.DRUG, NodeLabel.DISEASE)}),
    EdgeType.PALLIATES: frozenset({(NodeLabel.DRUG, NodeLabel.DISEASE)}),
    EdgeType.CONTRAINDICATED_FOR: frozenset({(NodeLabel.DRUG, NodeLabel.DISEASE)}),
    EdgeType.NOT_INDICATED_FOR: frozenset({(NodeLabel.DRUG, NodeLabel.DISEASE)}),
    EdgeType.ASSOCIATED_WITH: frozenset({(NodeLabel.DISEASE, NodeLabel.GENE), (NodeLabel.FINDING, NodeLabel.GENE)}),
    EdgeType.TARGETS: frozenset({(NodeLabel.DRUG, NodeLabel.GENE)}),
    EdgeType.IN_CLASS: frozenset({(NodeLabel.DRUG, NodeLabel.PHARMACOLOGIC_CLASS)}),
    EdgeType.MENTIONS: frozenset(
        {
            (NodeLabel.RECORD, NodeLabel.DISEASE),
            (NodeLabel.RECORD, NodeLabel.FINDING),
            (NodeLabel.RECORD, NodeLabel.DRUG),
        }
    ),
}
"""The (start label, end label) pairs each edge type may join, in every store."""


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an edge came from. Every edge carries one."""

    source: str
    version: str
    license: str
    evidence: tuple[str, ...] = ()
    """Evidence codes as the source gives them (e.g. HPO's TAS, PCS, IEA)."""
    references: tuple[str, ...] = ()
    """Citations behind the edge (PMID:..., OMIM:..., ISBN:...)."""


@dataclass(frozen=True, slots=True)
class Concept:
    """A node: one real-world disease, finding or drug."""

    id: str
    label: NodeLabel
    name: str
    synonyms: tuple[str, ...] = ()
    xrefs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    attributes: Mapping[str, PropertyValue] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": str(self.label),
            "name": self.name,
            "synonyms": list(self.synonyms),
            "xrefs": list(self.xrefs),
            "sources": list(self.sources),
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Concept:
        return cls(
            id=data["id"],
            label=NodeLabel(data["label"]),
            name=data["name"],
            synonyms=tuple(data.get("synonyms", ())),
            xrefs=tuple(data.get("xrefs", ())),
            sources=tuple(data.get("sources", ())),
            attributes=dict(data.get("attributes", {})),
        )


EdgeKey = tuple[EdgeType, str, str, str]
"""(type, start id, end id, source): an edge's identity in every store."""


@dataclass(frozen=True, slots=True)
class Edge:
    """A typed, directed relation between two concepts, with its provenance."""

    type: EdgeType
    start: str
    end: str
    provenance: Provenance
    attributes: Mapping[str, PropertyValue] = field(default_factory=dict)

    @property
    def key(self) -> EdgeKey:
        return (self.type, self.start, self.end, self.provenance.source)

    def to_dict(self) -> dict[str, Any]:
        p = self.provenance
        return {
            "type": str(self.type),
            "start": self.start,
            "end": self.end,
            "provenance": {
                "source": p.source,
                "version": p.version,
                "license": p.license,
                "evidence": list(p.evidence),
                "references": list(p.references),
            },
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Edge:
        p = data["provenance"]
        return cls(
            type=EdgeType(data["type"]),
            start=data["start"],
            end=data["end"],
            provenance=Provenance(
                source=p["source"],
                version=p["version"],
                license=p["license"],
                evidence=tuple(p.get("evidence", ())),
                references=tuple(p.get("references", ())),
            ),
            attributes=dict(data.get("attributes", {})),
        )


class Assertion(StrEnum):
    """What a record says about a mentioned concept."""

    PRESENT = "present"
    NEGATED = "negated"
    POSSIBLE = "possible"
    HISTORICAL = "historical"
    FAMILY = "family"
    HYPOTHETICAL = "hypothetical"


class MentionMethod(StrEnum):
    """How a mention was found."""

    DICTIONARY = "dictionary"
    FUZZY = "fuzzy"
    NER = "ner"
    MEASUREMENT = "measurement"
    """A vital sign or lab value read against its reference range."""


@dataclass(frozen=True, slots=True)
class Mention:
    """A concept found in a record's text: the NLP pipeline's output contract."""

    record_id: str
    start: int
    end: int
    text: str
    concept_id: str | None
    concept_type: NodeLabel | None
    assertion: Assertion
    section: str | None
    method: MentionMethod
    confidence: float
    measurement: dict[str, Any] | None = None
    """For a measurement: value, unit, outcome, the range used and why it counts (or the problem)."""

    def to_dict(self) -> dict[str, Any]:
        """The mention as JSON, without the record id (the caller knows which record it asked about)."""
        return json_fields(self, omit=("record_id",), omit_none=("measurement",))
