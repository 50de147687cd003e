"""Drills: faults during load against a real gunicorn on loopback, each printing what the clients saw.

- `kill`: kill -9 one worker while N clients send requests; gunicorn starts a new one.
- `hup`: send HUP to the master (every worker is replaced) while N clients send requests.

Each prints the requests, the errors by status, and the longest time no request succeeded.

    python benchmarks/drills.py kill|hup [--clients 8] [--seconds 90] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from api_load import wait_ready

from api.keys import KeyStore
from cdss.settings import load_settings

BODY = json.dumps({"findings": [{"id": "HP:0001945"}, {"id": "HP:0012735"}, {"id": "HP:0002094"}], "top_k": 10})


def client(port: int, token: str, until: float, outcomes: list[tuple[float, str]]) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        try:
            connection.request("POST", "/v1/recommendations", body=BODY, headers=headers)
            response = connection.getresponse()
            response.read()
            outcomes.append((time.monotonic(), str(response.status)))
        except OSError as error:
            outcomes.append((time.monotonic(), type(error).__name__))
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def worker_pids(master: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=["kill", "hup"])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    settings = load_settings()
    folder = Path(tempfile.mkdtemp(prefix="cdss-drill-"))
    _, token = KeyStore(folder / "keys.sqlite").create("drill", ["read"])
    env = {
        **os.environ,
        "CDSS_API_KEYS": str(folder / "keys.sqlite"),
        "CDSS_AUDIT_LOG": str(folder / "audit.jsonl"),
        "CDSS_FEEDBACK_DB": str(folder / "feedback.sqlite"),
        "CDSS_RATE_LIMITS_DB": str(folder / "rate_limits.sqlite"),
        "CDSS_RATE_LIMIT": "1000000",
        "CDSS_BIND": f"127.0.0.1:{args.port}",
        "CDSS_WORKERS": str(args.workers),
        "CDSS_LOG_LEVEL": "WARNING",
        "CDSS_STORE": settings.store,
    }
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(root / "gunicorn.conf.py"), "api.wsgi:app"], env=env, cwd=root
    )
    try:
        started = time.monotonic()
        wait_ready(args.port, timeout=600)
        print(f"{args.workers} workers ready in {time.monotonic() - started:.0f} s")
        outcomes: list[tuple[float, str]] = []
        began = time.monotonic()
        until = began + args.seconds
        threads = [
            threading.Thread(target=client, args=(args.port, token, until, outcomes)) for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(min(10.0, args.seconds / 4))
        if args.drill == "kill":
            victim = worker_pids(server.pid)[0]
            os.kill(victim, signal.SIGKILL)
            print(f"killed worker {victim} at {time.monotonic() - began:.0f} s")
        else:
            os.kill(server.pid, signal.SIGHUP)
            print(f"sent HUP to the master at {time.monotonic() - began:.0f} s")
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=60)
    outcomes.sort()
    statuses = Counter(status for _, status in outcomes)
    successes = [t for t, status in outcomes if status == "200"]
    gaps = [b - a for a, b in zip([began, *successes], [*successes, until], strict=True)]
    failed = sum(n for status, n in statuses.items() if status != "200")
    print(
        f"{args.drill}: {len(outcomes)} requests from {args.clients} clients in {args.seconds:.0f} s; "
        f"{failed} failed ({100 * failed / max(len(outcomes), 1):.2f}%): {dict(sorted(statuses.items()))}; "
        f"longest time without a success {max(gaps):.1f} s"
    )


if __name__ == "__main__":
    main()
