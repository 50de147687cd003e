"""Per-key rate limiting: a token bucket per key, in the memory of one worker process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cdss.errors import RateLimitedError


class RateLimiter:
    """`per_minute` requests a minute on average, with bursts up to the same number."""

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
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise RateLimitedError((1.0 - tokens) / self.rate)
            self._buckets[key] = (tokens - 1.0, now)
            return tokens - 1.0
