"""The wiring layer: stores opened with the settings' login, and the engine assembled with its reader."""

from __future__ import annotations

import pytest

from cdss.errors import ConfigError
from cdss.settings import load_settings
from kg import open_store
from kg.store_urls import Neo4jLogin
from runtime import PipelineReader, load_engine, neo4j_login, open_graph
from tests.ranking_graph import write_ranking_graph


def test_a_neo4j_url_needs_a_login_and_runtime_reads_it_from_the_settings(tmp_path):
    with pytest.raises(ConfigError, match="needs a Neo4j login"):
        open_store("neo4j://localhost:7687")
    assert neo4j_login(load_settings({"CDSS_DATA_DIR": str(tmp_path)})) is None
    env = {"CDSS_DATA_DIR": str(tmp_path), "NEO4J_USER": "neo4j", "NEO4J_PASSWORD": "secret", "NEO4J_DATABASE": "g"}
    assert neo4j_login(load_settings(env)) == Neo4jLogin("neo4j", "secret", "g")


def test_the_engine_reads_text_through_the_reader_runtime_gives_it(tmp_path):
    graph = write_ranking_graph(tmp_path / "graph.sqlite")
    settings = load_settings({"CDSS_DATA_DIR": str(tmp_path / "data"), "CDSS_STORE": str(graph)})
    with open_graph(settings) as store:
        bare = load_engine(store, settings, with_links=False)
        assert bare.reader is None and bare.versions["nlp"] is None
        with pytest.raises(ConfigError, match="NLP pipeline is not loaded"):
            next(bare.mentions(["fever"]))
        engine = load_engine(store, settings, with_nlp=True, with_links=False)
        assert isinstance(engine.reader, PipelineReader) and engine.versions["nlp"] == engine.reader.version
        [mentions] = list(engine.mentions(["No fever."]))
        assert [(m.concept_id, m.assertion.value) for m in mentions] == [("HP:0001945", "negated")]
