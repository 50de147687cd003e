"""Rate limits that hold across worker processes and restarts (the buckets in one SQLite file), and across
replicas (the buckets in Redis: a real redis-server started here, or skipped with the reason)."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import redis
from rate_limits import local_redis, redis_server_binary

from api.limits import SharedRateLimiter, spend
from api.redis_limits import PREFIX, QUIET_S, SCRIPT_SHA, RedisRateLimiter
from cdss.errors import ConfigError, RateLimitedError
from cdss.settings import load_settings
from tests.api_app import ranking_graph_app

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


# -- Redis: the buckets every replica shares (CDSS_REDIS_URL) ----------------------------------------------------------

needs_redis = pytest.mark.skipif(
    redis_server_binary() is None,
    reason="redis-server is not installed (apt-get install redis-server, or `make system-packages`)",
)
BURST_LIMIT = 200
BURST_TRIES = 1000


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with local_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def _redis_burst(url: str, start_at: float) -> tuple[int, float, float]:
    """(requests allowed, when the burst began, when it ended) for one process spending from `burst`."""
    limiter = RedisRateLimiter(BURST_LIMIT, url)
    time.sleep(max(0.0, start_at - time.time()))
    began, allowed = time.time(), 0
    for _ in range(BURST_TRIES):
        try:
            limiter.take("burst")
            allowed += 1
        except RateLimitedError:
            pass
    ended = time.time()
    limiter.close()
    return allowed, began, ended


@needs_redis
def test_two_processes_bursting_on_one_redis_key_never_exceed_its_limit(redis_url):
    start_at = time.time() + 1.0
    with ProcessPoolExecutor(2) as pool:
        (first, began_1, ended_1), (second, began_2, ended_2) = pool.map(_redis_burst, [redis_url] * 2, [start_at] * 2)
    assert max(began_1, began_2) < min(ended_1, ended_2), "the two bursts did not overlap"
    refill = (max(ended_1, ended_2) - min(began_1, began_2)) * BURST_LIMIT / 60
    assert BURST_LIMIT <= first + second <= BURST_LIMIT + refill + 1, (first, second, refill)


@needs_redis
def test_a_spent_redis_bucket_refills_at_its_rate(redis_url):
    limiter = RedisRateLimiter(120, redis_url)  # two a second
    began = time.monotonic()
    for _ in range(120):
        limiter.take("refill")
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("refill")
    refilled = (time.monotonic() - began) * 2
    assert 0.5 - refilled / 2 - 0.01 <= refused.value.retry_after <= 0.5, "half a second less what refilled"
    time.sleep(refused.value.retry_after + 0.05)
    assert limiter.take("refill") < 1
    with pytest.raises(RateLimitedError):
        limiter.take("refill")
    limiter.close()


@needs_redis
def test_replicas_with_skewed_clocks_spend_from_one_bucket(redis_url, monkeypatch):
    here = RedisRateLimiter(2, redis_url)
    here.take("skew")
    here.take("skew")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # a replica whose clock is an hour ahead
    ahead = RedisRateLimiter(2, redis_url)
    with pytest.raises(RateLimitedError):
        ahead.take("skew")
    here.close()
    ahead.close()


@needs_redis
def test_idle_buckets_expire_and_a_flushed_script_is_sent_again(redis_url):
    client = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(30, redis_url)
    limiter.take("idle")
    assert 0 < client.pttl(PREFIX + "idle") <= 61_000, "gone once it would be full again (60 s) and a second"
    client.script_flush()
    assert limiter.take("idle") == pytest.approx(28, abs=0.01)
    assert client.script_exists(SCRIPT_SHA) == [True]
    limiter.close()
    client.close()


@needs_redis
def test_the_api_answers_429_with_retry_after_and_503_while_redis_is_down(tmp_path):
    with local_redis(tmp_path / "redis") as server:
        app, services = ranking_graph_app(tmp_path, env={"CDSS_REDIS_URL": server.url, "CDSS_RATE_LIMIT": "2"})
        client = app.test_client()
        one, other = ({"X-API-Key": services.keys.create(name, ["read"])[1]} for name in ("one", "other"))
        answers = [client.get("/v1/graph/stats", headers=one) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[1].headers["X-RateLimit-Remaining"] == "0"
        assert 1 <= int(answers[2].headers["Retry-After"]) <= 30
        assert client.get("/readyz").status_code == 200

        server.stop()
        down = client.get("/v1/graph/stats", headers=other)
        error = down.get_json()["error"]
        assert down.status_code == 503 and error["code"] == "not_ready", error
        assert f"Redis at 127.0.0.1:{server.port}" in error["message"] and "refused" in error["message"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and "rate-limit store" in ready.get_json()["error"]

        server.start()
        time.sleep(QUIET_S)
        assert client.get("/v1/graph/stats", headers=other).status_code == 200
        assert client.get("/readyz").status_code == 200
        services.close()


def test_a_redis_url_that_cannot_be_used_is_refused_without_quoting_its_password():
    assert load_settings({"CDSS_REDIS_URL": "redis://cache:6379/1"}).redis_url == "redis://cache:6379/1"
    assert load_settings({}).redis_url is None
    with pytest.raises(ConfigError, match=r"CDSS_REDIS_URL=http://\.\.\. must start with redis://") as refused:
        load_settings({"CDSS_REDIS_URL": "http://:hunter2@cache:6379/0"})
    assert "hunter2" not in str(refused.value)
    with pytest.raises(ConfigError, match=r"CDSS_REDIS_URL cannot be read: Port .* 'abc'") as unreadable:
        RedisRateLimiter(2, "redis://:hunter2@cache:abc/0")
    assert "hunter2" not in str(unreadable.value)
