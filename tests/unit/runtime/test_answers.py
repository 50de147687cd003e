"""What the service answers, called directly with the loaded engine: the functions every front end shares."""

from __future__ import annotations

import pytest

from cdss.errors import InputError, NotFoundError, NotReadyError
from cdss.settings import load_settings
from cdss.types import NodeLabel
from nlp.records import RecordInput
from ranking.case import Case, stated
from runtime import answers, load_engine, open_graph
from tests.ranking_graph import write_ranking_graph


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answers")
    graph = write_ranking_graph(folder / "graph.sqlite")
    settings = load_settings({"CDSS_DATA_DIR": str(folder / "data"), "CDSS_STORE": str(graph)})
    with open_graph(settings) as store:
        yield load_engine(store, settings, with_links=False)


def test_a_recommendation_has_no_case_id_and_text_needs_the_pipeline(engine):
    answer = answers.recommend(engine, Case(present=(stated("HP:0001945", 1.0, "f"),)), top_k=3)
    assert "id" not in answer and answer["diagnoses"][0]["id"] == "DOID:552"
    with pytest.raises(NotReadyError, match="without the NLP pipeline"):
        answers.recommend(engine, Case(text="fever"), top_k=3)
    with pytest.raises(NotReadyError, match="cannot ingest text"):
        answers.ingest(engine, [RecordInput("r1", "fever")], settings=load_settings({}))


def test_search_finds_by_code_through_cross_references_and_by_name(engine):
    by_code = answers.search(engine.store, NodeLabel.DISEASE, " UMLS:C0032285 ", limit=5)
    assert by_code["query"] == "UMLS:C0032285" and by_code["results"][0]["id"] == "DOID:552"
    assert "attributes" not in by_code["results"][0]
    by_name = answers.search(engine.store, NodeLabel.DRUG, "amoxi", limit=5)
    assert [r["id"] for r in by_name["results"]] == ["DRUGBANK:DB01060"]
    with pytest.raises(InputError, match="more than spaces"):
        answers.search(engine.store, NodeLabel.DRUG, "   ", limit=5)


def test_a_disease_page_lists_edges_with_their_provenance_and_refuses_a_non_disease(engine):
    page = answers.disease_page(engine.store, "DOID:900")
    assert page["disease"]["id"] == "DOID:900" and page["graph_version"] == engine.store.graph_version
    assert [p["id"] for p in page["parents"]] == ["DOID:552"]
    assert all({"source", "source_version", "license"} <= set(f) for f in page["findings"])
    with pytest.raises(NotFoundError, match="'HP:0001945' is not a disease"):
        answers.disease_page(engine.store, "HP:0001945")


def test_the_models_answer_names_each_loaded_part(engine):
    models = answers.loaded_models(engine)
    assert models["versions"] == engine.versions and models["link_model"] is None and models["nlp_pipeline"] is None
