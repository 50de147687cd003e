"""Our curated tables (signs, can't-miss list, first-line treatments) and the Synthea symptom source."""

from __future__ import annotations

import json

import pytest

from cdss.errors import SourceParseError
from cdss.types import Concept, EdgeType, NodeLabel
from kg.assembly import assemble
from ontologies.curated import load_curated
from ontologies.model import ByXref, Derived, Link, SourceData, SourceRelease
from ontologies.synthea import load_synthea, symptom_states


def test_every_curated_row_cites_its_source_and_keeps_frequencies_in_range():
    data = load_curated()
    findings = [link for link in data.links if link.type == EdgeType.HAS_FINDING]
    treatments = [link for link in data.links if link.type == EdgeType.TREATS]
    assert len(findings) >= 300 and len(treatments) >= 50
    for link in data.links:
        assert link.provenance.references and link.provenance.references[0].strip()
        assert link.provenance.source == "cdss_curated" and link.provenance.version.startswith("cdss tables ")
    frequencies = [link.attributes["frequency"] for link in findings if "frequency" in link.attributes]
    assert frequencies and all(0 < f <= 1 for f in frequencies)
    meningitis = {link.end[0]: link for link in findings if link.start == ("DOID:9470",)}
    assert meningitis["HP:0031179"].attributes["frequency"] == pytest.approx(0.83)
    assert {t.attributes["line"] for t in treatments} == {"first", "alternative"}


def test_cant_miss_rows_flag_the_diseases_they_name():
    data = load_curated()
    source = SourceData(release=SourceRelease(name="disease_ontology", version="t", license="CC0"))
    source.concepts = [
        Concept("DOID:9408", NodeLabel.DISEASE, "acute myocardial infarction"),
        Concept("DOID:9470", NodeLabel.DISEASE, "bacterial meningitis"),
    ]
    graph = assemble([source, SourceData(release=data.release, derive=data.derive)])
    nodes = {n.id: n for n in graph.nodes}
    assert nodes["DOID:9408"].attributes["urgent"] is True
    assert "hours" in nodes["DOID:9408"].attributes["urgent_reason"]
    assert nodes["DOID:9470"].attributes["urgent_citation"]
    notes = next(s for s in graph.sources if s.name == "cdss_curated").notes
    assert any("naming no disease in the graph" in n for n in notes), "rows for diseases this graph lacks are named"


def test_a_derivation_resolves_by_cross_reference_and_sets_node_attributes():
    vocab = SourceData(release=SourceRelease(name="disease_ontology", version="t", license="CC0"))
    vocab.concepts = [
        Concept("DOID:552", NodeLabel.DISEASE, "pneumonia", xrefs=("ICD10CM:J18",)),
        Concept("ICD10CM:J18", NodeLabel.DISEASE, "Pneumonia, unspecified organism"),
        Concept("HP:0012735", NodeLabel.FINDING, "Cough"),
    ]
    release = SourceRelease(name="survey", version="t", license="PD")

    def derive(lookup) -> Derived:
        by_xref = lookup.resolve((ByXref("ICD10CM:J18"),), frozenset({NodeLabel.DISEASE}))
        by_id = lookup.resolve(("ICD10CM:J18",), frozenset({NodeLabel.DISEASE}))
        assert (by_xref, by_id) == ("DOID:552", "ICD10CM:J18")
        return Derived(
            links=[Link.between(EdgeType.HAS_FINDING, by_xref, "HP:0012735", release.provenance())],
            node_attributes={by_xref: {"visit_share_ed": 0.01}},
            details={"visits": 3},
        )

    graph = assemble([vocab, SourceData(release=release, derive=derive)])
    assert {(e.start, e.end) for e in graph.edges} == {("DOID:552", "HP:0012735")}
    assert next(n for n in graph.nodes if n.id == "DOID:552").attributes["visit_share_ed"] == 0.01
    assert next(s for s in graph.sources if s.name == "survey").to_dict()["details"] == {"visits": 3}


def _module(path, states):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": "test", "states": states}))


def test_synthea_symptom_states_ignore_the_ones_that_end_a_symptom(tmp_path):
    path = tmp_path / "appendicitis.json"
    _module(
        path,
        {
            "Pain": {"type": "Symptom", "symptom": "Abdominal Pain", "range": {"low": 50, "high": 100}},
            "Pain_Ends": {"type": "Symptom", "symptom": "Abdominal Pain", "exact": {"quantity": 0}},
            "Fever_Ends": {"type": "Symptom", "symptom": "Fever", "exact": {"quantity": 0}},
            "Onset": {"type": "ConditionOnset", "codes": [{"code": "74400008"}]},
        },
    )
    assert symptom_states(path) == {"Abdominal Pain"}
    path.write_text("{not json")
    with pytest.raises(SourceParseError, match=r"appendicitis\.json"):
        symptom_states(path)


def test_synthea_links_follow_our_table_and_name_unknown_states(tmp_path):
    _module(
        tmp_path / "modules" / "appendicitis.json",
        {
            "A": {"type": "Symptom", "symptom": "Abdominal Pain", "range": {"low": 1, "high": 2}},
            "B": {"type": "Symptom", "symptom": "Hiccups", "range": {"low": 1, "high": 2}},
        },
    )
    data = load_synthea(tmp_path, SourceRelease(name="synthea", version="t", license="Apache-2.0"))
    assert [(link.start, link.end) for link in data.links] == [(("DOID:8337",), ("HP:0002027",))]
    assert data.links[0].attributes["module"] == "appendicitis.json"
    assert any("'Hiccups'" in note for note in data.notes)
