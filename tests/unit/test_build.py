"""`build_graph` on the tiny sources: counts, idempotence, atomicity, bad input."""

import os
import sqlite3

import pytest

from cdss.errors import GraphNotBuiltError, SourceMissingError, SourceParseError, StoreError
from kg import build_graph, open_store
from kg.sqlite_store import SqliteStore, remove_stale_stages
from kg.version import graph_version
from ontologies import SourceSpec
from ontologies.hpo import load_hpo


def test_build_writes_every_source(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        stats = store.stats()
        assert stats.nodes_by_label == {"Disease": 10, "Finding": 8, "Drug": 2}
        assert stats.edges_by_type == {"HAS_FINDING": 3, "EXCLUDES_FINDING": 1, "IS_A": 12}
        assert stats.has_finding_with_frequency == 3
        assert [s["name"] for s in stats.sources] == ["hpo", "icd10cm", "drug_dictionary"]
        assert store.get_node("OMIM:100100").name == "Test syndrome"


def test_stored_graph_hashes_to_its_version(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        assert graph_version(store.iter_nodes(), store.iter_edges()) == store.graph_version


def test_rebuild_gives_the_same_version_and_no_duplicates(tmp_path, tiny_specs, tiny_graph):
    first = open_store(str(tiny_graph))
    before = (first.graph_version, first.stats().node_count, first.stats().edge_count)
    first.close()
    report = build_graph(store_url=str(tiny_graph), sources_dir=tmp_path, sources=tiny_specs)
    with open_store(str(tiny_graph)) as store:
        assert (store.graph_version, store.stats().node_count, store.stats().edge_count) == before
        assert report.graph_version == before[0]
    with sqlite3.connect(tiny_graph) as conn:
        assert conn.execute("SELECT COUNT(*) - COUNT(DISTINCT id) FROM nodes").fetchone() == (0,)


def _broken_hpo_spec(tiny_paths, tmp_path) -> SourceSpec:
    broken = tmp_path / "broken.obo"
    broken.write_text(tiny_paths["hp.obo"].read_text().replace("name: Fever", "name Fever"), encoding="utf-8")
    return SourceSpec(
        name="hpo",
        title="broken",
        license="x",
        citation="x",
        homepage="x",
        package=None,
        load=lambda _: load_hpo(broken, tiny_paths["phenotype.hpoa"]),
    )


def test_malformed_source_names_file_and_line_and_keeps_the_previous_graph(
    tmp_path, tiny_paths, tiny_specs, tiny_graph
):
    version = open_store(str(tiny_graph)).graph_version
    before = tiny_graph.stat().st_mtime_ns
    with pytest.raises(SourceParseError) as info:
        build_graph(
            store_url=str(tiny_graph),
            sources_dir=tmp_path,
            sources=[_broken_hpo_spec(tiny_paths, tmp_path), *tiny_specs[1:]],
        )
    line = next(i for i, text in enumerate(tiny_paths["hp.obo"].read_text().splitlines(), 1) if text == "name: Fever")
    assert f"broken.obo:{line}: expected 'tag: value'" in str(info.value)
    assert tiny_graph.stat().st_mtime_ns == before
    assert open_store(str(tiny_graph)).graph_version == version
    assert not list(tiny_graph.parent.glob("*.building-*"))


def test_an_optional_source_that_fails_is_skipped_with_its_reason(tmp_path, tiny_specs):
    def missing(_):
        raise SourceMissingError("extra", tmp_path / "extra.tsv", "fetch it with `cdss data fetch`")

    optional = SourceSpec(
        name="extra", title="x", license="x", citation="x", homepage="x", package=None, load=missing, required=False
    )
    report = build_graph(store_url=str(tmp_path / "g.sqlite"), sources_dir=tmp_path, sources=[*tiny_specs, optional])
    assert report.skipped == [
        f"extra: source 'extra' is missing: {tmp_path / 'extra.tsv'} not found; fetch it with `cdss data fetch`"
    ]
    assert report.nodes == 20


def test_failure_while_writing_leaves_the_previous_graph(tmp_path, tiny_graph):
    version = open_store(str(tiny_graph)).graph_version
    with pytest.raises(RuntimeError, match="disk on fire"), SqliteStore.staged(tiny_graph) as store:
        store.upsert_nodes([])
        raise RuntimeError("disk on fire")
    assert open_store(str(tiny_graph)).graph_version == version
    assert not list(tiny_graph.parent.glob("*.building-*"))


def test_stale_stages_of_dead_builds_are_removed(tmp_path):
    target = tmp_path / "graph.sqlite"
    dead = tmp_path / "graph.sqlite.building-999999999-1"
    alive = tmp_path / f"graph.sqlite.building-{os.getpid()}-1"
    dead.write_bytes(b"half")
    alive.write_bytes(b"mine")
    assert remove_stale_stages(target) == [dead]
    assert alive.exists() and not dead.exists()


def test_opening_a_missing_or_foreign_store_is_a_clear_error(tmp_path):
    with pytest.raises(GraphNotBuiltError, match="run `cdss kg build` first"):
        open_store(str(tmp_path / "none.sqlite"))
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="is not a cdss graph database"):
        open_store(str(junk))
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    with pytest.raises(StoreError, match="schema version '0', this cdss needs"):
        open_store(str(old))


@pytest.mark.parametrize("url", ["neo4j://localhost:7687", "sqlite://host/x.sqlite", ""])
def test_unsupported_store_urls_are_rejected(url):
    from cdss.errors import ConfigError

    with pytest.raises(ConfigError):
        open_store(url)


def test_sqlite_urls(tmp_path, tiny_graph):
    assert open_store(f"sqlite://{tiny_graph}").graph_version == open_store(str(tiny_graph)).graph_version
