"""Knowledge sources: parsers that turn real vocabularies into graph concepts and links,
the registry that says where each comes from, and how their concepts unify."""

from ontologies.model import ByName, Link, SourceData, SourceRelease
from ontologies.registry import (
    BUNDLED_SOURCES,
    CANONICAL_PREFIXES,
    FETCHED_SOURCES,
    GRAPH_SOURCES,
    MERGE_RULES,
    SOURCES,
    SourceFile,
    SourceSpec,
    find_source,
    source_names,
)

__all__ = [
    "BUNDLED_SOURCES",
    "CANONICAL_PREFIXES",
    "FETCHED_SOURCES",
    "GRAPH_SOURCES",
    "MERGE_RULES",
    "SOURCES",
    "ByName",
    "Link",
    "SourceData",
    "SourceFile",
    "SourceRelease",
    "SourceSpec",
    "find_source",
    "source_names",
]
