"""Drills as tests, on a real gunicorn with 2 workers over the small ranking graph (a worker loads in seconds).

A HUP, recycling at a request count and a replaced graph file each replace every worker while clients keep
calling; at no moment is there no worker to answer, because a worker neither retires nor stops while another
loads (api/recycle_gate.py and the hooks in gunicorn.conf.py).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import threading
import time

from drills import Census, client, worker_pids

from tests.served_graph import serving_ranking_graph


def longest_gap(outcomes) -> float:
    successes = sorted(t for t, status, _ in outcomes if status == "200")
    return max(b - a for a, b in itertools.pairwise(successes))


def run(tmp_path, env, seconds, fault):
    """Four clients for `seconds` while `fault(served, census)` runs; returns (outcomes, census, pids at the end)."""
    with serving_ranking_graph(tmp_path, workers=2, env=env) as served:
        census = Census(served.master.pid)
        census.start()
        time.sleep(1)
        outcomes = []
        until = time.monotonic() + seconds
        clients = [threading.Thread(target=client, args=(served.port, served.token, until, outcomes)) for _ in range(4)]
        for thread in clients:
            thread.start()
        fault(served, census)
        for thread in clients:
            thread.join()
        census.stopped.set()
        return outcomes, census, worker_pids(served.master.pid)


def test_a_hup_replaces_every_worker_without_a_gap(tmp_path):
    def hup(served, census):
        time.sleep(2)
        census.before = set(census.first_seen)
        os.kill(served.master.pid, signal.SIGHUP)

    outcomes, census, now = run(tmp_path, {}, 25, hup)
    assert {status for _, status, _ in outcomes} == {"200"}
    assert now and not now & census.before, "every worker was replaced"
    assert longest_gap(outcomes) < 1.5


def test_workers_recycle_one_at_a_time_without_a_gap(tmp_path):
    env = {"CDSS_MAX_REQUESTS": "150"}
    outcomes, census, _ = run(tmp_path, env, 30, lambda served, census: None)
    assert {status for _, status, _ in outcomes} == {"200"}
    assert len(census.first_seen) >= 4, "workers were recycled"
    assert longest_gap(outcomes) < 1.5


def test_a_replaced_graph_file_retires_every_worker_onto_the_new_one(tmp_path):
    graph = tmp_path / "graph.sqlite"

    def swap(served, census):
        time.sleep(2)
        census.before = set(census.first_seen)
        shutil.copyfile(graph, graph.with_name("next.sqlite"))
        os.replace(graph.with_name("next.sqlite"), graph)

    outcomes, census, now = run(tmp_path, {}, 30, swap)
    assert {status for _, status, _ in outcomes} == {"200"}
    assert now and not now & census.before, "every worker now serves the new file"
    assert longest_gap(outcomes) < 1.5
