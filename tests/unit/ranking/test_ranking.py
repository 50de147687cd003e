"""The ranking engine on a tiny hand-built graph where the right order is known by construction."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from cdss.errors import InputError
from cdss.settings import load_settings
from cli import cli
from kg import open_store
from ranking import NOTICE, Engine, parse_case
from ranking.closure import ancestor_closure
from ranking.config import RankingConfig
from ranking.knowledge import IDENTITY
from ranking.likelihood import EXACT, EXCLUDED, MORE_GENERAL, MORE_SPECIFIC, UNEXPLAINED
from ranking.observations import Observation
from tests.ranking_graph import write_ranking_graph


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    return write_ranking_graph(tmp_path_factory.mktemp("ranking") / "graph.sqlite")


EVEN_PRIORS = RankingConfig(
    prior_weights=(("rare", 1.0), ("common", 1.0), ("ddxplus", 1.0)),
    unexplained_exponent=0.0,
    absent_budget=None,
    posterior_temperature=1.0,
    unknown_log_score=None,
)
"""Even priors and the plain likelihood model (a constant unexplained ratio, every negative in full, raw
posteriors), so that the order follows the findings alone; the refinements have tests of their own."""


@pytest.fixture
def engine(graph):
    """Even priors, so that the order follows the findings alone."""
    store = open_store(str(graph))
    yield Engine.load(store, load_settings(), config=EVEN_PRIORS)
    store.close()


@pytest.fixture
def default_engine(graph):
    store = open_store(str(graph))
    yield Engine.load(store, load_settings())
    store.close()


def order(engine, **case) -> list[str]:
    return [d.id for d in engine.rank(parse_case(case), top_k=10).diagnoses]


def test_ancestor_closure_keeps_shortest_distances_and_survives_a_cycle():
    # 0 <- 1 <- 2, and 2 <- 0 closes a cycle that must not loop forever.
    closure = ancestor_closure([[], [0], [1, 0]])
    assert dict(zip(closure[2].indices.tolist(), (closure[2].data - 1).tolist(), strict=True)) == {0: 1, 1: 1, 2: 0}
    cyclic = ancestor_closure([[2], [0], [1]])
    assert cyclic.shape == (3, 3) and all(cyclic[i, i] == 1 for i in range(3))


def test_exact_findings_put_their_disease_first(engine):
    assert order(engine, present=["HP:0007359", "HP:0000365"])[0] == "OMIM:100001"


def test_a_general_finding_prefers_the_disease_annotated_with_it(engine):
    ranked = order(engine, present=["HP:0001250"])
    assert ranked.index("OMIM:100002") < ranked.index("OMIM:100001")


def test_a_curated_exclusion_overrides_a_matching_finding(engine):
    ranked = order(engine, present=["HP:0001250", "HP:0000365"])
    assert ranked[0] == "OMIM:100001"
    result = engine.rank(parse_case({"present": ["HP:0001250", "HP:0000365"]}), top_k=20)
    b = next(d for d in result.diagnoses if d.id == "OMIM:100002")
    hearing = next(c for c in b.contributions if c.finding == "HP:0000365")
    assert hearing.match == EXCLUDED and hearing.log_lr == pytest.approx(np.log(RankingConfig().excluded))
    assert hearing.evidence[0].type == "EXCLUDES_FINDING"


def test_an_absent_finding_counts_against_the_diseases_that_have_it(engine):
    with_absent = engine.rank(parse_case({"present": ["HP:0001250"], "absent": ["HP:0007359"]}), top_k=20)
    without = engine.rank(parse_case({"present": ["HP:0001250"]}), top_k=20)

    def score(result, disease):
        return next(d.log_score for d in result.diagnoses if d.id == disease)

    assert score(with_absent, "OMIM:100001") < score(without, "OMIM:100001") - 1
    assert score(with_absent, "OMIM:100002") >= score(without, "OMIM:100002")


def test_match_kinds_and_ontology_discount(engine):
    model = engine.model
    k = engine.knowledge
    seizure, focal = k.finding_index["HP:0001250"], k.finding_index["HP:0007359"]
    a, b = k.disease_index["OMIM:100001"], k.disease_index["OMIM:100002"]
    assert model.explain(focal, a, present=True, log_lr=0).kind == EXACT
    assert model.explain(focal, b, present=True, log_lr=0).kind == MORE_SPECIFIC
    assert model.explain(seizure, a, present=True, log_lr=0).kind == MORE_GENERAL
    assert model.explain(k.finding_index["HP:0012735"], a, present=True, log_lr=0).kind == UNEXPLAINED
    exact = model.present(seizure)[b]
    # Patient more specific than the annotation: the annotation's own ratio, one IS_A step discounted.
    assert model.present(focal)[b] == pytest.approx(exact + np.log(RankingConfig().distance_discount))
    unrelated = model.present(k.finding_index["HP:0012735"])[a]
    assert unrelated == pytest.approx(np.log(RankingConfig().unexplained))


def test_a_sparsely_annotated_disease_pays_less_for_an_unexplained_finding(engine):
    k = engine.knowledge
    scaled = engine.with_config(replace(engine.config, unexplained_exponent=1.0, unexplained_reference=3.0))
    cough = k.finding_index["HP:0012735"]
    seizure_a, rash = k.disease_index["OMIM:100001"], k.disease_index["OMIM:100003"]
    # Seizure syndrome A has 2 annotations, the rash syndrome 3: 0.3 x 3/2 against 0.3 x 3/3.
    assert scaled.model.present(cough)[seizure_a] == pytest.approx(np.log(0.3 * 3 / 2))
    assert scaled.model.present(cough)[rash] == pytest.approx(np.log(0.3))
    assert scaled.model.explain(cough, seizure_a, present=True, log_lr=0).kind == UNEXPLAINED


def test_many_negatives_share_the_budget_of_one(engine):
    budget = engine.with_config(replace(engine.config, absent_budget=1.0))
    few = parse_case({"present": ["HP:0001250"], "absent": ["HP:0000365"]})
    many = parse_case({"present": ["HP:0001250"], "absent": ["HP:0000365", "HP:0012735", "HP:0002094", "HP:0000988"]})

    def hearing(ranking: Engine, case) -> float:
        seizure_a = next(d for d in ranking.rank(case, top_k=10).diagnoses if d.id == "OMIM:100001")
        return next(c.log_lr for c in seizure_a.contributions if c.finding == "HP:0000365")

    assert hearing(engine, few) < 0
    assert hearing(budget, few) == pytest.approx(hearing(engine, few)), "one negative counts in full"
    assert hearing(budget, many) == pytest.approx(hearing(engine, few) / 4), "four share the weight of one"


def test_without_the_ontology_only_exact_matches_count(engine):
    flat = engine.with_config(replace(engine.config, ontology=False))
    k = engine.knowledge
    focal = k.finding_index["HP:0007359"]
    assert flat.model.present(focal)[k.disease_index["OMIM:100002"]] == pytest.approx(np.log(flat.config.unexplained))


def test_uncertain_observations_count_less_than_certain_ones(engine):
    model, k = engine.model, engine.knowledge
    consolidation, lung = k.finding_index["HP:0032177"], k.disease_index["ORPHA:300"]
    strengths = [model.observed(consolidation, p)[lung] for p in (0.5, 0.8, 0.95, 1.0)]
    assert strengths == sorted(strengths)
    assert abs(strengths[0]) < 0.05 < strengths[2]


def test_image_findings_raise_the_disease_they_point_to(engine):
    base = {"present": ["HP:0012735", "HP:0002094"]}
    image = {**base, "image_findings": [{"label": "Consolidation", "probability": 0.95, "model": "chexnet"}]}
    assert order(engine, **base)[:2] == ["DOID:552", "ORPHA:300"]
    assert order(engine, **image)[0] == "ORPHA:300"
    result = engine.rank(parse_case(image))
    assert [o.origin for o in result.resolved.observations].count("image") == 1


def test_unknown_and_meaningless_image_labels_are_reported(engine):
    result = engine.rank(
        parse_case(
            {
                "present": ["HP:0012735"],
                "image_findings": [
                    {"label": "Lung Unicorn", "probability": 0.9, "model": "m"},
                    {"label": "No Finding", "probability": 0.9, "model": "m"},
                    {"label": "HP:0032177", "probability": 0.9, "model": "m"},
                ],
            }
        )
    )
    assert result.resolved.unknown_image_labels == ["Lung Unicorn"]
    assert any(item.get("label") == "No Finding" for item in result.resolved.not_used)
    assert "HP:0032177" in [o.finding for o in result.resolved.observations]
    assert "Lung Unicorn" in result.to_dict()["notes"][0]


def test_a_phenotype_naming_the_disease_supports_it(engine):
    k = engine.knowledge
    pneumonia, phenotype = k.disease_index["DOID:552"], k.finding_index["HP:0002090"]
    assert any(e.type == IDENTITY for e in k.annotation_edges[(pneumonia, phenotype)])
    assert order(engine, present=["HP:0002090"])[0] == "DOID:552"


def test_priors_separate_common_from_rare(default_engine):
    engine = default_engine
    k = engine.knowledge
    priors = k.log_priors(engine.config)
    tiers = dict(zip(k.disease_ids, k.tiers, strict=True))
    assert tiers["DOID:552"] == "ddxplus" and tiers["DOID:900"] == "common" and tiers["OMIM:100003"] == "rare"
    prior = dict(zip(k.disease_ids, priors.tolist(), strict=True))
    assert prior["DOID:552"] > prior["DOID:900"] > prior["OMIM:100003"]
    assert np.exp(priors).sum() == pytest.approx(1.0)
    # Fever alone: the fever disease (fever in all its patients) against the rash syndrome (90%).
    fever = order(engine, present=["HP:0001945"])
    assert fever.index("DOID:900") < fever.index("OMIM:100003")


def test_a_child_is_too_young_for_an_adult_onset_disease(engine):
    adult = engine.rank(parse_case({"present": ["HP:0007359"], "age": 40}), top_k=10).diagnoses
    child = engine.rank(parse_case({"present": ["HP:0007359"], "age": 4}), top_k=10).diagnoses
    score = {d.id: d.log_score for d in adult}
    young = {d.id: d for d in child}
    assert young["OMIM:100001"].log_score == pytest.approx(score["OMIM:100001"] + np.log(0.2))
    assert young["OMIM:100001"].age_log_lr < 0 and young["OMIM:100002"].age_log_lr == 0


def test_scores_are_normalised_and_every_diagnosis_carries_evidence_and_versions(engine):
    result = engine.rank(parse_case({"id": "c1", "present": ["HP:0001945", "HP:0012735"]}), top_k=3)
    data = result.to_dict()
    assert data["notice"] == NOTICE and "not a diagnosis" in NOTICE
    assert sum(d["score"] for d in data["diagnoses"]) == pytest.approx(1.0, abs=1e-5)
    assert [d["rank"] for d in data["diagnoses"]] == [1, 2, 3]
    first = data["diagnoses"][0]
    assert first["versions"]["graph"] == "ranking-test" and first["versions"]["ranking"].startswith("lr-")
    evidence = [e for c in first["contributions"] for e in c["evidence"]]
    assert evidence and all({"source", "version", "license"} <= set(e) for e in evidence)


def test_treatments_name_their_disease_skip_contraindications_and_flag_current_drugs(engine):
    result = engine.rank(
        parse_case(
            {
                "present": ["HP:0001945", "HP:0012735", "HP:0002094", "OMIM:100002"],
                "image_findings": [{"label": "Consolidation", "probability": 0.9, "model": "m"}],
                "medications": ["Azithromycin"],
            }
        )
    )
    options = {(t.drug, t.target["id"]): t for t in result.treatments}
    assert ("DRUGBANK:DB00207", "DOID:552") in options
    assert options[("DRUGBANK:DB00207", "DOID:552")].already_taking is True
    assert ("DRUGBANK:DB00635", "ORPHA:300") in options
    left_out = {(t.drug, t.target["id"]): t.reason for t in result.treatments_left_out}
    assert "contraindicated in Seizure syndrome B" in left_out[("DRUGBANK:DB01060", "DOID:552")]
    assert "does not treat" in left_out[("DRUGBANK:DB00207", "ORPHA:300")]
    assert ("DRUGBANK:DB01060", "DOID:552") not in options
    assert [c.id for c in result.resolved.known_conditions] == ["OMIM:100002"]
    assert all(t.evidence[0]["license"] for t in result.treatments)


def test_guidelines_come_before_labels_and_non_treatments_are_left_out(engine):
    result = engine.rank(parse_case({"present": ["HP:0001945", "HP:0012735", "HP:0002094"]}), top_k=3)
    for_pneumonia = [t for t in result.treatments if t.target["id"] == "DOID:552"]
    assert for_pneumonia[0].drug == "DRUGBANK:DB00254"
    assert for_pneumonia[0].evidence_grade.startswith("guideline first-line")
    assert for_pneumonia[0].evidence[0]["references"] == ["A guideline 2099"]
    grades = [t.evidence_grade for t in for_pneumonia]
    assert grades.index("drug label indication only") > grades.index(
        "physician-curated, symptomatic (PharmacotherapyDB)"
    )
    assert "DRUGBANK:DB09140" not in {t.drug for t in result.treatments}
    oxygen = next(t for t in result.treatments_left_out if t.drug == "DRUGBANK:DB09140")
    assert "medical gas" in oxygen.reason and "drug label" in oxygen.reason


def test_a_cant_miss_diagnosis_stays_visible_below_the_top_k(engine):
    case = parse_case({"present": ["HP:0001945", "HP:0012735", "HP:0002094"]})
    full = {d.id: d for d in engine.rank(case, top_k=10).diagnoses}
    lung = full["ORPHA:300"]
    assert lung.rank > 1 and lung.probability >= engine.config.urgent_min_probability
    shown = engine.rank(case, top_k=1).diagnoses
    assert [d.id for d in shown] == [shown[0].id, "ORPHA:300"]
    kept = shown[1].to_dict()
    assert kept["rank"] == lung.rank and kept["urgent"]["cant_miss"] is True
    assert "below the top 1" in kept["urgent"]["shown_because"] and kept["urgent"]["citation"] == "A guideline 2099"
    strict = engine.with_config(replace(engine.config, urgent_min_probability=0.999))
    assert [d.id for d in strict.rank(case, top_k=1).diagnoses] == [shown[0].id]


def test_a_disease_without_indications_borrows_its_parents(engine):
    treatments = engine.rank(parse_case({"present": ["HP:0001945", "HP:0000988"]}), top_k=10).treatments
    fever_disease = [t for t in treatments if t.target["id"] == "DOID:900"]
    assert {t.drug for t in fever_disease} == {"DRUGBANK:DB00316"}
    assert fever_disease[0].via_parent is None and "via_parent" not in fever_disease[0].to_dict()


def test_next_questions_split_the_leading_candidates(engine):
    result = engine.rank(parse_case({"present": ["HP:0001945"]}), top_k=10)
    asked = [q.finding for q in result.next_questions]
    assert asked and "HP:0001945" not in asked
    assert "DDXPLUS:E_130" not in asked, "a follow-up question is never suggested on its own"
    assert 1 <= len(asked) <= 5


def test_related_diseases_explain_why(engine):
    related = engine.related("DOID:552")
    by_id = {r["id"]: r for r in related["related"]}
    assert by_id["DOID:900"]["components"]["hierarchy"] == 1.0 and "child" in by_id["DOID:900"]["why"]
    assert "shares" in by_id["ORPHA:300"]["why"] and by_id["ORPHA:300"]["shared_findings"]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({}, "nothing to rank on"),
        ({"present": ["OMIM:100002"]}, "known conditions are context"),
        ({"present": ["HP:0001945"], "absent": ["HP:0001945"]}, "both present and absent"),
        ({"present": ["HP:9999999"]}, "present[0]: unknown concept 'HP:9999999'"),
        ({"present": ["fever"]}, "present[0]"),
        ({"present": [{"id": "HP:0001945", "confidence": 1.5}]}, "present[0].confidence must be between 0 and 1"),
        ({"image_findings": [{"label": "Edema"}]}, "image_findings[0].probability must be a number"),
        ({"age": -3}, "'age' must be between 0 and 130"),
        ({"sex": "x"}, "'sex' must be one of"),
        (
            {"present": ["HP:0001945"], "setting": "icu"},
            "'setting' must be one of ['ed', 'primary_care', 'unknown'], got 'icu'",
        ),
        ({"presnt": []}, "unknown case fields ['presnt']"),
        ({"present": ["HP:0001945"], "medications": ["DOID:552"]}, "medications[0]: 'DOID:552' is a Disease"),
        ("fever", "a case must be a JSON object"),
    ],
)
def test_bad_cases_are_refused_with_a_message_that_names_the_problem(engine, case, message):
    with pytest.raises(InputError) as info:
        engine.rank(parse_case(case))
    assert message in str(info.value)


def test_text_without_a_pipeline_is_a_configuration_error(engine):
    from cdss.errors import ConfigError

    with pytest.raises(ConfigError, match="NLP pipeline is not loaded"):
        engine.rank(parse_case({"text": "fever"}))


def test_observations_from_text_follow_their_assertions(engine):
    from cdss.types import Assertion, Mention, MentionMethod, NodeLabel

    def mention(text, concept, label, assertion, confidence=1.0):
        return Mention("", 0, len(text), text, concept, label, assertion, None, MentionMethod.DICTIONARY, confidence)

    mentions = [
        mention("fever", "HP:0001945", NodeLabel.FINDING, Assertion.PRESENT),
        mention("cough", "HP:0012735", NodeLabel.FINDING, Assertion.NEGATED),
        mention("seizure", "HP:0001250", NodeLabel.FINDING, Assertion.FAMILY),
        mention("pneumonia", "DOID:552", NodeLabel.DISEASE, Assertion.PRESENT),
        mention("amoxicillin", "DRUGBANK:DB01060", NodeLabel.DRUG, Assertion.PRESENT),
    ]
    result = engine.rank(parse_case({"text": "..."}), mentions=mentions)
    observed = {(o.finding, o.probability) for o in result.resolved.observations}
    assert observed == {("HP:0001945", 1.0), ("HP:0012735", 0.0)}
    assert [c.id for c in result.resolved.known_conditions] == ["DOID:552"]
    assert result.resolved.medications[0]["id"] == "DRUGBANK:DB01060"
    assert any(item["reason"] == "family history, not the patient" for item in result.resolved.not_used)


def test_a_stated_finding_beats_the_same_finding_in_the_text(engine):
    from ranking.observations import resolve_case

    case = parse_case({"absent": ["HP:0001945"], "image_findings": [{"label": "HP:0001945", "probability": 0.7}]})
    resolved = resolve_case(case, engine.store, labels=engine.labels)
    assert [(o.finding, o.origin, o.probability) for o in resolved.observations] == [("HP:0001945", "stated", 0.0)]
    assert resolved.not_used[0]["origin"] == "image"


def test_rank_cli_writes_one_line_per_case_and_refuses_bad_lines(graph, tmp_path, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(graph))
    # Even priors, as in the `engine` fixture, through the settings this time.
    monkeypatch.setenv("CDSS_PRIOR_COMMON", "1")
    monkeypatch.setenv("CDSS_PRIOR_DDXPLUS", "1")
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps({"id": "a", "present": ["HP:0007359", "HP:0000365"]})
        + "\n{not json\n"
        + json.dumps({"id": "b", "present": ["HP:0001945"], "absent": ["HP:0001945"]})
        + "\n\n"
        + json.dumps({"id": "c", "present": ["HP:0002090"]})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["rank", "--cases", str(cases), "--top", "3", "--out", str(out), "--brief"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["id"] for line in lines] == ["a", None, "b", "c"]
    assert lines[0]["diagnoses"][0] == {**lines[0]["diagnoses"][0], "id": "OMIM:100001", "rank": 1}
    assert set(lines[0]["diagnoses"][0]) == {"id", "name", "score", "rank"}
    assert lines[1]["error"]["message"].startswith("line 2 is not JSON")
    assert "both present and absent" in lines[2]["error"]["message"]
    assert lines[3]["diagnoses"][0]["id"] == "DOID:552"
    assert "ranked 2 cases, 2 refused" in result.output


def test_related_cli(graph, monkeypatch):
    monkeypatch.setenv("CDSS_STORE", str(graph))
    result = CliRunner().invoke(cli, ["related", "DOID:552", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["related"][0]["id"] in {"DOID:900", "ORPHA:300"}
    missing = CliRunner().invoke(cli, ["related", "HP:0001945"])
    assert missing.exit_code == 3 and "is not a disease" in missing.output


def test_simulated_cases_follow_the_protocol(engine):
    from ranking.study.simulate import Simulator

    simulator = Simulator(engine.knowledge, seed=3)
    cases = simulator.rare_cases(diseases=10, k=2, noise=1, imprecision=0.0, negatives=1)
    assert cases and all(engine.knowledge.tiers[c.disease] == "rare" for c in cases)
    for case in cases:
        annotated = set(engine.knowledge.disease_findings(case.disease)[0].tolist())
        present = [engine.knowledge.finding_index[o.finding] for o in case.observations if o.probability == 1]
        assert sum(f in annotated for f in present) >= 2
        assert [o.probability for o in case.observations].count(0.0) <= 1
    again = Simulator(engine.knowledge, seed=3).rare_cases(diseases=10, k=2, noise=1, imprecision=0.0, negatives=1)
    assert again == cases


def test_evaluation_reports_every_table(engine, tmp_path):
    from ranking.study.evaluate import evaluate_diagnosis, plot_ranks

    report = evaluate_diagnosis(
        engine.knowledge, engine.config, diseases=5, per_condition=2, image_findings={"HP:0032177"}
    )
    assert {"rare", "ablations", "common", "image_ablation"} <= set(report)
    assert len(report["rare"]) == 24 and report["common"][0]["cases"] == 2
    single = next(r for r in report["rare"] if (r["k"], r["noise"], r["imprecision"]) == (1, 0, 0.0))
    assert single["cases"] == 5 and 0 < single["micro"]["top10"] <= 1
    assert report["ablations"]["results"]["full model"]["cases"] == 2, "Marfan and homocystinuria have five findings"
    plot_ranks(report, tmp_path / "ranks.png")
    assert (tmp_path / "ranks.png").stat().st_size > 1000


def test_observation_for_an_absent_finding_matches_absent():
    observation = Observation("HP:0001945", 0.0, "stated")
    assert observation.to_dict()["probability"] == 0.0
