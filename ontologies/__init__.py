"""Knowledge sources: parsers that turn real vocabularies into graph concepts and edges."""

from ontologies.model import SourceData, SourceRelease
from ontologies.registry import BUNDLED_SOURCES, SourceSpec, source_names

__all__ = ["BUNDLED_SOURCES", "SourceData", "SourceRelease", "SourceSpec", "source_names"]
