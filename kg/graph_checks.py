"""What a graph may hold: canonical CURIEs, named and labelled nodes, and property values a Neo4j property can
store. Assembly checks every concept and link attribute against these before it becomes part of the graph."""

from __future__ import annotations

from cdss.curies import normalize_curie
from cdss.errors import GraphModelError, InvalidCurieError
from cdss.types import Concept, NodeLabel


def scalar_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "str"
    return None


def check_value(value: object, owner: str, key: str) -> None:
    """Values must be storable as a Neo4j property: a scalar or a list of one kind of scalar."""
    if value is None or scalar_kind(value) is not None:
        return
    if isinstance(value, list):
        kinds = {scalar_kind(v) for v in value}
        if None not in kinds and len(kinds) <= 1:
            return
    raise GraphModelError(
        f"{owner}: property {key!r} has value {value!r}; expected a scalar or a list of one scalar type"
    )


# Property names every store and export already uses for a node's or an edge's own fields.
RESERVED_NODE_KEYS = frozenset({"id", "label", "name", "synonyms", "xrefs", "sources"})
RESERVED_EDGE_KEYS = frozenset(
    {"type", "start", "end", "source", "source_version", "license", "evidence", "references"}
)


def check_curie(value: str, owner: str, what: str) -> None:
    try:
        canonical = normalize_curie(value)
    except InvalidCurieError as exc:
        raise GraphModelError(f"{owner}: {what} {value!r} is not a CURIE ({exc})") from None
    if canonical != value:
        raise GraphModelError(f"{owner}: {what} {value!r} is not canonical; expected {canonical!r}")


def check_concept(concept: Concept, source: str) -> None:
    owner = f"node {concept.id!r} from {source!r}"
    check_curie(concept.id, owner, "id")
    if not isinstance(concept.label, NodeLabel):
        raise GraphModelError(f"{owner} has unknown label {concept.label!r}")
    if not concept.name:
        raise GraphModelError(f"{owner} has no name")
    for xref in concept.xrefs:
        check_curie(xref, owner, "cross-reference")
    for key, value in concept.attributes.items():
        if key in RESERVED_NODE_KEYS:
            raise GraphModelError(f"{owner}: attribute {key!r} clashes with a node field")
        check_value(value, owner, key)
