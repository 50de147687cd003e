"""Between our types and Neo4j records: node and edge properties out, concepts and edges back, and the
full-text query and ordering of a name search. Pure functions; `kg.neo4j_store` runs the statements."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from cdss.text import normalize_term
from cdss.types import Concept, Edge

_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_RESERVED_NODE = frozenset(
    {"id", "name", "synonyms", "xrefs", "sources", "attributes", "terms", "norm_key", "xref_key"}
)
_RESERVED_EDGE = frozenset({"source", "source_version", "license", "evidence", "references", "attributes"})


def dumps_value(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def copyable(value: Any) -> bool:
    """Values Neo4j can hold as a property: scalars and non-empty lists of one scalar type."""
    if isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list) and value:
        kinds = {type(v) for v in value}
        return len(kinds) == 1 and kinds <= {bool, int, float, str}
    return False


def joined_key(values: Iterable[str]) -> str:
    return "|" + "|".join(values) + "|"


def node_properties(concept: Concept) -> dict[str, Any]:
    names = [concept.name, *concept.synonyms]
    norms = sorted({normalize_term(n) for n in names if normalize_term(n)})
    copied = {k: v for k, v in concept.attributes.items() if k not in _RESERVED_NODE and copyable(v)}
    return {
        **copied,
        "id": concept.id,
        "name": concept.name,
        "synonyms": list(concept.synonyms),
        "xrefs": list(concept.xrefs),
        "sources": list(concept.sources),
        "attributes": dumps_value(dict(concept.attributes)),
        "terms": "\n".join(norms),
        "norm_key": joined_key(norms),
        "xref_key": joined_key(concept.xrefs),
    }


def edge_properties(edge: Edge) -> dict[str, Any]:
    p = edge.provenance
    copied = {k: v for k, v in edge.attributes.items() if k not in _RESERVED_EDGE and copyable(v)}
    return {
        **copied,
        "source": p.source,
        "source_version": p.version,
        "license": p.license,
        "evidence": list(p.evidence),
        "references": list(p.references),
        "attributes": dumps_value(dict(edge.attributes)),
    }


def concept_from_record(record: Mapping[str, Any]) -> Concept:
    lists = {k: record[k] or () for k in ("synonyms", "xrefs", "sources")}
    attributes = json.loads(record["attributes"] or "{}")
    return Concept.from_dict(
        {"id": record["id"], "label": record["label"], "name": record["name"], **lists, "attributes": attributes}
    )


def edge_from_record(record: Mapping[str, Any]) -> Edge:
    """A relationship row as Cypher returns it (provenance flattened into properties) back to an `Edge`."""
    provenance = {k: record[k] for k in ("source", "version", "license")}
    provenance |= {k: record[k] or () for k in ("evidence", "references")}
    attributes = json.loads(record["attributes"] or "{}")
    ends = {k: record[k] for k in ("type", "start", "end")}
    return Edge.from_dict({**ends, "provenance": provenance, "attributes": attributes})


def lucene_query(text: str) -> str | None:
    """Every normalised word required as a prefix; the whole words and the phrase scored on top.

    Lucene gives prefix terms a constant score, so without the optional exact
    clauses every hit would tie and the candidate cut would be arbitrary.
    """
    words = [_LUCENE_SPECIAL.sub(r"\\\1", w) for w in normalize_term(text).split()]
    if not words:
        return None
    clauses = [f"+{w}*" for w in words] + words
    if len(words) > 1:
        clauses.append(f'"{" ".join(words)}"^2')
    return " ".join(clauses)


def parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def matching_names(concept: Concept, norm: str) -> list[str]:
    """The concept's normalised names that hold every word of the query as a word prefix.

    The full-text index sees all of a node's names as one field; the embedded
    store matches within one name, and so does this filter.
    """
    words = norm.split()
    names = [normalize_term(n) for n in (concept.name, *concept.synonyms)]
    return [n for n in names if all(any(t.startswith(w) for t in n.split()) for w in words)]


def search_order(concept: Concept, score: float, norm: str, matching: list[str]) -> tuple:
    """The embedded store's order: exact name, exact synonym, relevance, shortest matching name, id."""
    name = normalize_term(concept.name)
    return (name != norm, norm not in matching, -score, min(len(n) for n in matching), concept.id)
