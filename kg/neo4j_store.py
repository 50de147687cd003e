"""The `GraphStore` on Neo4j 5, through the official driver.

- One driver per store; the API holds one store per worker process, so one driver per process.
- Constraints and indexes first (`IF NOT EXISTS`), before any write.
- Writes: `UNWIND $rows` batches, each in a managed transaction (`execute_write`). The transaction
  functions are idempotent MERGEs, because the driver retries them; a batch commits whole or not at all.
- Reads: managed read transactions (`execute_read`), which a cluster routes to readers.
- Every statement is in `kg.cypher`; values only ever travel as parameters.
- The server's version is checked on connect against `MIN_VERSION`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cdss.batching import batched
from cdss.errors import ConfigError, StoreError
from cdss.text import normalize_term
from cdss.types import Concept, Edge, EdgeKey, EdgeType, NodeLabel
from kg import cypher
from kg.neo4j_records import (
    concept_from_record,
    edge_from_record,
    edge_properties,
    joined_key,
    lucene_query,
    matching_names,
    node_properties,
    parse_version,
    search_order,
)
from kg.store import META_BUILT_AT, META_SOURCES, Direction, GraphStats, GraphStore

# 5.6 for the COLLECT {} subqueries of the Browser favourites (neo4j/favorites.cypher); the store needs 5.0.
MIN_VERSION = (5, 6)
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
DEFAULT_BATCH = 10_000
CONNECT_SECONDS = 5.0
T = TypeVar("T")


def is_neo4j_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in SCHEMES


class Neo4jStore(GraphStore):
    def __init__(
        self,
        url: str,
        *,
        auth: tuple[str, str] | None,
        database: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        driver_factory: Callable[..., Any] | None = None,
    ) -> None:
        import neo4j
        from neo4j import exceptions

        self._errors = (exceptions.ServiceUnavailable, exceptions.SessionExpired, exceptions.TransientError)
        self._driver_error = exceptions.DriverError
        self._auth_errors = (exceptions.AuthError,)
        self._neo4j_error = exceptions.Neo4jError
        parts = urlsplit(url)
        if parts.scheme.lower() not in SCHEMES:
            raise ConfigError(f"unsupported Neo4j URL {url!r}: the scheme must be one of {', '.join(SCHEMES)}")
        self.location = f"{parts.scheme}://{parts.hostname}:{parts.port or 7687}"
        self.database = database or (parts.path.strip("/") or None)
        self.batch_size = batch_size
        factory = driver_factory or neo4j.GraphDatabase.driver
        try:
            # A short connection timeout: a ping to a host that is down must not hold a sync worker for long.
            self._driver = factory(
                f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}", auth=auth, connection_timeout=CONNECT_SECONDS
            )
            # One bookmark manager for the store: a read routed to another cluster member sees earlier writes.
            self._bookmarks = neo4j.GraphDatabase.bookmark_manager()
            self._check_version()
            self._ensure_schema()
        except Exception:
            self.close()
            raise

    # -- plumbing -------------------------------------------------------------------------------------------------

    def _guard(self, action: Callable[[], T]) -> T:
        """Driver failures as `StoreError`s that name the store."""
        try:
            return action()
        except self._auth_errors as error:
            raise StoreError(
                f"Neo4j at {self.location} refused the credentials (NEO4J_USER/NEO4J_PASSWORD): "
                f"{error.message or error}"
            ) from None
        except self._errors as error:
            raise StoreError(f"Neo4j at {self.location} is unavailable: {error}") from None
        except self._neo4j_error as error:
            raise StoreError(f"Neo4j at {self.location} failed: {error.code}: {error.message}") from None
        except self._driver_error as error:
            raise StoreError(f"Neo4j at {self.location}: {type(error).__name__}: {error}") from None

    def _session(self, *, read: bool):
        import neo4j

        access = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
        return self._driver.session(
            database=self.database, default_access_mode=access, bookmark_manager=self._bookmarks
        )

    def _transact(self, statement: str, params: dict[str, Any], *, read: bool) -> list[dict[str, Any]]:
        """One managed transaction (retried by the driver), its records read inside it.

        Parameters go to the driver as one dict: a parameter named like the driver's own
        keywords (`query`) would otherwise collide with them.
        """

        def work(tx) -> list[dict[str, Any]]:
            return [record.data() for record in tx.run(statement, params)]

        def run() -> list[dict[str, Any]]:
            with self._session(read=read) as session:
                return session.execute_read(work) if read else session.execute_write(work)

        return self._guard(run)

    def _read(self, statement: str, /, **params: Any) -> list[dict[str, Any]]:
        return self._transact(statement, params, read=True)

    def _write(self, statement: str, /, **params: Any) -> list[dict[str, Any]]:
        return self._transact(statement, params, read=False)

    def _stream(self, statement: str, /, **params: Any) -> Iterator[dict[str, Any]]:
        session = self._guard(lambda: self._session(read=True))
        try:
            result = self._guard(lambda: session.run(statement, params))
            iterator = iter(result)
            while True:
                record = self._guard(lambda: next(iterator, None))
                if record is None:
                    return
                yield record.data()
        finally:
            session.close()

    def _check_version(self) -> None:
        rows = self._read(cypher.SERVER_VERSION)
        version = next((r["version"] for r in rows if r["name"] == "Neo4j Kernel"), None)
        if version is None or parse_version(version) < MIN_VERSION:
            wanted = ".".join(map(str, MIN_VERSION))
            raise StoreError(
                f"Neo4j at {self.location} is version {version or 'unknown'}; cdss needs {wanted} or later"
            )
        self.server_version = version

    def _ensure_schema(self) -> None:
        for statement in (*cypher.CONSTRAINTS, *cypher.INDEXES):
            self._write(statement)
        self._write(cypher.AWAIT_INDEXES)

    def ping(self) -> bool:
        try:
            self._driver.verify_connectivity()
        except Exception:  # the driver documents any exception here; a failed ping is all it means
            return False
        return True

    # -- writes ---------------------------------------------------------------------------------------------------

    def upsert_nodes(self, nodes: Iterable[Concept]) -> int:
        written = 0
        for batch in batched(nodes, self.batch_size):
            by_label: dict[str, list[dict]] = defaultdict(list)
            for concept in batch:
                by_label[str(concept.label)].append({"id": concept.id, "properties": node_properties(concept)})
            for label, rows in sorted(by_label.items()):
                written += self._write(cypher.UPSERT_NODES[label], rows=rows)[0]["written"]
        return written

    def upsert_edges(self, edges: Iterable[Edge]) -> int:
        written = 0
        for batch in batched(edges, self.batch_size):
            by_type: dict[str, dict[EdgeKey, dict]] = defaultdict(dict)
            for edge in batch:
                # One row per key, so a batch that repeats an edge writes it once (the last wins).
                by_type[str(edge.type)][edge.key] = {
                    "start": edge.start,
                    "end": edge.end,
                    "source": edge.provenance.source,
                    "properties": edge_properties(edge),
                }
            for edge_type, rows in sorted(by_type.items()):
                written += self._write(cypher.UPSERT_EDGES[edge_type], rows=list(rows.values()))[0]["written"]
        return written

    def delete_edges(self, keys: Iterable[EdgeKey]) -> int:
        rows = [
            {"type": str(t), "start": start, "end": end, "source": source}
            for t, start, end, source in dict.fromkeys(keys)
        ]
        if not rows:
            return 0
        return self._write(cypher.DELETE_EDGES, rows=rows)[0]["deleted"]

    def set_meta(self, values: Mapping[str, str]) -> None:
        self._write(cypher.UPSERT_META, rows=[{"key": k, "value": v} for k, v in values.items()])

    def clear(self) -> int:
        """Delete every cdss node and relationship, in batches (for a rebuild or a scratch test database)."""
        deleted = 0
        for statement in (cypher.DELETE_RELATIONSHIPS_PAGE, cypher.DELETE_NODES_PAGE):
            while count := self._write(statement, page=self.batch_size)[0]["deleted"]:
                deleted += count
        return deleted

    # -- reads ----------------------------------------------------------------------------------------------------

    def get_nodes(self, ids: Sequence[str]) -> dict[str, Concept]:
        if not ids:
            return {}
        return {r["id"]: concept_from_record(r) for r in self._read(cypher.NODES_BY_IDS, ids=list(dict.fromkeys(ids)))}

    def find_by_xref(self, curie: str) -> list[Concept]:
        if not curie or "|" in curie:
            return []
        return [concept_from_record(r) for r in self._read(cypher.NODES_BY_XREF, key=joined_key([curie]))]

    def find_by_name(self, name: str, *, label: NodeLabel | None = None) -> list[Concept]:
        norm = normalize_term(name)
        if not norm:
            return []
        rows = self._read(cypher.NODES_BY_NORM, key=joined_key([norm]), label=str(label) if label else None)
        return [concept_from_record(r) for r in rows]

    def search(self, text: str, *, label: NodeLabel | None = None, limit: int = 20) -> list[Concept]:
        query = lucene_query(text)
        if query is None or limit <= 0:
            return []
        statement = cypher.SEARCH[str(label) if label else None]
        rows = self._read(statement, query=query, candidates=max(2_000, limit * 50))
        norm = normalize_term(text)
        hits = []
        for record in rows:
            concept = concept_from_record(record)
            matching = matching_names(concept, norm)
            if matching:
                hits.append((search_order(concept, record["score"], norm, matching), concept))
        return [concept for _, concept in sorted(hits, key=lambda hit: hit[0])[:limit]]

    def _edges(
        self, node_id: str, side: Direction, edge_types: Sequence[EdgeType] | None, limit: int | None
    ) -> list[Edge]:
        statement = cypher.EDGES_OUT if side == Direction.OUT else cypher.EDGES_IN
        types = [str(t) for t in edge_types] if edge_types is not None else None
        rows = self._read(statement, node=node_id, types=types, limit=2**62 if limit is None else limit)
        return [edge_from_record(r) for r in rows]

    def iter_nodes(self, *, label: NodeLabel | None = None) -> Iterator[Concept]:
        for record in self._stream(cypher.NODES_ALL, label=str(label) if label else None):
            yield concept_from_record(record)

    def iter_edges(self, *, edge_type: EdgeType | None = None, start_label: NodeLabel | None = None) -> Iterator[Edge]:
        types = [str(edge_type)] if edge_type is not None else sorted(cypher.EDGE_TYPES)
        for name in types:
            statement = (
                cypher.EDGES_ALL[name] if start_label is None else cypher.EDGES_FROM_LABEL[name, str(start_label)]
            )
            for record in self._stream(statement):
                yield edge_from_record(record)

    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._read(cypher.META_ALL)}

    def stats(self) -> GraphStats:
        meta = self.meta()
        nodes_by_source: dict[str, dict[str, int]] = {}
        for r in self._read(cypher.COUNT_NODES_BY_SOURCE):
            nodes_by_source.setdefault(r["source"], {})[r["label"]] = r["count"]
        edges_by_source: dict[str, dict[str, int]] = {}
        for r in self._read(cypher.COUNT_EDGES_BY_SOURCE):
            edges_by_source.setdefault(r["source"], {})[r["type"]] = r["count"]
        return GraphStats(
            graph_version=meta.get("graph_version"),
            nodes_by_label={r["label"]: r["count"] for r in self._read(cypher.COUNT_NODES_BY_LABEL)},
            edges_by_type={r["type"]: r["count"] for r in self._read(cypher.COUNT_EDGES_BY_TYPE)},
            nodes_by_source=nodes_by_source,
            edges_by_source=edges_by_source,
            has_finding_with_frequency=self._read(cypher.COUNT_HAS_FINDING_WITH_FREQUENCY)[0]["count"],
            built_at=meta.get(META_BUILT_AT),
            sources=json.loads(meta[META_SOURCES]) if META_SOURCES in meta else [],
        )

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def close(self) -> None:
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()
            self._driver = None
