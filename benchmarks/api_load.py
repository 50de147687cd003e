"""Benchmark: the API under concurrent clients on loopback, sending 500-word notes.

Starts gunicorn (the production server, `gunicorn.conf.py`) on the embedded
graph with a throw-away API key, waits for /readyz, warms up, then runs N
client threads that each keep one connection open and POST notes to
/v1/recommendations. Notes are built from the graph's own finding names in
clinical sentences (present, negated, family history), 500 words each.

Prints p50/p95/p99 latency, throughput and the error count.

    python benchmarks/api_load.py [--clients 8] [--requests 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time

import numpy as np
from served import serving

from cdss.settings import load_settings
from cdss.types import NodeLabel
from runtime import open_graph

TEMPLATES = (
    "The patient reports {a} for the past three days and describes worsening {b}.",
    "She denies {a} and has had no {b} since the last visit.",
    "On examination there was {a}; {b} was not present.",
    "Mother had {a}. Father was treated for {b} in his fifties.",
    "History of {a} in 2015, resolved without sequelae.",
    "Review of systems is positive for {a} and negative for {b}.",
    "Plan: follow up in two weeks, return if {a} develops, and repeat the chest film.",
)


def make_notes(count: int, words: int, store_url: str, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    with open_graph(load_settings(), store_url) as store:
        names = sorted(
            c.name.lower()
            for c in store.iter_nodes(label=NodeLabel.FINDING)
            if c.id.startswith("HP:") and 1 <= len(c.name.split()) <= 3
        )
    notes = []
    for _ in range(count):
        sentences: list[str] = []
        while sum(len(s.split()) for s in sentences) < words:
            a, b = rng.choice(names, size=2, replace=False)
            sentences.append(TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(a=a, b=b))
        notes.append(" ".join(" ".join(sentences).split()[:words]))
    return notes


def client(port: int, token: str, notes: list[str], latencies: list[float], errors: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for note in notes:
        body = json.dumps({"text": note, "top_k": 10})
        began = time.perf_counter()
        try:
            connection.request("POST", "/v1/recommendations", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors.append(str(response.status))
        except OSError as error:
            errors.append(type(error).__name__)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies.append((time.perf_counter() - began) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="in all, spread over the clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--words", type=int, default=500)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--store", help="graph store URL (default: CDSS_STORE)")
    args = parser.parse_args()
    settings = load_settings()
    store_url = args.store or settings.store
    notes = make_notes(args.requests + args.clients * 2, args.words, store_url)
    started = time.perf_counter()
    with serving(store=store_url, workers=args.workers, port=args.port) as served:
        print(f"{args.workers} gunicorn workers ready in {time.perf_counter() - started:.1f} s")
        warm_latencies: list[float] = []
        warm_errors: list[str] = []
        # Every worker answers a couple of notes before timing starts.
        client(served.port, served.token, notes[: args.clients * 2], warm_latencies, warm_errors)
        latencies: list[float] = []
        errors: list[str] = []
        share = notes[args.clients * 2 :]
        threads = [
            threading.Thread(
                target=client, args=(served.port, served.token, share[i :: args.clients], latencies, errors)
            )
            for i in range(args.clients)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    ordered = sorted(latencies)

    def percentile(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    print(
        f"{len(latencies)} requests of {args.words}-word notes from {args.clients} clients: "
        f"p50 {statistics.median(ordered):.0f} ms, p95 {percentile(0.95):.0f} ms, p99 {percentile(0.99):.0f} ms; "
        f"{len(latencies) / elapsed:.1f} requests/s; {len(errors)} errors"
        + (f" ({', '.join(sorted(set(errors)))})" if errors else "")
    )


if __name__ == "__main__":
    main()
