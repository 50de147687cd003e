"""Typed property columns for the tabular exports (neo4j-admin CSV, GraphML)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cdss.types import Concept, Edge, PropertyValue


def value_kind(value: PropertyValue) -> str | None:
    """`boolean`, `long`, `double`, `string`, or the same with `[]` for lists; None for null."""
    if value is None:
        return None
    if isinstance(value, list):
        kinds = {value_kind(v) for v in value} - {None}
        return f"{_widest(kinds) if kinds else 'string'}[]"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _widest(kinds: set[str]) -> str:
    if kinds <= {"long", "double"}:
        return "double" if "double" in kinds else "long"
    if len(kinds) == 1:
        return next(iter(kinds))
    return "string"


def infer_columns(rows: Iterable[Mapping[str, PropertyValue]]) -> dict[str, str]:
    """Property name -> kind over many rows; mixed kinds fall back to string (lists stay lists)."""
    seen: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            kind = value_kind(value)
            if kind is not None:
                seen.setdefault(key, set()).add(kind)
    columns = {}
    for key in sorted(seen):
        kinds = seen[key]
        lists = {k[:-2] for k in kinds if k.endswith("[]")}
        scalars = {k for k in kinds if not k.endswith("[]")}
        if lists and scalars:
            columns[key] = f"{_widest(lists | scalars)}[]"
        elif lists:
            columns[key] = f"{_widest(lists)}[]"
        else:
            columns[key] = _widest(scalars)
    return columns


def node_fields(c: Concept) -> dict[str, PropertyValue | tuple[str, ...]]:
    """The fixed fields every tabular export writes for a node, in column order, before its attributes."""
    return {
        "id": c.id,
        "label": str(c.label),
        "name": c.name,
        "synonyms": c.synonyms,
        "xrefs": c.xrefs,
        "sources": c.sources,
    }


def edge_fields(e: Edge) -> dict[str, PropertyValue | tuple[str, ...]]:
    """The fixed fields every tabular export writes for an edge, its provenance included, before its attributes."""
    p = e.provenance
    return {
        "start": e.start,
        "end": e.end,
        "type": str(e.type),
        "source": p.source,
        "source_version": p.version,
        "license": p.license,
        "evidence": p.evidence,
        "references": p.references,
    }
