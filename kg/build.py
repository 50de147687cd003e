"""`cdss kg build`: read every source, assemble one graph, write it atomically."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cdss.errors import SourceError
from cdss.json_fields import json_fields
from cdss.merge_rules import MergeRule
from cdss.progress import progress
from cdss.types import NodeLabel
from kg.assembly import SourceSummary, assemble
from kg.records_carry import previous_records, write_records
from kg.store import META_BUILT_AT, META_GRAPH_VERSION, META_SOURCES, GraphStore
from kg.store_urls import Neo4jLogin, building_store, open_store
from kg.version import graph_version
from ontologies import CANONICAL_PREFIXES, GRAPH_SOURCES, MERGE_RULES, SourceData, SourceSpec


@dataclass(slots=True)
class BuildReport:
    store: str
    graph_version: str
    nodes: int
    edges: int
    seconds: float
    load_seconds: dict[str, float]
    write_seconds: float
    sources: list[SourceSummary]
    skipped: list[str] = field(default_factory=list)
    """Optional sources that could not be read, each with the reason."""
    records_carried: int = 0
    """Ingested records read from the graph this build replaced and written into the new one."""
    record_edges_dropped: int = 0
    """Their mentions of concepts the new graph no longer has."""

    @property
    def edges_per_second(self) -> float:
        return self.edges / self.seconds if self.seconds else 0.0

    def summary_line(self) -> str:
        return (
            f"built graph {self.graph_version}: {self.nodes:,} nodes, {self.edges:,} edges "
            f"from {len(self.sources)} sources in {self.seconds:.1f} s "
            f"({self.edges_per_second:,.0f} edges/s) -> {self.store}" + self._records_line()
        )

    def _records_line(self) -> str:
        if not self.records_carried:
            return ""
        dropped = self.record_edges_dropped
        gone = f" ({dropped:,} mentions of concepts now gone left out)" if dropped else ""
        return f"; {self.records_carried:,} ingested records carried over{gone}"

    def to_dict(self) -> dict:
        seconds = {"seconds": 3, "load_seconds": 3, "write_seconds": 3}
        return {**json_fields(self, rounded=seconds), "edges_per_second": round(self.edges_per_second, 1)}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hundreds of thousands of small objects make the cyclic GC rescan the heap
    over and over; none of them form cycles, so pause it while they are built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_sources(
    specs: Sequence[SourceSpec], *, sources_dir: Path, show_progress: bool | None = None
) -> tuple[list[SourceData], dict[str, float], list[str]]:
    """Read each source; a failing required source stops the build, an optional one is skipped with its reason."""
    loaded: list[SourceData] = []
    seconds: dict[str, float] = {}
    skipped: list[str] = []
    for spec in progress(specs, desc="reading sources", total=len(specs), enabled=show_progress, unit="source"):
        started = time.perf_counter()
        try:
            loaded.append(spec.load(sources_dir))
        except (SourceError, OSError) as exc:
            error = exc if isinstance(exc, SourceError) else SourceError(f"source {spec.name!r}: {exc}")
            if spec.required:
                raise error from None
            skipped.append(f"{spec.name}: {error}")
        seconds[spec.name] = time.perf_counter() - started
    return loaded, seconds, skipped


def build_graph(
    *,
    store_url: str,
    sources_dir: Path,
    sources: Sequence[SourceSpec] = GRAPH_SOURCES,
    rules: Sequence[MergeRule] = MERGE_RULES,
    canonical_prefixes: Mapping[NodeLabel, Sequence[str]] = CANONICAL_PREFIXES,
    batch_size: int = 10_000,
    show_progress: bool | None = None,
    login: Neo4jLogin | None = None,
) -> BuildReport:
    """Build the graph from `sources` into the store at `store_url`.

    The store only changes if every required source was read and the whole
    graph was written; otherwise the previous graph stays as it was.
    """
    started = time.perf_counter()
    with _gc_paused():
        loaded, load_seconds, skipped = load_sources(sources, sources_dir=sources_dir, show_progress=show_progress)
        graph = assemble(loaded, rules=rules, canonical_prefixes=canonical_prefixes)
        version = graph_version(graph.nodes, graph.edges)
        write_started = time.perf_counter()
        records = previous_records(lambda: open_store(store_url, login=login))

        def carry_late(new: GraphStore) -> None:
            """All records again, under the live file's write lock at the swap, so those ingested while this build
            ran are carried too (the embedded store; Neo4j has no swap and keeps the first reading)."""
            nonlocal carried
            carried = write_records(new, previous_records(lambda: open_store(store_url, login=login)))

        with building_store(store_url, batch_size=batch_size, login=login, before_swap=carry_late) as store:
            store.upsert_nodes(
                progress(graph.nodes, desc="writing nodes", total=len(graph.nodes), enabled=show_progress, unit="node")
            )
            store.upsert_edges(
                progress(graph.edges, desc="writing edges", total=len(graph.edges), enabled=show_progress, unit="edge")
            )
            carried = write_records(store, records)
            store.set_meta(
                {
                    META_GRAPH_VERSION: version,
                    META_BUILT_AT: datetime.now(UTC).isoformat(timespec="seconds"),
                    META_SOURCES: json.dumps([s.to_dict() for s in graph.sources], ensure_ascii=False),
                }
            )
        write_seconds = time.perf_counter() - write_started
    return BuildReport(
        store=store_url,
        graph_version=version,
        nodes=len(graph.nodes),
        edges=len(graph.edges),
        seconds=time.perf_counter() - started,
        load_seconds=load_seconds,
        write_seconds=write_seconds,
        sources=graph.sources,
        skipped=skipped,
        records_carried=carried.records,
        record_edges_dropped=carried.edges_dropped,
    )
