"""Rate limits that hold across worker processes and restarts: the buckets live in one SQLite file."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from api.limits import SharedRateLimiter, spend
from cdss.errors import RateLimitedError

LIMIT = 30


def _burst(path: str, tries: int) -> int:
    limiter = SharedRateLimiter(LIMIT, Path(path))
    allowed = 0
    for _ in range(tries):
        try:
            limiter.take("key-a")
            allowed += 1
        except RateLimitedError:
            pass
    limiter.close()
    return allowed


def test_the_bucket_refills_at_its_rate_up_to_its_capacity():
    assert spend(0.0, 0.0, 60.0, capacity=30, rate=0.5) == (29.0, None)
    left, retry = spend(0.25, 10.0, 10.0, capacity=30, rate=0.5)
    assert left == 0.25 and retry == pytest.approx(1.5)


def test_two_workers_together_never_exceed_one_keys_limit(tmp_path):
    path = str(tmp_path / "rate_limits.sqlite")
    started = time.time()
    with ProcessPoolExecutor(2) as pool:
        allowed = sum(pool.map(_burst, [path, path], [100, 100]))
    refill = (time.time() - started) * LIMIT / 60
    assert LIMIT <= allowed <= LIMIT + refill + 1


def test_a_restarted_worker_finds_its_bucket_spent(tmp_path):
    path = tmp_path / "rate_limits.sqlite"
    first = SharedRateLimiter(2, path, clock=lambda: 1000.0)
    first.take("k")
    first.take("k")
    first.close()
    again = SharedRateLimiter(2, path, clock=lambda: 1000.0)
    with pytest.raises(RateLimitedError):
        again.take("k")
    again.close()
