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

from drills import Census, client, ingest, worker_pids

from cdss.types import EdgeType, NodeLabel
from kg import open_store
from kg.records_carry import previous_records, write_records
from kg.sqlite_staging import staged_store, swap_in
from tests.ranking_graph import write_ranking_graph
from tests.served_graph import serving_ranking_graph


def longest_gap(outcomes) -> float:
    successes = sorted(t for t, status, _ in outcomes if status == "200")
    return max(b - a for a, b in itertools.pairwise(successes))


def run(tmp_path, env, seconds, fault, stored=None):
    """Four clients for `seconds` while `fault(served, census)` runs, and with `stored` two more that ingest
    records (their acknowledged ids go there); returns (outcomes, census, pids at the end)."""
    with serving_ranking_graph(tmp_path, workers=2, env=env, scopes=("read", "ingest")) as served:
        census = Census(served.master.pid)
        census.start()
        time.sleep(1)
        outcomes = []
        until = time.monotonic() + seconds
        clients = [threading.Thread(target=client, args=(served.port, served.token, until, outcomes)) for _ in range(4)]
        if stored is not None:
            clients += [
                threading.Thread(target=ingest, args=(served.port, served.token, until, outcomes, stored, str(n)))
                for n in range(2)
            ]
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
        swap_in(graph, graph.with_name("next.sqlite"))

    outcomes, census, now = run(tmp_path, {}, 30, swap)
    assert {status for _, status, _ in outcomes} == {"200"}
    assert now and not now & census.before, "every worker now serves the new file"
    assert longest_gap(outcomes) < 1.5


def test_a_rebuild_swapped_in_while_records_arrive_loses_none(tmp_path):
    graph = tmp_path / "graph.sqlite"
    stored: list[str] = []

    def rebuild(served, census):
        time.sleep(3)
        census.before = set(census.first_seen)
        with open_store(str(write_ranking_graph(tmp_path / "sources.sqlite"))) as source:
            nodes = [n for n in source.iter_nodes() if n.label != NodeLabel.RECORD]
            edges = list(source.iter_edges())
            meta = source.meta()
        with staged_store(
            graph, before_swap=lambda new: write_records(new, previous_records(lambda: open_store(str(graph))))
        ) as new:
            new.upsert_nodes(nodes)
            new.upsert_edges(edges)
            new.set_meta(meta)
        deadline = time.monotonic() + 50
        while worker_pids(served.master.pid) & census.before and time.monotonic() < deadline:
            time.sleep(0.5)

    outcomes, census, now = run(tmp_path, {}, 60, rebuild, stored=stored)
    statuses = {status for _, status, _ in outcomes}
    assert statuses <= {"200", "503"} and stored, "writes refused while the old workers leave are 503s"
    with open_store(str(graph)) as store:
        missing = [rid for rid in stored if store.get_node(rid) is None]
        assert not missing, f"{len(missing)} of {len(stored)} acknowledged records lost"
        assert store.stats().edges_by_type.get(EdgeType.MENTIONS.value, 0) > 0
    assert now and not now & census.before, "every worker now serves the new file"
