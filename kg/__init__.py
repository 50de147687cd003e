"""The clinical knowledge graph: assembly, stores, build and export."""

from kg.build import BuildReport, build_graph
from kg.store import Direction, GraphStats, GraphStore
from kg.store_urls import building_store, open_store

__all__ = ["BuildReport", "Direction", "GraphStats", "GraphStore", "build_graph", "building_store", "open_store"]
