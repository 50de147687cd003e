"""The `cdss` command line, through click's runner, on the tiny graph."""

import json

import pytest
from click.testing import CliRunner

from cli import cli


@pytest.fixture
def run(tiny_graph, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(tiny_graph))
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args))


def test_stats_json(run):
    result = run("kg", "stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["nodes_by_label"] == {"Disease": 18, "Drug": 4, "Finding": 11, "Gene": 5, "PharmacologicClass": 2}
    assert stats["edges_by_source"]["hpo"]["HAS_FINDING"] == 6
    assert stats["edges_by_source"]["hpo_genes"] == {"ASSOCIATED_WITH": 7}
    assert stats["edges_by_source"]["drugcentral"]["TARGETS"] == 3
    assert len(stats["graph_version"]) == 16


def test_stats_text(run):
    result = run("kg", "stats")
    assert result.exit_code == 0
    assert "HAS_FINDING" in result.output and "graph version" in result.output


def test_show_gives_edges_with_provenance(run):
    result = run("kg", "show", "OMIM:100100", "--json")
    assert result.exit_code == 0, result.output
    [match] = json.loads(result.output)["matches"]
    assert match["node"]["id"] == "DOID:1485"
    assert match["matched_xref"] == "OMIM:100100"
    edges = {(e["type"], e["end"]): e for e in match["outgoing"]}
    seizure = edges[("HAS_FINDING", "HP:0001250")]
    assert seizure["other_name"] == "Seizure"
    assert seizure["provenance"]["source"] == "hpo"
    assert seizure["provenance"]["version"] == "2099-01-01"
    assert "HPO license" in seizure["provenance"]["license"]
    assert ("EXCLUDES_FINDING", "HP:0001945") in edges
    text = run("kg", "show", "OMIM:100100")
    # OMIM:100100 (3/4, 1/4) and ORPHA:558 (1/4) describe one disease: their counts are pooled.
    assert "HAS_FINDING -> (outgoing, 3)" in text.output and "freq 0.42 (5/12)" in text.output
    assert "merge_reasons: DOID:1485 = OMIM:100100 by cross-reference OMIM:100100" in text.output


def test_show_resolves_a_cross_reference(run):
    result = run("kg", "show", "UMLS:C0036572", "--json")
    [match] = json.loads(result.output)["matches"]
    assert match["node"]["id"] == "HP:0001250"
    assert match["matched_xref"] == "UMLS:C0036572"


def test_show_unknown_curie_fails_clearly(run):
    result = run("kg", "show", "HP:9999999")
    assert result.exit_code == 3
    assert "unknown concept 'HP:9999999'" in result.output
    bad = run("kg", "show", "fever")
    assert bad.exit_code == 2
    assert "invalid CURIE 'fever'" in bad.output


def test_missing_graph_says_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(tmp_path / "nothing.sqlite"))
    result = CliRunner().invoke(cli, ["kg", "stats"])
    assert result.exit_code == 1
    assert "run `cdss kg build` first" in result.output


def test_bad_setting_is_reported(monkeypatch):
    monkeypatch.setenv("CDSS_BATCH_SIZE", "many")
    result = CliRunner().invoke(cli, ["kg", "stats"])
    assert result.exit_code == 2
    assert "CDSS_BATCH_SIZE='many' is not an integer" in result.output


def test_export_prints_the_import_command(run, tmp_path):
    result = run("kg", "export", "--format", "neo4j-admin", "--out", str(tmp_path / "csv"))
    assert result.exit_code == 0, result.output
    assert "neo4j-admin database import full" in result.output
