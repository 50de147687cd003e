"""Opening a graph store from a URL: `sqlite:///path/graph.sqlite`, a plain path, or `neo4j://host:7687`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cdss.errors import ConfigError
from kg.sqlite_staging import staged_store
from kg.sqlite_store import SqliteStore
from kg.store import GraphStore

SQLITE_SCHEMES = {"sqlite", "file", ""}


def sqlite_path(url: str) -> Path:
    """The file behind an embedded-store URL; raises for other kinds of store."""
    if not url:
        raise ConfigError("empty store URL: expected sqlite:///path/graph.sqlite or a file path")
    parts = urlsplit(url)
    # A Windows-style drive letter or a bare relative path has no real scheme.
    scheme = parts.scheme.lower() if len(parts.scheme) > 1 else ""
    if scheme not in SQLITE_SCHEMES:
        raise ConfigError(f"unsupported store URL {url!r}: scheme {scheme!r} is not one of sqlite, file")
    if not scheme:
        return Path(url).expanduser()
    if parts.netloc:
        raise ConfigError(f"store URL {url!r} has a host part; use sqlite:///absolute/path or sqlite:relative/path")
    return Path(parts.path).expanduser()


@dataclass(frozen=True, slots=True)
class Neo4jLogin:
    """Who connects to a Neo4j server, and to which database; the caller reads it from its settings."""

    user: str
    password: str
    database: str | None = None


def _neo4j(url: str, batch_size: int, login: Neo4jLogin | None) -> GraphStore:
    from kg.neo4j_store import Neo4jStore

    if login is None:
        raise ConfigError(f"{url!r} needs a Neo4j login: set NEO4J_USER and NEO4J_PASSWORD in the environment")
    return Neo4jStore(url, auth=(login.user, login.password), database=login.database, batch_size=batch_size)


def open_store(
    url: str, *, batch_size: int = 10_000, create: bool = False, login: Neo4jLogin | None = None
) -> GraphStore:
    """Open an existing graph (or an empty one when `create`); a Neo4j URL needs `login`."""
    from kg.neo4j_store import is_neo4j_url

    if is_neo4j_url(url):
        return _neo4j(url, batch_size, login)
    return SqliteStore(sqlite_path(url), create=create, batch_size=batch_size)


@contextmanager
def building_store(
    url: str,
    *,
    batch_size: int = 10_000,
    login: Neo4jLogin | None = None,
    before_swap: Callable[[GraphStore], object] | None = None,
) -> Iterator[GraphStore]:
    """A store to write a full build into.

    The embedded store builds beside the live file and replaces it only if the
    block succeeds; `before_swap` runs on the new store while the live file is
    write-locked, just before the swap (kg/sqlite_staging.py). Neo4j is cleared
    and written in place, batch by batch, each batch one transaction; the graph
    version is stamped last, so a build that fails leaves a graph without a
    version, which readers refuse. There is no swap, so `before_swap` is not run.
    """
    from kg.neo4j_store import is_neo4j_url

    if is_neo4j_url(url):
        store = _neo4j(url, batch_size, login)
        try:
            store.clear()
            store.set_meta({"graph_version": ""})
            yield store
        finally:
            store.close()
        return
    with staged_store(sqlite_path(url), batch_size=batch_size, before_swap=before_swap) as store:
        yield store
