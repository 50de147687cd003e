"""Opening a graph store from a URL: `sqlite:///path/graph.sqlite` or a plain path."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from cdss.errors import ConfigError
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


def open_store(url: str, *, batch_size: int = 10_000, create: bool = False) -> GraphStore:
    """Open an existing graph (or an empty one when `create`)."""
    return SqliteStore(sqlite_path(url), create=create, batch_size=batch_size)


@contextmanager
def building_store(url: str, *, batch_size: int = 10_000) -> Iterator[GraphStore]:
    """A store to write a full build into; it becomes the live graph only if the block succeeds."""
    with SqliteStore.staged(sqlite_path(url), batch_size=batch_size) as store:
        yield store
