"""Rate limits shared by every replica: the token buckets live in Redis (`CDSS_REDIS_URL`).

Each check is one server-side Lua script, so reading a bucket, refilling it and spending from it happen as one
step however many workers and hosts check the same key; it refills by Redis's own clock (TIME), so replicas whose
clocks disagree still agree on every bucket. A bucket left alone for as long as it takes to fill expires.
A Redis that does not answer refuses requests with a 503 that says so: never an unlimited service.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from api.limits import RateLimiter
from cdss.errors import ConfigError, NotReadyError, RateLimitedError, StoreError

PREFIX = "cdss:rate:"
TIMEOUT_S = 0.5
"""For connecting and for each answer: a check is on every request, and a sync worker waits for it."""
QUIET_S = 1.0
"""After Redis failed to answer, checks fail at once for this long instead of each waiting out a timeout."""

# KEYS[1] the bucket; ARGV capacity, refill per second, idle lifetime (ms). Returns {tokens left, seconds until
# one is back (0: this request was allowed)} as strings, since Redis truncates Lua numbers to integers.
SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'last')
local tokens = tonumber(bucket[1]) or capacity
local last = tonumber(bucket[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * rate)
local retry = 0
if tokens < 1 then
  retry = (1 - tokens) / rate
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'last', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {string.format('%.17g', tokens), string.format('%.17g', retry)}
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by the workers of every replica that points at the same server and database."""

    def __init__(self, per_minute: int, url: str) -> None:
        super().__init__(per_minute)
        # One quick retry (a pooled connection may be stale after Redis restarted), no back-off.
        try:
            self._redis = redis.Redis.from_url(
                url,
                socket_connect_timeout=TIMEOUT_S,
                socket_timeout=TIMEOUT_S,
                retry=Retry(backoff=NoBackoff(), retries=1),
            )
        except ValueError as exc:  # the client's message names the bad part, not the password
            raise ConfigError(f"CDSS_REDIS_URL cannot be read: {exc}") from None
        options = self._redis.connection_pool.connection_kwargs
        where = options.get("path") or f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"
        self.where = f"Redis at {where}, database {options.get('db', 0)}"
        self.idle_ms = math.ceil(self.capacity / self.rate * 1000) + 1000
        self._down: tuple[float, str] | None = None
        self._down_lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of `key`'s allowance; returns what is left, or raises `RateLimitedError`; a Redis
        that does not answer is a `NotReadyError` (503) that says which."""
        with self._down_lock:
            if self._down is not None and time.monotonic() < self._down[0]:
                raise NotReadyError(self._down[1])
        args = (1, PREFIX + key, self.capacity, self.rate, self.idle_ms)
        try:
            try:
                left, retry = self._redis.evalsha(SCRIPT_SHA, *args)
            except NoScriptError:  # a restarted or flushed server: EVAL sends the script and caches it again
                left, retry = self._redis.eval(SCRIPT, *args)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            reason = f"the rate-limit store ({self.where}) does not answer ({exc}); requests are refused until it does"
            with self._down_lock:
                self._down = (time.monotonic() + QUIET_S, reason)
            raise NotReadyError(reason) from None
        except RedisError as exc:
            raise StoreError(f"the rate-limit store ({self.where}) refused the check: {exc}") from None
        with self._down_lock:
            self._down = None
        if float(retry) > 0:
            raise RateLimitedError(float(retry))
        return float(left)

    def unavailable(self) -> str | None:
        try:
            self._redis.ping()
        except RedisError as exc:
            return f"not_ready: the rate-limit store ({self.where}) does not answer ({exc})"
        return None

    def close(self) -> None:
        self._redis.close()
