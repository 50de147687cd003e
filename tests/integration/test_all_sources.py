"""The graph built from every source: fetched from the shared mirror, as CI does it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdss.types import EdgeType, NodeLabel
from kg import Direction, open_store
from ontologies.cxr import cxr_label_map
from ontologies.ddxplus import condition_id
from tests.integration.conftest import MIRROR

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def full(all_sources) -> tuple[Path, dict]:
    return all_sources.graph, all_sources.report


def _edges(stats, source: str, edge_type: str) -> int:
    return stats.edges_by_source.get(source, {}).get(edge_type, 0)


def test_every_source_is_used(full):
    _, report = full
    assert report["skipped"] == []
    assert {s["name"] for s in report["sources"]} == {
        "hpo",
        "hpo_genes",
        "disease_ontology",
        "symptom_ontology",
        "icd10cm",
        "drug_dictionary",
        "pharmacotherapydb",
        "drugcentral",
        "labeledin",
        "ddxplus",
        "cdss_curated",
        "namcs_nhamcs",
        "synthea",
    }


def test_treatment_edges(full):
    path, _ = full
    with open_store(str(path)) as store:
        stats = store.stats()
    assert _edges(stats, "pharmacotherapydb", "TREATS") >= 700
    assert _edges(stats, "pharmacotherapydb", "PALLIATES") >= 350
    assert _edges(stats, "pharmacotherapydb", "NOT_INDICATED_FOR") == 243
    assert _edges(stats, "drugcentral", "TREATS") + _edges(stats, "labeledin", "TREATS") >= 5_000


def test_disease_ontology_backbone_and_unification(full):
    path, _ = full
    with open_store(str(path)) as store:
        do_nodes = [n for n in store.iter_nodes(label=NodeLabel.DISEASE) if "disease_ontology" in n.sources]
        stats = store.stats()
    assert len(do_nodes) >= 10_000
    assert sum(any(x.startswith("ICD10CM:") for x in n.xrefs) for n in do_nodes) >= 3_000
    unified = [i for n in do_nodes for i in n.attributes.get("merged_ids", []) if i.startswith(("OMIM:", "ORPHA:"))]
    assert len(unified) >= 4_000
    assert _edges(stats, "disease_ontology", "HAS_FINDING") >= 2_000


def test_all_ddxplus_conditions_are_present_with_findings(full):
    path, _ = full
    conditions = json.loads((MIRROR / "ddxplus" / "release_conditions.json").read_text())
    with open_store(str(path)) as store:
        for key in conditions:
            node = store.get_node(condition_id(key)) or store.find_by_xref(condition_id(key))[0]
            findings = store.neighbours(node.id, edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
            assert any(e.provenance.source == "ddxplus" for e in findings), key


def test_chest_xray_labels_map_to_findings_in_the_graph(full):
    path, _ = full
    with open_store(str(path)) as store:
        for label in cxr_label_map().values():
            for finding in label.findings:
                node = store.get_node(finding)
                assert node is not None and node.label == NodeLabel.FINDING, (label.label, finding)


def test_common_disease_spot_check(full):
    path, _ = full
    with open_store(str(path)) as store:
        pneumonia = store.get_node("DOID:552")
        assert "UMLS:C0032285" in pneumonia.xrefs and "DDXPLUS:pneumonia" in pneumonia.xrefs
        edges = store.neighbours("DOID:552", direction=Direction.BOTH)
        findings = {e.end for e in edges if e.type == EdgeType.HAS_FINDING}
        assert {"HP:0001945", "HP:0012735", "HP:0002094"} <= findings
        treaters = {e.start for e in edges if e.type == EdgeType.TREATS}
        assert len(treaters) >= 10
        assert all(e.provenance.license for e in edges)


def test_the_visit_surveys_give_reason_profiles_and_priors(full):
    path, report = full
    namcs = next(s for s in report["sources"] if s["name"] == "namcs_nhamcs")
    details = namcs["details"]
    assert details["visits"] == 93_775
    assert details["diseases_with_reason_profile"] >= 400 and details["reason_edges"] >= 2_500
    assert details["primary_diagnosis_to_graph_disease"] >= 0.6
    assert details["reasons: symptom: HPO/SYMP finding"] >= 0.4
    assert details["reason codes not in our table (top 10 by weight)"] == []
    assert namcs["links_unmapped"] == 0 and namcs["links_ambiguous"] == 0
    with open_store(str(path)) as store:
        pneumonia = store.get_node("DOID:552")
        edges = store.neighbours("DOID:552", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
    assert pneumonia.attributes["visit_n_ed"] >= 300 and pneumonia.attributes["visit_share_ed"] > 0.005
    survey = {e.end: e for e in edges if e.provenance.source == "namcs_nhamcs"}
    cough = survey["HP:0012735"].attributes
    assert cough["frequency_n"] >= 100 and cough["setting"] == "ed+office" and "ed" in cough["strata"]
    assert 0.2 < cough["frequency"] < 0.6
    curated = {e.end for e in edges if e.provenance.source == "cdss_curated"}
    assert {"HP:0030830", "HP:0002113"} <= curated  # crackles, pulmonary infiltrates


def test_curated_and_synthea_rows_all_land_on_graph_nodes(full):
    _, report = full
    for name in ("cdss_curated", "synthea"):
        source = next(s for s in report["sources"] if s["name"] == name)
        assert source["links_unmapped"] == 0 and source["links_ambiguous"] == 0 and source["links_wrong_label"] == 0
    curated = next(s for s in report["sources"] if s["name"] == "cdss_curated")
    assert not any("naming no disease" in note for note in curated["notes"])
    assert any("can't-miss diseases flagged urgent" in note for note in curated["notes"])
