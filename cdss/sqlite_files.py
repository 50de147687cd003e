"""Opening a small SQLite database of our own (API keys, feedback): one connection shared by a worker's
threads under the caller's lock, autocommit, its schema made if missing, and a clear error otherwise."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cdss.errors import ConfigError


def open_database(path: Path, *, schema: str, what: str) -> sqlite3.Connection:
    """`path` opened with `schema` applied; `what` names the database in the error ("the API key database")."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open {what} {path}: {exc}") from None
    return connection
