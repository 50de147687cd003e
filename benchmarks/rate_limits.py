"""Benchmark: what a rate-limit check costs per request: in memory, the shared SQLite buckets, and Redis.

Prints, measured side by side in one run (the best of three passes each, alternated): microseconds per
check of each limiter, and each one's ratio to the in-memory check. A check is one per API request. The Redis
limiter is measured against a throw-away redis-server on loopback when one is installed (`make system-packages`);
across a network, add the round trip.

    python benchmarks/rate_limits.py [--checks 5000]

`local_redis()` is that throw-away server; the rate-limit tests start theirs with it too.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from api.limits import RateLimiter, SharedRateLimiter

PASSES = 3


def redis_server_binary() -> str | None:
    """redis-server on PATH or in /usr/bin (Debian's redis-server package)."""
    return shutil.which("redis-server") or shutil.which("redis-server", path="/usr/bin:/usr/local/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalRedis:
    """A redis-server on loopback that keeps nothing on disk; it can be stopped and started again on its port."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [*command, "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with status {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@contextmanager
def local_redis(folder: Path | None = None) -> Iterator[LocalRedis]:
    """A started `LocalRedis` on a free port, stopped after."""
    folder = Path(folder or tempfile.mkdtemp(prefix="cdss-redis-"))
    folder.mkdir(parents=True, exist_ok=True)
    server = LocalRedis(folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def measure(limiters: dict[str, RateLimiter], checks: int) -> dict[str, float]:
    """Seconds per check of each limiter, the best of `PASSES` passes, the limiters alternated in each."""
    best = dict.fromkeys(limiters, float("inf"))
    for _ in range(PASSES):
        for name, limiter in limiters.items():
            started = time.perf_counter()
            for n in range(checks):
                limiter.take(f"key-{n % 8}")
            best[name] = min(best[name], (time.perf_counter() - started) / checks)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    limiters: dict[str, RateLimiter] = {
        "in memory": RateLimiter(10**9),
        "shared (SQLite, WAL)": SharedRateLimiter(10**9, folder / "rate_limits.sqlite"),
    }
    with local_redis(folder / "redis") if redis_server_binary() else nullcontext() as server:
        if server is None:
            print("redis-server is not installed: the Redis limiter is not measured (apt-get install redis-server)")
        else:
            from api.redis_limits import RedisRateLimiter

            limiters["Redis (Lua, loopback)"] = RedisRateLimiter(10**9, server.url)
        best = measure(limiters, args.checks)
        for limiter in limiters.values():
            limiter.close()
    for name, seconds in best.items():
        ratio = "" if name == "in memory" else f"  ({seconds / best['in memory']:.0f}x in memory)"
        print(f"{name:<22} {seconds * 1e6:8.1f} us a check{ratio}")


if __name__ == "__main__":
    main()
