"""Genotype in a case: reported genes parsed, resolved against the graph's genes and counted as LIRICAL does."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from cdss.errors import InputError, NothingToRankError
from cdss.settings import load_settings
from cli import cli
from kg import open_store
from ranking import Engine, parse_case
from ranking.case import ACMG_CLASSES, MAX_GENES, ReportedGene
from ranking.config import RankingConfig
from ranking.genotype import genotype_log_lr, likelihood_ratio, resolve_genes
from tests.ranking_graph import MARFAN_FEATURES, write_ranking_graph

MARFAN, HOMOCYSTINURIA, LDS2, LDS_GROUP = "OMIM:154700", "OMIM:236200", "OMIM:610168", "ORPHA:60030"


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return write_ranking_graph(tmp_path_factory.mktemp("genotype") / "graph.sqlite")


@pytest.fixture(scope="module")
def engine(graph):
    """The shipped parameters: the genotype must lift Marfan syndrome against the real priors too."""
    store = open_store(str(graph))
    yield Engine.load(store, load_settings())
    store.close()


def ranked(engine, **case) -> list[str]:
    return [d.id for d in engine.rank(parse_case(case), top_k=5).diagnoses]


def test_genes_are_parsed_as_symbols_curies_or_objects_with_their_acmg_class():
    case = parse_case(
        {"genes": ["FBN1", " NCBIGene:2200 ", {"gene": "CBS", "acmg": "uncertain_significance"}, {"gene": "TGFBR2"}]}
    )
    assert case.genes == (
        ReportedGene("FBN1", "likely_pathogenic"),
        ReportedGene("NCBIGene:2200", "likely_pathogenic"),
        ReportedGene("CBS", "uncertain_significance"),
        ReportedGene("TGFBR2", "likely_pathogenic"),
    )
    assert parse_case({"present": ["HP:0001166"]}).genes == ()


@pytest.mark.parametrize(
    ("genes", "message"),
    [
        ("FBN1", "'genes' must be a list, got str"),
        ([7], "genes[0] must be an HGNC symbol or a gene CURIE such as FBN1 or NCBIGene:2200, got 7"),
        (["FBN1", "TGF BR2"], "genes[1] must be an HGNC symbol or a gene CURIE"),
        ([""], "genes[0] must be an HGNC symbol"),
        ([{"gene": "FBN1", "zygosity": "het"}], "genes[0] has unknown fields ['zygosity']; expected gene and acmg"),
        ([{"acmg": "pathogenic"}], "genes[0].gene must be an HGNC symbol or a gene CURIE"),
        ([{"gene": "FBN1", "acmg": "Pathogenic!"}], "genes[0].acmg must be one of ['pathogenic', "),
        ([{"gene": "FBN1", "acmg": None}], "got None"),
        (["FBN1"] * (MAX_GENES + 1), f"'genes' has {MAX_GENES + 1} items; at most {MAX_GENES} are accepted"),
    ],
)
def test_bad_genes_are_refused_naming_the_field_and_the_value(genes, message):
    with pytest.raises(InputError) as info:
        parse_case({"present": ["HP:0001166"], "genes": genes})
    assert message in str(info.value)


def test_every_acmg_class_has_a_probability_that_falls_with_the_class():
    config = RankingConfig()
    assert tuple(name for name, _ in config.acmg_probabilities) == ACMG_CLASSES
    probabilities = [config.pathogenic_probability(c) for c in ACMG_CLASSES]
    assert probabilities == sorted(probabilities, reverse=True) and probabilities[0] == 0.99


def test_the_genotype_likelihood_ratio_is_yield_over_background_mixed_with_one_by_pathogenicity():
    # A single-gene disease, a certainly pathogenic variant: (s + (1 - s) b) / b with s 0.9 and b 0.01.
    assert likelihood_ratio(1.0, 0.9, 0.01) == pytest.approx((0.9 + 0.1 * 0.01) / 0.01)
    # A variant known to be benign says nothing; a pathogenic one counts in proportion to its probability.
    assert likelihood_ratio(0.0, 0.9, 0.01) == 1.0
    assert likelihood_ratio(0.99, 0.9, 0.01) == pytest.approx(0.99 * 90.1 + 0.01)
    assert likelihood_ratio(0.10, 0.9, 0.01) == pytest.approx(0.10 * 90.1 + 0.90)
    # A disease tied to two genes shares the yield: the ratio of each gene is about half.
    assert likelihood_ratio(0.99, 0.45, 0.01) == pytest.approx(1 + 0.99 * 0.45 * 99)
    ratios = np.asarray(likelihood_ratio(np.array([0.99, 0.5, 0.001]), 0.9, 0.01))
    assert ratios.shape == (3,) and np.all(ratios >= 1)


def test_each_disease_takes_its_best_reported_gene_and_the_others_keep_one(engine):
    k, config = engine.knowledge, engine.config
    genes, unknown = resolve_genes(
        engine.store, [ReportedGene("TGFBR1", "uncertain_significance"), ReportedGene("TGFBR2", "pathogenic")]
    )
    assert unknown == []
    log_lr, best = genotype_log_lr(k, config, genes)
    index = k.disease_index
    assert log_lr[index[LDS2]] == pytest.approx(math.log(1 + 0.99 * 0.9 * 0.99 / 0.01))
    assert best[index[LDS2]] == 1
    assert log_lr[index[LDS_GROUP]] == pytest.approx(math.log(1 + 0.99 * 0.45 * 0.99 / 0.01)), "two genes share"
    assert best[index[LDS_GROUP]] == 1, "the pathogenic TGFBR2 variant beats the TGFBR1 VUS"
    assert log_lr[index["OMIM:609192"]] == pytest.approx(math.log(1 + 0.10 * 0.9 * 0.99 / 0.01))
    assert log_lr[index[MARFAN]] == 0 and best[index[MARFAN]] == -1
    assert np.count_nonzero(log_lr) == 3


def test_genes_resolve_by_symbol_in_any_case_or_by_curie_and_unknown_ones_are_kept(engine):
    given = ["fbn1", "NCBIGene:2200", "HGNC.SYMBOL:FBN1", "ncbigene:875", "ACE", "NOTAGENE1", "NCBIGene:999999"]
    genes, unknown = resolve_genes(engine.store, [ReportedGene(g) for g in given])
    assert [(g.given, g.id, g.symbol) for g in genes] == [
        ("fbn1", "NCBIGene:2200", "FBN1"),
        ("NCBIGene:2200", "NCBIGene:2200", "FBN1"),
        ("HGNC.SYMBOL:FBN1", "NCBIGene:2200", "FBN1"),
        ("ncbigene:875", "NCBIGene:875", "CBS"),
        ("ACE", "HGNC.SYMBOL:ACE", "ACE"),
    ]
    assert unknown == ["NOTAGENE1", "NCBIGene:999999"]
    with pytest.raises(InputError, match=r"genes\[0\]: 'HP:0001083' is a Finding, not a gene"):
        resolve_genes(engine.store, [ReportedGene("HP:0001083")])


def test_marfan_features_with_fbn1_put_marfan_syndrome_first_and_without_it_do_not(engine):
    without = ranked(engine, present=MARFAN_FEATURES)
    assert without[0] == HOMOCYSTINURIA and MARFAN in without[1:]
    assert ranked(engine, present=MARFAN_FEATURES, genes=["FBN1"])[0] == MARFAN
    assert ranked(engine, present=MARFAN_FEATURES, genes=[{"gene": "CBS", "acmg": "pathogenic"}])[0] == HOMOCYSTINURIA
    assert ranked(engine, present=MARFAN_FEATURES, genes=[{"gene": "FBN1", "acmg": "benign"}])[0] == HOMOCYSTINURIA


def test_a_diagnosis_says_which_gene_lifted_it_with_the_class_and_the_edge(engine):
    case = parse_case({"present": MARFAN_FEATURES, "genes": [{"gene": "FBN1", "acmg": "pathogenic"}, "NOTAGENE1"]})
    answer = engine.rank(case, top_k=3).to_dict()
    marfan = answer["diagnoses"][0]
    assert marfan["id"] == MARFAN
    genotype = marfan["genotype"]
    assert {k: genotype[k] for k in ("gene", "symbol", "acmg", "pathogenic_probability", "disease_genes")} == {
        "gene": "NCBIGene:2200",
        "symbol": "FBN1",
        "acmg": "pathogenic",
        "pathogenic_probability": 0.99,
        "disease_genes": 1,
    }
    assert genotype["log_lr"] == pytest.approx(math.log(1 + 0.99 * 0.9 * 0.99 / 0.01), abs=1e-4)
    [edge] = genotype["evidence"]
    assert (edge["type"], edge["start"], edge["end"]) == ("ASSOCIATED_WITH", MARFAN, "NCBIGene:2200")
    assert (edge["source"], edge["version"], edge["license"]) == ("hpo_genes", "2099-01-01", "HPO licence")
    assert all("genotype" not in d for d in answer["diagnoses"][1:])
    assert answer["genes"] == [{"input": "FBN1", "id": "NCBIGene:2200", "symbol": "FBN1", "acmg": "pathogenic"}]
    assert answer["unknown_genes"] == ["NOTAGENE1"]
    assert "genes not in the graph, not used: NOTAGENE1" in answer["notes"]


def test_genes_alone_rank_the_diseases_tied_to_them_and_genes_that_cannot_count_are_said_so(engine):
    alone = engine.rank(parse_case({"genes": ["TGFBR2"]}), top_k=5)
    assert [d.id for d in alone.diagnoses] == [LDS2, LDS_GROUP], "a disease tied to two genes shares the yield"
    assert alone.notes == ["no findings: ranked on the genotype alone, over the diseases tied to the reported genes"]
    with pytest.raises(NothingToRankError) as unknown:
        engine.rank(parse_case({"genes": ["NOTAGENE1"]}))
    assert "no gene tied to a disease in the graph" in str(unknown.value)
    assert "genes not in the graph: NOTAGENE1" in str(unknown.value)
    with pytest.raises(NothingToRankError, match="genes tied to no disease the ranking knows: ACE"):
        engine.rank(parse_case({"genes": ["ACE"]}))
    notes = engine.rank(parse_case({"present": MARFAN_FEATURES, "genes": ["ACE"]})).notes
    assert notes == ["genes tied to no disease the ranking knows, so they change no score: ACE"]


def test_the_rank_cli_reads_genes(graph, tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(graph))
    cases = tmp_path / "cases.jsonl"
    lines = [
        {"id": "with", "present": MARFAN_FEATURES, "genes": ["FBN1"]},
        {"id": "bad", "present": MARFAN_FEATURES, "genes": [{"gene": "FBN1", "acmg": "VUS"}]},
    ]
    cases.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["rank", "--cases", str(cases), "--top", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ranked_with, refused = [json.loads(line) for line in out.read_text().splitlines()]
    assert ranked_with["diagnoses"][0]["id"] == MARFAN and ranked_with["genes"][0]["id"] == "NCBIGene:2200"
    assert "line 2: genes[0].acmg must be one of" in refused["error"]["message"]
