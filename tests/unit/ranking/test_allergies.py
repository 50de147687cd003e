"""Recorded allergies hold treatments back: the drug itself, its class, or a class the allergy names."""

from __future__ import annotations

import pytest

from cdss.errors import InputError
from cdss.settings import load_settings
from cdss.types import Concept, NodeLabel
from kg import open_store
from ranking import Engine
from ranking.allergies import CLASS_ATTRIBUTE, Allergy, allergy_conflict
from ranking.case import parse_case
from tests.ranking_graph import write_ranking_graph

PENICILLINS = {CLASS_ATTRIBUTE: ["Penicillin-class Antibacterial"]}


def _drug(drug_id: str, name: str, attributes: dict | None = None) -> Concept:
    return Concept(drug_id, NodeLabel.DRUG, name, attributes=attributes or {})


def test_a_drug_is_held_back_by_itself_its_class_or_a_class_the_allergy_names():
    amoxicillin = _drug("DB:1", "Amoxicillin", PENICILLINS)
    azithromycin = _drug("DB:2", "Azithromycin", {CLASS_ATTRIBUTE: ["Macrolide Antimicrobial"]})
    by_drug = [Allergy("amoxicillin", ("DB:1",), ("Penicillin-class Antibacterial",))]
    assert allergy_conflict(amoxicillin, by_drug) == "recorded allergy or intolerance to amoxicillin"
    by_class = [Allergy("Penicillin G", ("DB:9",), ("Penicillin-class Antibacterial",))]
    assert "same class (Penicillin-class Antibacterial)" in allergy_conflict(amoxicillin, by_class)
    assert allergy_conflict(amoxicillin, [Allergy("penicillin")]) is not None
    assert allergy_conflict(amoxicillin, [Allergy("Penicillins")]) is not None
    assert allergy_conflict(amoxicillin, [Allergy("cephalosporins")]) is None
    assert allergy_conflict(azithromycin, by_drug + by_class + [Allergy("penicillin")]) is None


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    store = open_store(str(write_ranking_graph(tmp_path_factory.mktemp("allergy") / "graph.sqlite")))
    yield Engine.load(store, load_settings())
    store.close()


def test_an_allergy_moves_the_treatment_to_left_out_with_the_reason(engine):
    case = {"present": ["HP:0001945", "HP:0012735", "HP:0002094"]}
    offered = {t.drug for t in engine.rank(parse_case(case), top_k=3).treatments}
    assert "DRUGBANK:DB01060" in offered
    result = engine.rank(parse_case({**case, "allergies": ["Amoxicillin"]}), top_k=3)
    assert "DRUGBANK:DB01060" not in {t.drug for t in result.treatments}
    held = [t for t in result.treatments_left_out if t.drug == "DRUGBANK:DB01060"]
    assert held and held[0].reason == "recorded allergy or intolerance to Amoxicillin"
    shown = {"input": "Amoxicillin", "drugs": ["DRUGBANK:DB01060"], "classes": ["Penicillin-class Antibacterial"]}
    assert result.to_dict()["allergies"] == [shown]


def test_allergies_must_be_names_or_curies():
    with pytest.raises(InputError, match=r"allergies\[1\] must be a drug name or CURIE"):
        parse_case({"allergies": ["penicillin", 3]})
