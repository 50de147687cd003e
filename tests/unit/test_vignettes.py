"""Scoring published vignettes: gold names matched to graph diseases, ranks and the report."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from cdss.errors import InputError
from cdss.types import Concept, NodeLabel
from ranking.vignettes import GoldIndex, Vignette, evaluate_vignettes, gold_rank, read_vignettes, summarise

DISEASES = [
    Concept("DOID:7148", NodeLabel.DISEASE, "rheumatoid arthritis", synonyms=("RA",)),
    Concept("DOID:0001", NodeLabel.DISEASE, "juvenile rheumatoid arthritis"),
    Concept("DOID:0002", NodeLabel.DISEASE, "Crohn's disease"),
    Concept("DOID:0003", NodeLabel.DISEASE, "arthritis"),
]
IS_A = [("DOID:0001", "DOID:7148"), ("DOID:7148", "DOID:0003")]


@pytest.fixture
def index() -> GoldIndex:
    return GoldIndex.build(DISEASES, IS_A)


def test_gold_names_match_names_synonyms_spellings_and_more_specific_diseases(index):
    assert index.matches("Rheumatoid arthritis") == {"DOID:7148", "DOID:0001"}
    assert index.matches("Arthritis, Rheumatoid") == {"DOID:7148", "DOID:0001"}
    assert index.matches("Crohn disease") == {"DOID:0002"}
    assert "DOID:0003" not in index.matches("RA"), "a more general disease is not the gold"
    assert index.matches("CT angiography") == set()


def test_the_rank_is_the_best_rank_of_any_gold_disease():
    assert gold_rank([("DOID:9", 1), ("DOID:0001", 2), ("DOID:7148", 5)], {"DOID:7148", "DOID:0001"}) == 2
    assert gold_rank([("DOID:9", 1)], {"DOID:7148"}) is None


def test_summary_counts_misses_against_every_vignette():
    summary = summarise([1, 3, None, 20])
    assert summary["top1"] == 0.25 and summary["top3"] == 0.5 and summary["top10"] == 0.5
    assert summary["mrr"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 20) / 4, abs=1e-4)


@dataclass
class _Diagnosis:
    id: str
    name: str
    rank: int


@dataclass
class _Result:
    diagnoses: list


def test_evaluation_reports_all_matched_and_refused_cases(index):
    vignettes = [
        Vignette("v1", "joint pain", "Rheumatoid arthritis", "MedQA_USMLE"),
        Vignette("v2", "diarrhoea", "Crohn's disease", "MedQA_USMLE"),
        Vignette("v3", "nothing", "CT angiography", "MedQA_USMLE"),
    ]

    def rank_batch(cases):
        for case in cases:
            if case.id == "v3":
                yield InputError("nothing to rank on")
            else:
                yield _Result([_Diagnosis("DOID:0003", "arthritis", 1), _Diagnosis("DOID:0001", "JRA", 2)])

    report, results = evaluate_vignettes(
        vignettes, rank_batch, index, batch_size=2, groups={"crohn": lambda gold: "DOID:0002" in gold}
    )
    assert [r.rank for r in results] == [2, None, None]
    assert report["all"]["cases"] == 3 and report["all"]["top3"] == pytest.approx(1 / 3, abs=1e-4)
    assert report["groups"]["gold names a graph disease"]["cases"] == 2 and report["gold_not_in_graph"] == 1
    assert report["refused"] == 1 and "more specific" in report["matching"]
    assert results[2].to_dict()["error"] == "nothing to rank on"
    assert report["groups"]["crohn"]["cases"] == 1 and report["groups"]["crohn"]["top10"] == 0.0


def test_reading_vignettes_names_the_bad_line(tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "t", "gold": ["Gout"]}) + "\n\n" + '{"id": "b", "text": ""}\n')
    with pytest.raises(InputError, match="line 3"):
        read_vignettes(path)
    path.write_text(json.dumps({"id": "a", "text": "t", "gold": ["Gout"], "subset": "s"}) + "\n")
    assert read_vignettes(path) == [Vignette("a", "t", "Gout", "s", "")]
