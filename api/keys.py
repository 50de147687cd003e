"""API keys, hashed at rest, with scopes. All of the key database's SQL is here.

A key reads `cdss_<id>_<secret>`. Only SHA-256 of the secret is stored: the
secret is 256 random bits, so a plain hash cannot be reversed by guessing, and
the id lets a lookup find the row without scanning every hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cdss.errors import AuthError, InputError, NotFoundError
from cdss.json_fields import json_fields
from cdss.sqlite_files import open_database

SCOPES = ("read", "ingest", "admin")
PREFIX = "cdss"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
)
"""
_INSERT = "INSERT INTO api_keys (id, name, scopes, secret_sha256, created) VALUES (?, ?, ?, ?, ?)"
_BY_ID = "SELECT id, name, scopes, secret_sha256, created, revoked FROM api_keys WHERE id = ?"
_ALL = "SELECT id, name, scopes, secret_sha256, created, revoked FROM api_keys ORDER BY created, id"
_REVOKE = "UPDATE api_keys SET revoked = ? WHERE id = ? AND revoked IS NULL"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: tuple[str, ...]
    created: str
    revoked: str | None = None

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes

    def to_dict(self) -> dict:
        return json_fields(self)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _row(row: tuple) -> ApiKey:
    return ApiKey(row[0], row[1], tuple(row[2].split(",")), row[4], row[5])


class KeyStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn = open_database(path, schema=_SCHEMA, what="the API key database")

    def create(self, name: str, scopes: list[str] | tuple[str, ...]) -> tuple[ApiKey, str]:
        """A new key and its token; the token is shown once and never stored."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InputError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
        if not name.strip():
            raise InputError("a key needs a name that says who or what uses it")
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        ordered = tuple(s for s in SCOPES if s in scopes)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            self._conn.execute(_INSERT, (key_id, name.strip(), ",".join(ordered), _digest(secret), created))
        return ApiKey(key_id, name.strip(), ordered, created), f"{PREFIX}_{key_id}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._lock:
            return [_row(r) for r in self._conn.execute(_ALL).fetchall()]

    def revoke(self, key_id: str) -> ApiKey:
        revoked = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock:
            changed = self._conn.execute(_REVOKE, (revoked, key_id)).rowcount
            row = self._conn.execute(_BY_ID, (key_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no API key with id {key_id!r}")
        if not changed and row[5] is None:
            raise NotFoundError(f"API key {key_id!r} could not be revoked")
        return _row(row)

    def verify(self, token: str) -> ApiKey:
        """The key a token belongs to; `AuthError` for a malformed, unknown or revoked token."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX:
            raise AuthError("the API key is malformed: expected cdss_<id>_<secret>")
        with self._lock:
            row = self._conn.execute(_BY_ID, (parts[1],)).fetchone()
        if row is None or not hmac.compare_digest(row[3], _digest(parts[2])):
            raise AuthError("the API key is not valid")
        if row[5] is not None:
            raise AuthError("the API key has been revoked")
        return _row(row)

    def close(self) -> None:
        self._conn.close()
