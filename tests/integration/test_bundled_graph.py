"""The real graph, built from the data bundled in the installed packages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cdss.types import EdgeType, NodeLabel
from kg import Direction, build_graph, open_store
from kg.sqlite_staging import STAGE_MARKER, remove_stale_stages

pytestmark = pytest.mark.integration


def _cdss(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict, dict[str, str]]:
    """`cdss kg build --json` in a fresh data folder, as a user would run it."""
    data_dir = tmp_path_factory.mktemp("bundled")
    env = {**os.environ, "CDSS_DATA_DIR": str(data_dir), "CDSS_PROGRESS": "0"}
    env.pop("CDSS_STORE", None)
    process = _cdss("kg", "build", "--json", env=env)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return data_dir / "graph.sqlite", json.loads(out), env


def test_counts_meet_the_foundation_targets(built):
    path, report, _ = built
    with open_store(str(path)) as store:
        stats = store.stats()
    assert stats.graph_version == report["graph_version"]
    assert stats.nodes_by_label["Disease"] >= 12_000
    assert stats.nodes_by_label["Finding"] >= 15_000
    assert stats.nodes_by_label["Drug"] >= 15_000
    assert stats.edges_by_type["HAS_FINDING"] >= 250_000
    assert stats.edges_by_type["EXCLUDES_FINDING"] == 711
    assert stats.has_finding_with_frequency >= 190_000
    assert stats.nodes_by_source["hpo"]["Disease"] == 12_687
    assert stats.nodes_by_label["Gene"] >= 5_000
    assert stats.edges_by_type["ASSOCIATED_WITH"] >= 250_000
    assert {s["name"] for s in stats.sources} == {"hpo", "hpo_genes", "icd10cm", "drug_dictionary", "cdss_curated"}


def test_missing_sources_are_named_with_how_to_get_them(built):
    _, report, _ = built
    skipped = {line.split(":", 1)[0]: line for line in report["skipped"]}
    assert set(skipped) == {
        "disease_ontology",
        "symptom_ontology",
        "pharmacotherapydb",
        "drugcentral",
        "labeledin",
        "ddxplus",
        "namcs_nhamcs",
        "synthea",
    }
    assert all("run `cdss data fetch`" in line for line in skipped.values())


def test_known_concepts_and_edges(built):
    path, _, _ = built
    with open_store(str(path)) as store:
        fever = store.get_node("HP:0001945")
        assert fever.label == NodeLabel.FINDING and "Pyrexia" in fever.synonyms
        cf = store.neighbours("OMIM:219700", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
        assert len(cf) > 20 and all(e.provenance.source == "hpo" for e in cf)
        assert any(e.attributes.get("frequency_m") for e in cf)
        assert store.get_node("ICD10CM:J18.9").label == NodeLabel.DISEASE
        assert store.get_node("ICD10CM:R05").label == NodeLabel.FINDING
        assert [
            e.end for e in store.neighbours("ICD10CM:J18.9", edge_types=[EdgeType.IS_A], direction=Direction.OUT)
        ] == ["ICD10CM:J18"]
        assert store.get_node("DRUGBANK:DB01060").name == "Amoxicillin"
        assert [n.id for n in store.find_by_name("paracetamol", label=NodeLabel.DRUG)] == ["DRUGBANK:DB00316"]
        assert store.search("cystic fibrosis", limit=3)


def test_a_second_build_gives_the_same_graph(built):
    path, report, env = built
    again = build_graph(store_url=str(path), sources_dir=Path(env["CDSS_DATA_DIR"]) / "sources", show_progress=False)
    assert again.graph_version == report["graph_version"]
    assert (again.nodes, again.edges) == (report["nodes"], report["edges"])
    with open_store(str(path)) as store:
        assert (store.stats().node_count, store.stats().edge_count) == (report["nodes"], report["edges"])


def test_a_build_killed_halfway_leaves_the_previous_graph(built):
    path, report, env = built
    process = _cdss("kg", "build", env=env)
    deadline = time.monotonic() + 300
    stage = None
    while time.monotonic() < deadline and process.poll() is None:
        stages = list(path.parent.glob(f"{path.name}{STAGE_MARKER}*"))
        if stages and stages[0].stat().st_size > 5_000_000:
            stage = stages[0]
            break
        time.sleep(0.05)
    assert stage is not None, "the build finished or failed before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with open_store(str(path)) as store:
        assert store.graph_version == report["graph_version"]
        assert store.stats().edge_count == report["edges"]
        assert store.get_node("HP:0001945").name == "Fever"
    assert stage.exists()
    assert remove_stale_stages(path) == [stage]
