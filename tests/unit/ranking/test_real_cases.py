"""Scoring cases somebody else wrote: reading them, matching gold names, metrics, baselines and calibration."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cdss.errors import InputError
from cdss.settings import load_settings
from cdss.types import Concept, NodeLabel
from kg import open_store
from ranking import Engine, parse_case
from ranking.calibration import fit, posterior, reliability
from ranking.case import Case
from ranking.config import RankingConfig
from ranking.study.baselines import engine_ranker, prior_ranker, similarity_ranker
from ranking.study.real_cases import (
    EvalCase,
    GoldIndex,
    Ranked,
    calibration_of,
    evaluate_cases,
    read_phenopackets,
    read_vignettes,
    summarise,
)
from ranking.study.similarity import SimilarityModel, SimilaritySpec
from tests.ranking_graph import write_ranking_graph

DISEASES = [
    Concept("DOID:7148", NodeLabel.DISEASE, "rheumatoid arthritis", synonyms=("RA",)),
    Concept("DOID:0001", NodeLabel.DISEASE, "juvenile rheumatoid arthritis"),
    Concept("DOID:0002", NodeLabel.DISEASE, "Crohn's disease"),
    Concept("DOID:0003", NodeLabel.DISEASE, "arthritis"),
]
IS_A = [("DOID:0001", "DOID:7148"), ("DOID:7148", "DOID:0003")]
EVEN = RankingConfig(prior_weights=(("rare", 1.0), ("common", 1.0), ("ddxplus", 1.0)))


@pytest.fixture
def index() -> GoldIndex:
    return GoldIndex.build(DISEASES, IS_A)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    store = open_store(str(write_ranking_graph(tmp_path_factory.mktemp("cases") / "graph.sqlite")))
    yield Engine.load(store, load_settings(), config=EVEN)
    store.close()


def test_gold_names_match_names_synonyms_spellings_and_more_specific_diseases(index):
    assert index.matches("Rheumatoid arthritis") == {"DOID:7148", "DOID:0001"}
    assert index.matches("Arthritis, Rheumatoid") == {"DOID:7148", "DOID:0001"}
    assert index.matches("Crohn disease") == {"DOID:0002"}
    assert "DOID:0003" not in index.matches("RA"), "a more general disease is not the gold"
    assert index.matches("CT angiography") == set()


def test_summary_counts_misses_and_averages_per_diagnosis():
    summary = summarise([1, 3, None, 20], ["a", "a", "b", "c"])
    assert summary["top1"] == 0.25 and summary["top3"] == 0.5 and summary["top10"] == 0.5
    assert summary["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 20) / 4, abs=1e-4)
    assert summary["macro"]["top3"] == pytest.approx((1 + 0 + 0) / 3, abs=1e-4) and summary["diagnoses"] == 3


def test_reading_vignettes_and_phenopackets(tmp_path, index, engine):
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "t", "gold": ["Crohn disease"], "subset": "s"}) + "\n\n")
    [case] = read_vignettes(path, index)
    assert case.gold == frozenset({"DOID:0002"}) and case.case.text == "t" and case.subset == "s"
    path.write_text(json.dumps({"id": "a", "text": "t", "gold": ["x"]}) + "\n" + '{"id": "b", "text": ""}\n')
    with pytest.raises(InputError, match="line 2"):
        read_vignettes(path, index)
    packets = tmp_path / "p.jsonl"
    packet = {
        "case_id": "p1",
        "observed_hpo": ["HP:0007359", "HP:9999999"],
        "excluded_hpo": ["HP:0000365", "HP:0007359"],
        "diagnosis_ids": ["OMIM:100001", "OMIM:999999"],
    }
    packets.write_text(json.dumps(packet) + "\n")
    [case] = read_phenopackets(
        packets, engine.store, set(engine.knowledge.finding_ids), GoldIndex.from_store(engine.store)
    )
    assert [f.id for f in case.case.present] == ["HP:0007359"], "a term the graph lacks is left out"
    assert [f.id for f in case.case.absent] == ["HP:0000365"], "a term both observed and excluded counts as observed"
    assert case.gold == frozenset({"OMIM:100001"}) and case.key == "OMIM:100001|OMIM:999999"


def test_similarity_prefers_the_disease_sharing_the_most_informative_findings(engine):
    k = engine.knowledge
    model = SimilarityModel(k)
    focal = k.finding_index["HP:0007359"]
    mica = model.mica_ic(focal)
    assert mica[focal] == pytest.approx(k.ic[focal])
    assert mica[k.finding_index["HP:0001250"]] == pytest.approx(k.ic[k.finding_index["HP:0001250"]])
    for spec in (SimilaritySpec(), SimilaritySpec("lin", "funsimavg"), SimilaritySpec("resnik", "bma_patient")):
        scores = model.scores([focal, k.finding_index["HP:0000365"]], spec)
        assert k.disease_ids[int(np.argmax(scores))] == "OMIM:100001", spec.name


def test_every_method_ranks_the_same_cases_and_the_report_compares_them(engine):
    cases = [
        EvalCase("s", parse_case({"present": ["HP:0007359", "HP:0000365"]}), frozenset({"OMIM:100001"}), "A", "A"),
        EvalCase("x", Case(id="x"), frozenset(), "not in graph", "X"),
    ]
    rankers = {"cdss": engine_ranker(engine), "similarity": similarity_ranker(engine), "prior": prior_ranker(engine)}
    report, results = evaluate_cases(cases, rankers, known_diseases=set(engine.knowledge.disease_ids))
    assert results[0].rank("cdss") == 1 and results[0].rank("similarity") == 1
    assert results[1].ranked["cdss"].error and "nothing to rank on" in results[1].ranked["cdss"].error
    assert report["gold_absent_from_graph"] == 0.5
    assert report["methods"]["cdss"]["all"]["top1"] == 0.5
    assert report["methods"]["cdss"]["groups"]["gold in the graph"]["top1"] == 1.0
    assert report["methods"]["prior"]["all"]["cases"] == 2
    miss = results[1].to_dict("cdss")
    assert miss["gold_rank"] is None and miss["error"]


def test_calibration_measures_and_fits():
    curve = reliability([0.95, 0.9, 0.15, 0.1], [True, True, False, False])
    assert curve.ece == pytest.approx((2 * 0.075 + 2 * 0.125) / 4)
    assert reliability([0.9] * 10, [True] * 5 + [False] * 5).ece == pytest.approx(0.4)
    # Scores that are right half the time when they say 0.95 fit a higher temperature than 1.
    rng = np.random.default_rng(0)
    totals, golds = [], []
    for i in range(200):
        total = rng.normal(0, 1, 50)
        total[0] += 3.0
        totals.append(total)
        golds.append(np.array([]) if i % 5 == 0 else np.array([0 if i % 2 else 1 + i % 40]))
    temperature, unknown = fit(totals, golds)
    assert temperature > 1.0 and math.isfinite(unknown)
    probs = posterior(totals[0], temperature, unknown)
    assert 0 < probs.sum() < 1


def test_calibration_of_reads_the_top_probability():
    from ranking.study.real_cases import CaseResult

    case = EvalCase("a", Case(id="a"), frozenset({"D:1"}), "d", "d")
    results = [CaseResult(case, {"m": Ranked((("D:1", 1, 0.8), ("D:2", 2, 0.1)))})]
    curve = calibration_of(results, "m")
    assert curve.counts.sum() == 1 and curve.ece == pytest.approx(0.2)


def test_tuning_checks_its_grid_and_cross_validates_by_diagnosis(engine):
    from ranking.study.tuning import fold_of, grid_points, tune

    with pytest.raises(InputError, match="unknown ranking parameter"):
        grid_points({"absent_wieght": [0.0]})
    with pytest.raises(InputError, match="non-empty list"):
        grid_points({"absent_weight": 1.0})
    assert len(grid_points({"absent_weight": [0, 1], "unexplained": [0.3]})) == 2
    assert fold_of("OMIM:100001") == fold_of("OMIM:100001") and 0 <= fold_of("x", 3) < 3
    cases = [
        EvalCase(f"c{i}", parse_case({"present": present, "absent": absent}), frozenset({gold}), gold, gold)
        for i, (present, absent, gold) in enumerate(
            [
                (["HP:0007359", "HP:0000365"], [], "OMIM:100001"),
                (["HP:0001250"], ["HP:0000365"], "OMIM:100002"),
                (["HP:0032177", "HP:0012735"], [], "ORPHA:300"),
                (["HP:0000988", "DDXPLUS:E_130"], [], "OMIM:100003"),
                (["HP:0001945", "HP:0012735", "HP:0002094"], [], "DOID:552"),
            ]
        )
    ]
    observations = [engine.observe(c.case).observations for c in cases]
    report = tune(engine.knowledge, engine.config, cases, observations, {"absent_weight": [0.0, 1.0]}, folds=2)
    assert [row["parameters"] for row in report["grid"]] == [{"absent_weight": 0.0}, {"absent_weight": 1.0}]
    assert report["grid"][1]["top1"] >= report["grid"][0]["top1"], "the excluded hearing impairment helps case 2"
    assert report["cross_validated"]["cases"] == 5 and len(report["picked_per_fold"]) == 2
    with pytest.raises(InputError, match="all in one fold"):
        tune(engine.knowledge, engine.config, cases[:1], observations[:1], {"absent_weight": [1.0]}, folds=2)
    assert report["calibration"]["fitted_on_all"]["temperature"] > 0


def test_cli_eval_cases_writes_report_misses_and_plots(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cli import cli

    graph = write_ranking_graph(tmp_path / "graph.sqlite")
    monkeypatch.setenv("CDSS_STORE", str(graph))
    monkeypatch.setenv("CDSS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CDSS_PRIOR_COMMON", "1")
    monkeypatch.setenv("CDSS_PRIOR_DDXPLUS", "1")
    packets = tmp_path / "p.jsonl"
    lines = [
        {"case_id": "hit", "observed_hpo": ["HP:0007359", "HP:0000365"], "diagnosis_ids": ["OMIM:100001"]},
        {"case_id": "unknown", "observed_hpo": ["HP:0007359"], "diagnosis_ids": ["OMIM:999999"]},
    ]
    packets.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    args = ["eval", "cases", "--format", "phenopacket", "--file", str(packets), "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "--methods", "cdss,phenomizer,prior", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    report = json.loads(result.output)
    assert set(report["methods"]) == {"cdss", "phenomizer", "prior"} and "synonyms" in report["gold_matching"]
    assert report["gold_absent_from_graph"] == 0.5 and report["methods"]["cdss"]["all"]["top1"] == 0.5
    misses = [json.loads(line) for line in (out / "cases_misses.jsonl").read_text().splitlines()]
    assert [m["id"] for m in misses] == ["unknown"] and misses[0]["gold_rank"] is None
    assert (out / "cases_ranks.png").stat().st_size > 0 and (out / "cases_reliability.png").stat().st_size > 0
    bad = CliRunner().invoke(cli, [*args, "--methods", "cdss,oracle"])
    assert bad.exit_code != 0 and "oracle" in bad.output and "Traceback" not in bad.output
    unparsed = CliRunner().invoke(cli, [*args, "--methods", "cdss+predicted", "--predicted-links", "10,5,high"])
    assert unparsed.exit_code != 0 and "'10,5,high'" in unparsed.output
    monkeypatch.setenv("CDSS_GNN_MODEL", str(tmp_path / "none.pt"))
    untrained = CliRunner().invoke(cli, [*args, "--methods", "cdss+predicted"])
    assert untrained.exit_code != 0 and "cdss gnn train" in untrained.output
