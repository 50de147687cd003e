"""Ingested records survive a rebuild: read from the graph being replaced, written into the new one.

A build makes the graph from its sources; `Record` nodes, their `MENTIONS` edges and the record-derived
`HAS_FINDING` edges (source `records`) come from this deployment's notes and exist nowhere else. They are read
before the old graph is replaced (or, for Neo4j, cleared) and written into the new graph before it goes live.
A mention of a concept the new graph no longer has is dropped and counted. They do not enter the graph
version, which names what the sources made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from cdss.errors import GraphNotBuiltError, StoreError
from cdss.types import Concept, Edge, EdgeType, NodeLabel
from kg.store import GraphStore

log = logging.getLogger(__name__)

RECORDS_SOURCE = "records"


@dataclass(slots=True)
class RecordSnapshot:
    records: list[Concept] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


@dataclass(slots=True)
class RecordsCarried:
    records: int = 0
    edges: int = 0
    edges_dropped: int = 0
    """Mentions and record-derived edges whose concept the new graph lacks."""


def read_records(store: GraphStore) -> RecordSnapshot:
    """Every record, its mentions and the record-derived edges of `store`, with the records' metadata."""
    records = list(store.iter_nodes(label=NodeLabel.RECORD))
    edges = list(store.iter_edges(edge_type=EdgeType.MENTIONS, start_label=NodeLabel.RECORD))
    edges += [e for e in store.iter_edges(edge_type=EdgeType.HAS_FINDING) if e.provenance.source == RECORDS_SOURCE]
    return RecordSnapshot(records, edges)


def previous_records(open_previous: Callable[[], GraphStore]) -> RecordSnapshot:
    """The records of the graph about to be replaced; none when there is no graph yet, or when it cannot be
    read (a rebuild is how a broken graph is mended: that is logged, not fatal)."""
    try:
        with open_previous() as store:
            return read_records(store) if store.graph_version else RecordSnapshot()
    except GraphNotBuiltError:
        return RecordSnapshot()
    except StoreError as error:
        log.warning("the graph being replaced cannot be read, so its ingested records are not carried: %s", error)
        return RecordSnapshot()


def records_digest(store: GraphStore) -> str:
    """The XOR of every stored record's digest: one value that changes when any record's mentions do. It is
    computed from the records themselves, never kept, so concurrent ingests or one killed halfway cannot
    leave it wrong."""
    value = 0
    for record in store.iter_nodes(label=NodeLabel.RECORD):
        value ^= int(str(record.attributes.get("digest", "0")), 16)
    return f"{value:016x}"


def write_records(store: GraphStore, snapshot: RecordSnapshot) -> RecordsCarried:
    """Write the snapshot into the new graph; edges to concepts it lacks are left out."""
    if not snapshot.records:
        return RecordsCarried()
    store.upsert_nodes(snapshot.records)
    ends = {e.end for e in snapshot.edges} | {e.start for e in snapshot.edges}
    known = set(store.get_nodes(sorted(ends)))
    kept = [e for e in snapshot.edges if e.start in known and e.end in known]
    store.upsert_edges(kept)
    return RecordsCarried(len(snapshot.records), len(kept), len(snapshot.edges) - len(kept))
