"""Swapping a rebuilt graph in under readers that still hold the old file (kg/sqlite_staging.py)."""

import os
import sqlite3
from pathlib import Path

from kg import open_store
from kg.sqlite_staging import LIVE_MARKER, remove_stale_stages, staged_store


def _rebuild(graph, version: str) -> None:
    with open_store(str(graph)) as source:
        nodes, edges, meta = list(source.iter_nodes()), list(source.iter_edges()), source.meta()
    with staged_store(graph) as new:
        new.upsert_nodes(nodes)
        new.upsert_edges(edges)
        new.set_meta({**meta, "graph_version": version})


def test_a_reader_of_the_replaced_file_leaves_the_new_files_journal_alone(tiny_graph):
    old = open_store(str(tiny_graph))
    before = old.stats()
    _rebuild(tiny_graph, "next")
    writer = sqlite3.connect(tiny_graph, isolation_level=None)
    writer.execute("PRAGMA cache_size = 5")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("CREATE TABLE filler (x TEXT)")
    writer.executemany("INSERT INTO filler VALUES (?)", [("x" * 200,)] * 5_000)
    # The writer's cache spilled: its journal holds the new file's original pages and is on disk.
    assert any(p.name.endswith("-journal") for p in tiny_graph.parent.iterdir())
    assert old.stats() == before, "the old file reads as it was"
    assert old.get_node("HP:0001945").name == "Fever"
    writer.execute("COMMIT")
    writer.close()
    old.close()
    with open_store(str(tiny_graph)) as new:
        assert new.graph_version == "next"
        assert new.get_node("HP:0001945").name == "Fever"
    assert sqlite3.connect(tiny_graph).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_the_graph_path_names_one_live_file_at_a_time(tiny_graph):
    first = tiny_graph.resolve()
    assert tiny_graph.is_symlink() and first.name.startswith(f"{tiny_graph.name}{LIVE_MARKER}")
    _rebuild(tiny_graph, "next")
    assert tiny_graph.resolve() != first and not first.exists()
    assert sorted(p.name for p in tiny_graph.parent.iterdir()) == sorted([tiny_graph.name, tiny_graph.resolve().name])


def test_live_files_left_by_a_killed_build_are_removed_but_never_the_current_one(tiny_graph):
    current = tiny_graph.resolve()
    orphan = tiny_graph.with_name(f"{tiny_graph.name}{LIVE_MARKER}999999999-1")
    mine = tiny_graph.with_name(f"{tiny_graph.name}{LIVE_MARKER}{os.getpid()}-1")
    link = tiny_graph.with_name(f"{tiny_graph.name}.building-999999999-1.link")
    orphan.write_bytes(b"renamed, never linked")
    mine.write_bytes(b"a build still running")
    link.symlink_to(current.name)
    assert remove_stale_stages(tiny_graph) == [link, orphan]
    assert current.exists() and mine.exists() and tiny_graph.resolve() == current


def test_a_folder_without_links_gets_the_new_file_renamed_onto_the_path(tiny_graph, monkeypatch):
    first = tiny_graph.resolve()

    def no_links(*args, **kwargs):
        raise OSError("links not supported")

    monkeypatch.setattr(os, "symlink", no_links)
    _rebuild(tiny_graph, "next")
    assert not tiny_graph.is_symlink() and not first.exists()
    with open_store(str(tiny_graph)) as store:
        assert store.graph_version == "next"


def test_a_relative_graph_path_keeps_one_live_file(tiny_graph, monkeypatch):
    monkeypatch.chdir(tiny_graph.parent)
    _rebuild(Path(tiny_graph.name), "next")
    _rebuild(Path(tiny_graph.name), "after")
    assert sorted(p.name for p in tiny_graph.parent.iterdir()) == sorted([tiny_graph.name, tiny_graph.resolve().name])
