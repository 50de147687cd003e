"""Per-key rate limiting: a token bucket per key, `per_minute` requests a minute on average with bursts up to
the same number.

`SharedRateLimiter` keeps the buckets in a small SQLite file, so every worker process of a host (and a worker
that restarts) spends from the same bucket; `RedisRateLimiter` (api/redis_limits.py) keeps them in Redis, shared
by replicas on any number of hosts; `RateLimiter` keeps them in one process's memory (tests, tools).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cdss.errors import RateLimitedError, StoreError
from cdss.settings import Settings
from cdss.sqlite_files import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, last REAL NOT NULL) WITHOUT ROWID;
"""
_READ = "SELECT tokens, last FROM buckets WHERE key = ?"
_WRITE = """
INSERT INTO buckets (key, tokens, last) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, last = excluded.last
"""
BUSY_MS = 2000

log = logging.getLogger(__name__)


def spend(tokens: float, last: float, now: float, *, capacity: float, rate: float) -> tuple[float, float | None]:
    """One request from a bucket that held `tokens` at `last`: (tokens now left, None), or (tokens now, the
    seconds until one is back) when it is empty."""
    tokens = min(capacity, tokens + max(0.0, now - last) * rate)
    if tokens < 1.0:
        return tokens, (1.0 - tokens) / rate
    return tokens - 1.0, None


class RateLimiter:
    """Buckets in this process's memory."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of `key`'s allowance; returns what is left, or raises `RateLimitedError`."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            left, retry = spend(tokens, last, now, capacity=self.capacity, rate=self.rate)
            self._buckets[key] = (left, now)
        if retry is not None:
            raise RateLimitedError(retry)
        return left

    def unavailable(self) -> str | None:
        """Why checks cannot be made now, as `code: reason` for /readyz; None when they can."""
        return None

    def close(self) -> None:
        """Nothing to release in memory; the shared limiter closes its database."""


class SharedRateLimiter(RateLimiter):
    """Buckets in a SQLite file shared by the worker processes of one host; each request is one short
    write transaction (wall-clock time, since processes share no monotonic clock)."""

    def __init__(self, per_minute: int, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(per_minute, clock=clock)
        self.path = path
        self._conn = open_database(path, schema=_SCHEMA, what="the rate-limit database")
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        try:
            self._conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError:
            log.info("another worker is switching %s to WAL at this moment", path.name)

    def take(self, key: str) -> float:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                now = self.clock()
                row = self._conn.execute(_READ, (key,)).fetchone()
                left, retry = spend(*(row or (self.capacity, now)), now, capacity=self.capacity, rate=self.rate)
                self._conn.execute(_WRITE, (key, left, now))
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise StoreError(f"the rate-limit database cannot be used: {exc}") from None
        if retry is not None:
            raise RateLimitedError(retry)
        return left

    def close(self) -> None:
        self._conn.close()


def open_limiter(settings: Settings) -> RateLimiter:
    """The limiter the settings ask for: Redis when `CDSS_REDIS_URL` is set, else the host's SQLite file."""
    if settings.redis_url:
        from api.redis_limits import RedisRateLimiter  # the redis client is imported only when used

        return RedisRateLimiter(settings.rate_limit, settings.redis_url)
    return SharedRateLimiter(settings.rate_limit, settings.rate_limits_db)
