"""Copy a graph into another store (typically the embedded graph into Neo4j), incrementally and re-runnably.

Nodes and edges are upserted in the target's batches, so running it again
rewrites the same data and changes nothing; a run cut short resumes by
running it again. The graph version is copied last, after every batch has
committed, so a reader never sees a version stamped on half a graph.
Edges the target has but the source no longer has are removed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdss.progress import progress
from kg.store import META_GRAPH_VERSION, GraphStore


@dataclass(slots=True)
class PushReport:
    nodes: int
    edges: int
    stale_edges_removed: int
    graph_version: str | None


def push_graph(source: GraphStore, target: GraphStore, *, show_progress: bool | None = None) -> PushReport:
    stats = source.stats()
    meta = source.meta()
    target.set_meta({META_GRAPH_VERSION: ""})
    nodes = target.upsert_nodes(
        progress(source.iter_nodes(), desc="pushing nodes", total=stats.node_count, enabled=show_progress)
    )
    wanted = set()

    def edges():
        for edge in source.iter_edges():
            wanted.add(edge.key)
            yield edge

    edges_written = target.upsert_edges(
        progress(edges(), desc="pushing edges", total=stats.edge_count, enabled=show_progress)
    )
    stale = [edge.key for edge in target.iter_edges() if edge.key not in wanted]
    removed = target.delete_edges(stale) if stale else 0
    target.set_meta(meta)
    return PushReport(nodes, edges_written, removed, meta.get(META_GRAPH_VERSION))
