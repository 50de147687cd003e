"""The embedded graph store: one SQLite file, no server.

A full build writes a new file beside the live one and swaps it in (kg/sqlite_staging.py), so a build killed
halfway leaves the previous graph untouched.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdss.batching import batched
from cdss.errors import GraphNotBuiltError, InputError, StoreBusyError, StoreError
from cdss.text import normalize_term
from cdss.types import Concept, Edge, EdgeKey, EdgeType, NodeLabel, Provenance
from kg import sql
from kg.store import META_BUILT_AT, META_SCHEMA_VERSION, META_SOURCES, Direction, GraphStats, GraphStore


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _node_row(concept: Concept) -> tuple:
    return (
        concept.id,
        str(concept.label),
        concept.name,
        _dumps(list(concept.synonyms)),
        _dumps(list(concept.xrefs)),
        _dumps(list(concept.sources)),
        _dumps(dict(concept.attributes)),
    )


def _concept(row: Sequence[Any]) -> Concept:
    return Concept(
        id=row[0],
        label=NodeLabel(row[1]),
        name=row[2],
        synonyms=tuple(json.loads(row[3])),
        xrefs=tuple(json.loads(row[4])),
        sources=tuple(json.loads(row[5])),
        attributes=json.loads(row[6]),
    )


def _edge_row(edge: Edge) -> tuple:
    p = edge.provenance
    return (
        str(edge.type),
        edge.start,
        edge.end,
        p.source,
        p.version,
        p.license,
        _dumps(list(p.evidence)),
        _dumps(list(p.references)),
        _dumps(dict(edge.attributes)),
    )


def _edge(row: Sequence[Any]) -> Edge:
    return Edge(
        type=EdgeType(row[0]),
        start=row[1],
        end=row[2],
        provenance=Provenance(
            source=row[3],
            version=row[4],
            license=row[5],
            evidence=tuple(json.loads(row[6])),
            references=tuple(json.loads(row[7])),
        ),
        attributes=json.loads(row[8]),
    )


def _term_rows(concept: Concept) -> list[tuple]:
    rows = [(concept.id, str(concept.label), "name", concept.name, normalize_term(concept.name))]
    rows.extend((concept.id, str(concept.label), "synonym", s, normalize_term(s)) for s in concept.synonyms)
    return rows


MAX_SEARCH_TERMS = 8
"""Words of a search beyond this add little and each one costs a full-text scan."""
MIN_PREFIX_CHARS = 3
"""A shorter word is matched whole: "a"* would expand to every word that starts with a."""
SEARCH_BUDGET_SECONDS = 1.0


def _fts_query(text: str) -> str | None:
    """The normalised words, each once and at most `MAX_SEARCH_TERMS`, quoted; prefix terms from 3 letters on.
    All must match."""
    words = list(dict.fromkeys(normalize_term(text).split()))[:MAX_SEARCH_TERMS]
    return " ".join(f'"{w}"*' if len(w) >= MIN_PREFIX_CHARS else f'"{w}"' for w in words) or None


REPLACED = (
    "the graph file was replaced or removed since this worker opened it; nothing was written. Restart the "
    "workers to serve the new graph"
)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def _busy(exc: sqlite3.DatabaseError) -> bool:
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_BUSY", "SQLITE_LOCKED")


def _store_error(exc: sqlite3.DatabaseError, doing: str) -> StoreError:
    """A locked store is busy (try again shortly); anything else cannot be read or written."""
    kind = StoreBusyError if _busy(exc) else StoreError
    return kind(f"the embedded graph store cannot be {doing}: {exc}")


class SqliteStore(GraphStore):
    """`GraphStore` on a single SQLite file."""

    def __init__(self, path: Path, *, create: bool = False, batch_size: int = 10_000, staging: bool = False) -> None:
        self.path = Path(path)
        self.location = f"sqlite://{self.path.absolute()}"
        self.batch_size = batch_size
        self._lock = threading.RLock()
        if not create and not self.path.is_file():
            raise GraphNotBuiltError(self.location)
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.location}: {exc}") from None
        self._identity = _file_identity(self.path)
        if staging:
            # A staged file is thrown away on any failure, so durability is not needed until the swap.
            self._conn.execute("PRAGMA journal_mode = OFF")
            self._conn.execute("PRAGMA synchronous = OFF")
        try:
            if create:
                # A staged build loads rows first and indexes once, in `_finish_staging`.
                script = sql.TABLES if staging else sql.TABLES + sql.INDEXES
                with self._lock:
                    self._conn.executescript(f"BEGIN;\n{script}\nCOMMIT;")
                self.set_meta({META_SCHEMA_VERSION: sql.SCHEMA_VERSION})
            else:
                self._check_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if _busy(exc):
                raise StoreBusyError(f"{self.location} is locked by a writer: {exc}") from None
            raise StoreError(f"{self.location} is not a cdss graph database: {exc}") from None

    def replaced(self) -> bool:
        """Whether the file at this path is no longer the one this store opened (a rebuild swapped it in, or it
        was removed): reads would come from the old file and writes would be lost with it."""
        return _file_identity(self.path) != self._identity

    def ping(self) -> bool:
        return not self.replaced()

    def _check_schema(self) -> None:
        found = dict(self._conn.execute(sql.SELECT_META).fetchall()).get(META_SCHEMA_VERSION)
        if found != sql.SCHEMA_VERSION:
            raise StoreError(
                f"{self.location} has schema version {found!r}, this cdss needs {sql.SCHEMA_VERSION!r}: "
                "rebuild it with `cdss kg build`"
            )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        if self.replaced():
            raise StoreError(REPLACED)
        with self._lock:
            cur = self._conn.cursor()
            try:
                # The write lock first, then the check: a rebuild swaps the file while it holds this lock, so a
                # write that waited for it finds the file replaced instead of writing into the one going away.
                cur.execute("BEGIN IMMEDIATE")
                if self.replaced():
                    cur.execute("ROLLBACK")
                    raise StoreError(REPLACED)
                try:
                    yield cur
                except BaseException:
                    cur.execute("ROLLBACK")
                    raise
                cur.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise _store_error(exc, "written") from None
            finally:
                cur.close()

    def _query(
        self, statement: str, params: Sequence[Any] | Mapping[str, Any] = (), *, budget: float | None = None
    ) -> list[tuple]:
        """Rows of one read; with a `budget` in seconds, a query still running then is stopped (InputError)."""
        with self._lock:
            if budget is not None:
                deadline = time.monotonic() + budget
                self._conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            try:
                return self._conn.execute(statement, params).fetchall()
            except sqlite3.OperationalError as exc:
                if budget is not None and "interrupted" in str(exc):
                    raise InputError(
                        f"the search is too broad to answer within {budget:g} s: add letters or another word"
                    ) from None
                raise _store_error(exc, "read") from None
            except sqlite3.DatabaseError as exc:
                raise _store_error(exc, "read") from None
            finally:
                if budget is not None:
                    self._conn.set_progress_handler(None, 0)

    # -- writes ---------------------------------------------------------------
    def upsert_nodes(self, nodes: Iterable[Concept]) -> int:
        written = 0
        for batch in batched(nodes, self.batch_size):
            with self._transaction() as cur:
                cur.executemany(sql.UPSERT_NODE, [_node_row(c) for c in batch])
                ids = [(c.id,) for c in batch]
                cur.executemany(sql.DELETE_NODE_TERMS, ids)
                cur.executemany(sql.INSERT_NODE_TERM, [row for c in batch for row in _term_rows(c)])
                cur.executemany(sql.DELETE_NODE_XREFS, ids)
                cur.executemany(sql.INSERT_NODE_XREF, [(x, c.id) for c in batch for x in c.xrefs])
            written += len(batch)
        return written

    def upsert_edges(self, edges: Iterable[Edge]) -> int:
        written = 0
        for batch in batched(edges, self.batch_size):
            with self._transaction() as cur:
                cur.executemany(sql.UPSERT_EDGE, [_edge_row(e) for e in batch])
            written += len(batch)
        return written

    def delete_edges(self, keys: Iterable[EdgeKey]) -> int:
        rows = [(str(t), start, end, source) for t, start, end, source in keys]
        with self._transaction() as cur:
            before = self._conn.total_changes
            cur.executemany(sql.DELETE_EDGE, rows)
            return self._conn.total_changes - before

    def set_meta(self, values: Mapping[str, str]) -> None:
        with self._transaction() as cur:
            cur.executemany(sql.UPSERT_META, list(values.items()))

    # -- reads ----------------------------------------------------------------
    def get_nodes(self, ids: Sequence[str]) -> dict[str, Concept]:
        rows = self._query(sql.SELECT_NODES_BY_IDS, (_dumps(list(ids)),))
        return {row[0]: _concept(row) for row in rows}

    def find_by_xref(self, curie: str) -> list[Concept]:
        return [_concept(row) for row in self._query(sql.SELECT_NODES_BY_XREF, (curie,))]

    def find_by_name(self, name: str, *, label: NodeLabel | None = None) -> list[Concept]:
        params = {"norm": normalize_term(name), "label": str(label) if label else None}
        return [_concept(row) for row in self._query(sql.SELECT_NODES_BY_NORM, params)]

    def search(self, text: str, *, label: NodeLabel | None = None, limit: int = 20) -> list[Concept]:
        query = _fts_query(text)
        if query is None or limit <= 0:
            return []
        params = {
            "query": query,
            "norm": normalize_term(text),
            "label": str(label) if label else None,
            "limit": limit,
            "candidates": max(2_000, limit * 50),
        }
        return [_concept(row) for row in self._query(sql.SEARCH_NODES, params, budget=SEARCH_BUDGET_SECONDS)]

    def _edges(
        self, node_id: str, side: Direction, edge_types: Sequence[EdgeType] | None, limit: int | None
    ) -> list[Edge]:
        params = {
            "node": node_id,
            "types": _dumps([str(t) for t in edge_types]) if edge_types is not None else None,
            "limit": -1 if limit is None else limit,
        }
        statement = sql.SELECT_EDGES_OUT if side == Direction.OUT else sql.SELECT_EDGES_IN
        return [_edge(row) for row in self._query(statement, params)]

    def iter_nodes(self, *, label: NodeLabel | None = None) -> Iterator[Concept]:
        yield from (
            _concept(row) for row in self._stream(sql.SELECT_ALL_NODES, {"label": str(label) if label else None})
        )

    def iter_edges(self, *, edge_type: EdgeType | None = None, start_label: NodeLabel | None = None) -> Iterator[Edge]:
        params = {"type": str(edge_type) if edge_type else None, "label": str(start_label) if start_label else None}
        statement = sql.SELECT_ALL_EDGES if start_label is None else sql.SELECT_EDGES_FROM_LABEL
        yield from (_edge(row) for row in self._stream(statement, params))

    def _stream(self, statement: str, params: Mapping[str, Any]) -> Iterator[tuple]:
        # A separate cursor per stream, so long exports do not hold the lock between rows.
        cursor = self._conn.cursor()
        try:
            with self._lock:
                cursor.execute(statement, params)
            while True:
                with self._lock:
                    rows = cursor.fetchmany(self.batch_size)
                if not rows:
                    return
                yield from rows
        except sqlite3.DatabaseError as exc:
            raise _store_error(exc, "read") from None
        finally:
            cursor.close()

    def meta(self) -> dict[str, str]:
        return dict(self._query(sql.SELECT_META))

    def stats(self) -> GraphStats:
        meta = self.meta()
        nodes_by_source: dict[str, dict[str, int]] = {}
        for source, label, count in self._query(sql.COUNT_NODES_BY_SOURCE):
            nodes_by_source.setdefault(source, {})[label] = count
        edges_by_source: dict[str, dict[str, int]] = {}
        for source, edge_type, count in self._query(sql.COUNT_EDGES_BY_SOURCE):
            edges_by_source.setdefault(source, {})[edge_type] = count
        return GraphStats(
            graph_version=self.graph_version,
            nodes_by_label=dict(self._query(sql.COUNT_NODES_BY_LABEL)),
            edges_by_type=dict(self._query(sql.COUNT_EDGES_BY_TYPE)),
            nodes_by_source=nodes_by_source,
            edges_by_source=edges_by_source,
            has_finding_with_frequency=self._query(sql.COUNT_HAS_FINDING_WITH_FREQUENCY)[0][0],
            built_at=meta.get(META_BUILT_AT),
            sources=json.loads(meta[META_SOURCES]) if META_SOURCES in meta else [],
        )

    # -- lifecycle ------------------------------------------------------------
    def _finish_staging(self) -> None:
        with self._lock:
            self._conn.executescript(f"BEGIN;\n{sql.INDEXES}\n{sql.REBUILD_FULL_TEXT};\nCOMMIT;")
            self._conn.execute("ANALYZE")
            self._conn.execute("PRAGMA journal_mode = DELETE")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
