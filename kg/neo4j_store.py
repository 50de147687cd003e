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
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cdss.batching import batched
from cdss.errors import ConfigError, StoreError
from cdss.text import normalize_term
from cdss.types import Concept, Edge, EdgeKey, EdgeType, NodeLabel, Provenance
from kg import cypher
from kg.store import META_BUILT_AT, META_SOURCES, Direction, GraphStats, GraphStore

# 5.6 for the COLLECT {} subqueries of the Browser favourites (neo4j/favorites.cypher); the store needs 5.0.
MIN_VERSION = (5, 6)
SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
DEFAULT_BATCH = 10_000
CONNECT_SECONDS = 5.0
_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_RESERVED_NODE = frozenset(
    {"id", "name", "synonyms", "xrefs", "sources", "attributes", "terms", "norm_key", "xref_key"}
)
_RESERVED_EDGE = frozenset({"source", "source_version", "license", "evidence", "references", "attributes"})
T = TypeVar("T")


def is_neo4j_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in SCHEMES


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _copyable(value: Any) -> bool:
    """Values Neo4j can hold as a property: scalars and non-empty lists of one scalar type."""
    if isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list) and value:
        kinds = {type(v) for v in value}
        return len(kinds) == 1 and kinds <= {bool, int, float, str}
    return False


def _key(values: Iterable[str]) -> str:
    return "|" + "|".join(values) + "|"


def node_properties(concept: Concept) -> dict[str, Any]:
    names = [concept.name, *concept.synonyms]
    norms = sorted({normalize_term(n) for n in names if normalize_term(n)})
    copied = {k: v for k, v in concept.attributes.items() if k not in _RESERVED_NODE and _copyable(v)}
    return {
        **copied,
        "id": concept.id,
        "name": concept.name,
        "synonyms": list(concept.synonyms),
        "xrefs": list(concept.xrefs),
        "sources": list(concept.sources),
        "attributes": _dumps(dict(concept.attributes)),
        "terms": "\n".join(norms),
        "norm_key": _key(norms),
        "xref_key": _key(concept.xrefs),
    }


def edge_properties(edge: Edge) -> dict[str, Any]:
    p = edge.provenance
    copied = {k: v for k, v in edge.attributes.items() if k not in _RESERVED_EDGE and _copyable(v)}
    return {
        **copied,
        "source": p.source,
        "source_version": p.version,
        "license": p.license,
        "evidence": list(p.evidence),
        "references": list(p.references),
        "attributes": _dumps(dict(edge.attributes)),
    }


def _concept(record: Mapping[str, Any]) -> Concept:
    return Concept(
        id=record["id"],
        label=NodeLabel(record["label"]),
        name=record["name"],
        synonyms=tuple(record["synonyms"] or ()),
        xrefs=tuple(record["xrefs"] or ()),
        sources=tuple(record["sources"] or ()),
        attributes=json.loads(record["attributes"] or "{}"),
    )


def _edge(record: Mapping[str, Any]) -> Edge:
    return Edge(
        type=EdgeType(record["type"]),
        start=record["start"],
        end=record["end"],
        provenance=Provenance(
            source=record["source"],
            version=record["version"],
            license=record["license"],
            evidence=tuple(record["evidence"] or ()),
            references=tuple(record["references"] or ()),
        ),
        attributes=json.loads(record["attributes"] or "{}"),
    )


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


def _matching_names(concept: Concept, norm: str) -> list[str]:
    """The concept's normalised names that hold every word of the query as a word prefix.

    The full-text index sees all of a node's names as one field; the embedded
    store matches within one name, and so does this filter.
    """
    words = norm.split()
    names = [normalize_term(n) for n in (concept.name, *concept.synonyms)]
    return [n for n in names if all(any(t.startswith(w) for t in n.split()) for w in words)]


def _search_order(concept: Concept, score: float, norm: str, matching: list[str]) -> tuple:
    """The embedded store's order: exact name, exact synonym, relevance, shortest matching name, id."""
    name = normalize_term(concept.name)
    return (name != norm, norm not in matching, -score, min(len(n) for n in matching), concept.id)


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
        return {r["id"]: _concept(r) for r in self._read(cypher.NODES_BY_IDS, ids=list(dict.fromkeys(ids)))}

    def find_by_xref(self, curie: str) -> list[Concept]:
        if not curie or "|" in curie:
            return []
        return [_concept(r) for r in self._read(cypher.NODES_BY_XREF, key=_key([curie]))]

    def find_by_name(self, name: str, *, label: NodeLabel | None = None) -> list[Concept]:
        norm = normalize_term(name)
        if not norm:
            return []
        rows = self._read(cypher.NODES_BY_NORM, key=_key([norm]), label=str(label) if label else None)
        return [_concept(r) for r in rows]

    def search(self, text: str, *, label: NodeLabel | None = None, limit: int = 20) -> list[Concept]:
        query = lucene_query(text)
        if query is None or limit <= 0:
            return []
        statement = cypher.SEARCH[str(label) if label else None]
        rows = self._read(statement, query=query, candidates=max(2_000, limit * 50))
        norm = normalize_term(text)
        hits = []
        for record in rows:
            concept = _concept(record)
            matching = _matching_names(concept, norm)
            if matching:
                hits.append((_search_order(concept, record["score"], norm, matching), concept))
        return [concept for _, concept in sorted(hits, key=lambda hit: hit[0])[:limit]]

    def _edges(
        self, node_id: str, side: Direction, edge_types: Sequence[EdgeType] | None, limit: int | None
    ) -> list[Edge]:
        statement = cypher.EDGES_OUT if side == Direction.OUT else cypher.EDGES_IN
        types = [str(t) for t in edge_types] if edge_types is not None else None
        rows = self._read(statement, node=node_id, types=types, limit=2**62 if limit is None else limit)
        return [_edge(r) for r in rows]

    def iter_nodes(self, *, label: NodeLabel | None = None) -> Iterator[Concept]:
        for record in self._stream(cypher.NODES_ALL, label=str(label) if label else None):
            yield _concept(record)

    def iter_edges(self, *, edge_type: EdgeType | None = None) -> Iterator[Edge]:
        types = [str(edge_type)] if edge_type is not None else sorted(cypher.EDGE_TYPES)
        for name in types:
            for record in self._stream(cypher.EDGES_ALL[name]):
                yield _edge(record)

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
