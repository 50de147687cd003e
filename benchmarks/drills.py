"""Drills: faults during load against a real gunicorn on loopback, each printing what the clients saw.

- `kill`: kill -9 one worker while N clients send requests; gunicorn starts a new one.
- `hup`: send HUP to the master (every worker is replaced) while N clients send requests.
- `slowloris`: N clients for S seconds, then N clients for S seconds with 10 slow sockets open (5 sending
  headers a byte at a time, 5 a body); prints both and the ratio of their p99. `--proxy` puts nginx in front,
  with the deployment's configuration (deploy/nginx/cdss.conf.template).
- `recycle`: N clients for S seconds at the default recycling (CDSS_MAX_REQUESTS); counts the workers retired.
- `swap`: the graph file is replaced while N clients read and 2 ingest records: by a copy renamed over it, or
  with `--rebuild` by a real `cdss kg build`; then checks that every acknowledged record is in the new file
  and that every worker now serving started after the swap.
- `truncate`: the graph file is cut short in place during load, then restored.
- `burst`: one key with a limit of 600 a minute, 16 clients as fast as they can on 2 workers; counts the 200s.

Each prints the requests, the errors by status, and the longest time no request succeeded.

    python benchmarks/drills.py DRILL [--clients 8] [--seconds 90] [--workers 2] [--proxy] [--rebuild]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from served import Served, serving

from cdss.errors import StoreBusyError
from cdss.settings import load_settings
from kg.sqlite_staging import swap_in
from kg.store_urls import sqlite_path
from runtime import open_graph

BODY = json.dumps({"findings": [{"id": "HP:0001945"}, {"id": "HP:0012735"}, {"id": "HP:0002094"}], "top_k": 10})
Outcome = tuple[float, str, float]
"""When a request ended (monotonic), its status or error, and its latency in ms."""


def client(port: int, token: str, until: float, outcomes: list[Outcome], send: Callable | None = None) -> None:
    """Send requests on one kept-alive connection until `until`; `send(connection, headers)` makes one request."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            if send is None:
                connection.request("POST", "/v1/recommendations", body=BODY, headers=headers)
            else:
                send(connection, headers)
            response = connection.getresponse()
            response.read()
            status = str(response.status)
        except OSError as error:
            status = type(error).__name__
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        outcomes.append((time.monotonic(), status, (time.monotonic() - began) * 1000))


def under_load(served: Served, clients: int, seconds: float, fault: Callable[[float], None]) -> list[Outcome]:
    """Run `clients` for `seconds`, calling `fault(began)` from this thread once they are running."""
    outcomes: list[Outcome] = []
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=client, args=(served.port, served.token, until, outcomes)) for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    fault(time.monotonic())
    for thread in threads:
        thread.join()
    return outcomes


def report(name: str, outcomes: list[Outcome], seconds: float, *, ok: tuple[str, ...] = ("200",)) -> float:
    """Print the counts; returns the p99 latency in ms."""
    outcomes = sorted(outcomes)
    statuses = Counter(status for _, status, _ in outcomes)
    successes = [t for t, status, _ in outcomes if status in ok]
    began = outcomes[0][0] - outcomes[0][2] / 1000 if outcomes else 0.0
    ended = outcomes[-1][0] if outcomes else 0.0
    gaps = [b - a for a, b in zip([began, *successes], [*successes, ended], strict=True)]
    failed = sum(n for status, n in statuses.items() if status not in ok)
    latencies = sorted(ms for _, _, ms in outcomes)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    print(
        f"{name}: {len(outcomes)} requests in {seconds:.0f} s; {failed} failed "
        f"({100 * failed / max(len(outcomes), 1):.2f}%): {dict(sorted(statuses.items()))}; "
        f"p50 {latencies[len(latencies) // 2] if latencies else 0:.0f} ms, p99 {p99:.0f} ms; "
        f"longest time without a success {max(gaps, default=0.0):.1f} s",
        flush=True,
    )
    return p99


def worker_pids(master: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return {int(p) for p in found}


class Census(threading.Thread):
    """Every worker pid seen, and when first seen, polled twice a second."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.first_seen, self.stopped = master, {}, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.5):
            for pid in worker_pids(self.master):
                self.first_seen.setdefault(pid, time.monotonic())


def slow_socket(port: int, kind: str, stop: threading.Event) -> None:
    """Keep one slow request open: headers a byte every 2 s, or a full header and a body a byte every 2 s;
    opened again whenever the server closes it."""
    head = b"POST /v1/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(head + (b"Content-Length: 100000\r\n\r\n" if kind == "body" else b""))
                while not stop.wait(2.0):
                    sock.sendall(b"x" if kind == "body" else b"X")
        except OSError:
            stop.wait(0.5)


def drill_slowloris(served: Served, args: argparse.Namespace) -> None:
    baseline = report(
        "without slow sockets", under_load(served, args.clients, args.seconds, lambda _: None), args.seconds
    )
    stop = threading.Event()
    slow = [
        threading.Thread(target=slow_socket, args=(served.port, kind, stop), daemon=True)
        for kind in ("header", "body")
        for _ in range(5)
    ]
    for thread in slow:
        thread.start()
    time.sleep(2)
    attacked = report(
        "with 10 slow sockets",
        under_load(served, args.clients, args.seconds, lambda _: None),
        args.seconds,
        ok=("200", "429"),
    )
    stop.set()
    print(f"p99 with slow sockets / without: {attacked / max(baseline, 1e-9):.2f}x", flush=True)


def drill_signal(served: Served, args: argparse.Namespace) -> None:
    def fault(began: float) -> None:
        time.sleep(min(10.0, args.seconds / 4))
        if args.drill == "kill":
            victim = sorted(worker_pids(served.master.pid))[0]
            os.kill(victim, signal.SIGKILL)
            print(f"killed worker {victim} at {time.monotonic() - began:.0f} s", flush=True)
        else:
            os.kill(served.master.pid, signal.SIGHUP)
            print(f"sent HUP to the master at {time.monotonic() - began:.0f} s", flush=True)

    report(args.drill, under_load(served, args.clients, args.seconds, fault), args.seconds)


def drill_recycle(served: Served, args: argparse.Namespace) -> None:
    census = Census(served.master.pid)
    census.start()
    outcomes = under_load(served, args.clients, args.seconds, lambda _: None)
    census.stopped.set()
    report("recycle", outcomes, args.seconds)
    starts = sorted(census.first_seen.values())[args.workers :]
    print(
        f"workers started after the first {args.workers}: {len(starts)}; gaps between them (s): "
        f"{[round(b - a) for a, b in itertools.pairwise(starts)]}",
        flush=True,
    )


def ingest(port: int, token: str, until: float, outcomes: list[Outcome], stored: list[str], tag: str) -> None:
    """Post one small record at a time; the ids of those acknowledged (201/200) go into `stored`."""
    count = 0

    def send(connection: http.client.HTTPConnection, headers: dict) -> None:
        nonlocal count
        count += 1
        note = f"Drill note {tag}-{count}: three days of fever and productive cough; no chest pain."
        body = json.dumps({"records": [{"id": f"drill-{tag}-{count}", "text": note}]})
        connection.request("POST", "/v1/records", body=body, headers=headers)

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            send(connection, headers)
            response = connection.getresponse()
            answer = response.read()
            status = str(response.status)
            if response.status in (200, 201):
                stored.extend(json.loads(answer)["record_ids"])
        except OSError as error:
            status = type(error).__name__
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        outcomes.append((time.monotonic(), status, (time.monotonic() - began) * 1000))


def drill_swap(served: Served, args: argparse.Namespace, graph: Path) -> None:
    census = Census(served.master.pid)
    census.start()
    outcomes: list[Outcome] = []
    stored: list[str] = []
    until = time.monotonic() + args.seconds
    threads = [
        threading.Thread(target=client, args=(served.port, served.token, until, outcomes)) for _ in range(args.clients)
    ] + [
        threading.Thread(target=ingest, args=(served.port, served.token, until, outcomes, stored, str(n)))
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    time.sleep(min(10.0, args.seconds / 6))
    if args.rebuild:
        env = {**os.environ, "CDSS_PROGRESS": "0"}
        build = subprocess.run(
            [sys.executable, "-c", "from cli import main; main()", "kg", "build", "--store", str(graph)],
            env=env,
            capture_output=True,
            text=True,
        )
        print(f"cdss kg build exited {build.returncode}: {build.stdout.strip().splitlines()[-1:]}", flush=True)
    else:
        staged = graph.with_name(graph.name + ".copy")
        shutil.copyfile(graph, staged)
        swap_in(graph, staged)
    swapped = time.monotonic()
    print(f"graph replaced {swapped - (until - args.seconds):.0f} s into the drill", flush=True)
    for thread in threads:
        thread.join()
    census.stopped.set()
    report("swap", outcomes, args.seconds, ok=("200", "201"))
    with readable(graph) as store:
        missing = [rid for rid in stored if store.get_node(rid) is None]
    serving_now = worker_pids(served.master.pid)
    stale = [pid for pid in serving_now if census.first_seen.get(pid, swapped) < swapped]
    print(
        f"records acknowledged {len(stored)}, missing from the graph now {len(missing)}; workers serving "
        f"{len(serving_now)}, of them started before the swap {len(stale)}",
        flush=True,
    )


def readable(graph: Path, *, within: float = 180.0):
    """The graph, opened once no writer holds it locked (a loading worker may still be reading it whole)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return open_graph(load_settings(), str(graph))
        except StoreBusyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def drill_truncate(served: Served, args: argparse.Namespace, graph: Path) -> None:
    saved = graph.with_name(graph.name + ".saved")
    shutil.copyfile(graph, saved)

    def fault(began: float) -> None:
        time.sleep(args.seconds / 4)
        with graph.open("r+b") as handle:
            handle.truncate(graph.stat().st_size // 3)
        print(f"truncated the graph at {time.monotonic() - began:.0f} s", flush=True)
        time.sleep(args.seconds / 4)
        with saved.open("rb") as source, graph.open("r+b") as target:
            shutil.copyfileobj(source, target)
        print(f"restored it in place at {time.monotonic() - began:.0f} s", flush=True)

    report("truncate", under_load(served, args.clients, args.seconds, fault), args.seconds, ok=("200",))


def drill_burst(served: Served, args: argparse.Namespace) -> None:
    outcomes = under_load(served, 16, args.seconds, lambda _: None)
    report("burst", outcomes, args.seconds, ok=("200", "429"))
    start = min(t for t, _, _ in outcomes)
    for minute in range(int(args.seconds // 60) or 1):
        window = [s for t, s, _ in outcomes if minute * 60 <= t - start < (minute + 1) * 60]
        print(f"minute {minute + 1}: {window.count('200')} answered 200 against a limit of 600 a minute", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("drill", choices=["kill", "hup", "slowloris", "recycle", "swap", "truncate", "burst"])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--proxy", action="store_true", help="put nginx in front, as docker-compose.yml does")
    parser.add_argument("--rebuild", action="store_true", help="swap: replace the graph with a real cdss kg build")
    args = parser.parse_args()
    settings = load_settings()
    env = {"CDSS_RATE_LIMIT": "600"} if args.drill == "burst" else {}
    store = settings.store
    copy = None
    if args.drill in ("swap", "truncate"):
        # Never the real graph: a copy that the drill may replace or damage.
        copy = Path(settings.data_dir) / f"drill-{os.getpid()}" / "graph.sqlite"
        copy.parent.mkdir(parents=True)
        shutil.copyfile(sqlite_path(settings.store), copy)
        store = str(copy)
    started = time.monotonic()
    try:
        with serving(
            store=store,
            workers=args.workers,
            port=args.port,
            proxy_port=args.port + 1 if args.proxy else None,
            scopes=("read", "ingest"),
            env=env,
        ) as served:
            print(f"{args.workers} workers ready in {time.monotonic() - started:.0f} s", flush=True)
            if args.drill == "slowloris":
                drill_slowloris(served, args)
            elif args.drill in ("kill", "hup"):
                drill_signal(served, args)
            elif args.drill == "recycle":
                drill_recycle(served, args)
            elif args.drill == "swap":
                drill_swap(served, args, copy)
            elif args.drill == "truncate":
                drill_truncate(served, args, copy)
            else:
                drill_burst(served, args)
    finally:
        if copy is not None:
            shutil.rmtree(copy.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
