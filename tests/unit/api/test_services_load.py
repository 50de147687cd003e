"""A worker's load waits for a graph a writer holds locked, instead of failing and serving 503s."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from api.services import Services
from cdss.errors import StoreBusyError
from cdss.settings import load_settings
from kg import open_store
from tests.ranking_graph import write_ranking_graph


def settings_for(tmp_path):
    graph = write_ranking_graph(tmp_path / "graph.sqlite")
    env = {"CDSS_DATA_DIR": str(tmp_path / "data"), "CDSS_STORE": str(graph), "CDSS_RECORD_ID_KEY": "k" * 40}
    return graph, load_settings(env)


def hold_lock(graph, seconds: float, held: threading.Event) -> None:
    connection = sqlite3.connect(graph, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    held.set()
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def test_a_locked_graph_is_a_busy_error_that_names_the_lock(tmp_path):
    graph, _ = settings_for(tmp_path)
    held = threading.Event()
    holder = threading.Thread(target=hold_lock, args=(graph, 7, held))
    holder.start()
    held.wait(5)
    with pytest.raises(StoreBusyError, match="locked"):
        open_store(str(graph))
    holder.join()


def test_the_load_waits_for_the_writer_then_serves(tmp_path):
    graph, settings = settings_for(tmp_path)
    held = threading.Event()
    holder = threading.Thread(target=hold_lock, args=(graph, 8, held))
    holder.start()
    held.wait(5)
    services = Services(settings)
    try:
        began = time.monotonic()
        services.load()
        assert services.engine is not None and services.error is None
        assert time.monotonic() - began >= 3
    finally:
        holder.join()
        services.close()
