"""Benchmark: what a rate-limit check costs per request, in memory against the shared SQLite buckets.

Prints, measured side by side in one run (the best of three passes each, alternated): microseconds per
check of each limiter, and their ratio. A check is one per API request.

    python benchmarks/rate_limits.py [--checks 5000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from api.limits import RateLimiter, SharedRateLimiter

PASSES = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    limiters = {
        "in memory": RateLimiter(10**9),
        "shared (SQLite, WAL)": SharedRateLimiter(10**9, folder / "rate_limits.sqlite"),
    }
    best = dict.fromkeys(limiters, float("inf"))
    for _ in range(PASSES):
        for name, limiter in limiters.items():
            started = time.perf_counter()
            for n in range(args.checks):
                limiter.take(f"key-{n % 8}")
            best[name] = min(best[name], (time.perf_counter() - started) / args.checks)
    for name, seconds in best.items():
        print(f"{name:<22} {seconds * 1e6:8.1f} us a check")
    print(f"shared / in memory: {best['shared (SQLite, WAL)'] / best['in memory']:.0f}x")
    limiters["shared (SQLite, WAL)"].close()


if __name__ == "__main__":
    main()
