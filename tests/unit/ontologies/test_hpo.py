from pathlib import Path

import pytest

from cdss.errors import SourceParseError
from cdss.types import EdgeType, NodeLabel
from ontologies.hpo import (
    Frequency,
    findings_from_obo,
    load_hpo,
    parse_frequency,
    pool_frequencies,
    release_from_obo,
)
from ontologies.obo import parse_obo_lines
from tests.fixtures import HPOA_HEADER


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("HP:0040281", (0.80 + 0.99) / 2, "hpo_term"),
        ("HP:0040280", 1.0, "hpo_term"),
        ("3/4", 0.75, "counts"),
        ("0/5", 0.0, "counts"),
        ("12.5%", 0.125, "percent"),
    ],
)
def test_parse_frequency(raw, value, kind):
    parsed = parse_frequency(raw)
    assert parsed.value == pytest.approx(value)
    assert parsed.kind == kind


@pytest.mark.parametrize("raw", ["5/4", "1/0", "often", "120%", "HP:0000001"])
def test_parse_frequency_rejects_nonsense(raw):
    with pytest.raises(ValueError, match=raw.replace("%", "%").replace("/", "/")):
        parse_frequency(raw)


def test_parse_frequency_empty_is_unknown():
    assert parse_frequency("") is None


def test_pooling_prefers_observed_counts():
    pooled = pool_frequencies(
        [Frequency(0.75, "counts", 3, 4), Frequency(0.25, "counts", 1, 4), Frequency(0.9, "hpo_term")]
    )
    assert pooled == {"frequency": 0.5, "frequency_kind": "counts", "frequency_n": 4, "frequency_m": 8}
    assert pool_frequencies([Frequency(0.2, "percent"), Frequency(0.6, "hpo_term")])["frequency"] == pytest.approx(0.4)
    assert pool_frequencies([]) == {}


def test_load_hpo_builds_findings_diseases_and_edges(tiny_paths):
    data = load_hpo(tiny_paths["hp.obo"], tiny_paths["phenotype.hpoa"])
    concepts = {c.id: c for c in data.concepts}
    findings = {i for i, c in concepts.items() if c.label == NodeLabel.FINDING}
    # Only the phenotype subtree; inheritance, course and obsolete terms are not findings.
    assert findings == {"HP:0000118", "HP:0001250", "HP:0007359", "HP:0001945", "HP:0012735"}
    seizure = concepts["HP:0001250"]
    assert seizure.synonyms == ("Fits", "Seizures")
    assert seizure.attributes["broad_synonyms"] == ["Convulsions"]
    assert seizure.xrefs == ("SNOMEDCT:91175000", "UMLS:C0036572")
    assert "HP:0002384" in concepts["HP:0007359"].xrefs

    disease = concepts["OMIM:100100"]
    assert disease.label == NodeLabel.DISEASE and disease.name == "Test syndrome"
    assert disease.attributes["inheritance"] == ["HP:0000007"]
    assert disease.attributes["inheritance_names"] == ["Autosomal recessive inheritance"]

    edges = {(e.type, e.start[0], e.end[0]): e for e in data.links}
    pooled = edges[(EdgeType.HAS_FINDING, "OMIM:100100", "HP:0001250")]
    assert pooled.attributes["frequency"] == 0.5
    assert (pooled.attributes["frequency_n"], pooled.attributes["frequency_m"]) == (4, 8)
    assert pooled.attributes["sex"] == ["male"]
    assert pooled.provenance.references == ("PMID:1", "PMID:2")
    assert pooled.provenance.evidence == ("PCS",)
    assert pooled.provenance.version == "2099-01-01"
    # The alternative id HP:0002384 was mapped to its primary term.
    focal = edges[(EdgeType.HAS_FINDING, "OMIM:100100", "HP:0007359")]
    assert focal.attributes["onset_names"] == ["Congenital onset"]
    assert focal.attributes["frequency"] == pytest.approx(0.895)
    assert (EdgeType.EXCLUDES_FINDING, "OMIM:100100", "HP:0001945") in edges
    assert (EdgeType.HAS_FINDING, "OMIM:100100", "HP:0001945") not in edges
    assert edges[(EdgeType.HAS_FINDING, "ORPHA:558", "HP:0001945")].attributes["frequency"] == pytest.approx(0.4)
    assert (EdgeType.IS_A, "HP:0007359", "HP:0001250") in edges
    assert any("alternative HPO id" in n for n in data.notes)
    assert any("1 annotation rows dropped" in n for n in data.notes)


def _write_hpoa(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "bad.hpoa"
    path.write_text("#version: 2099-01-01\n" + HPOA_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("OMIM:1\tX\t\tHP:0001250\tPMID:1\tPCS", "expected 12 tab-separated columns, found 6"),
        ("OMIM:1\tX\t\tHP:0001250\tPMID:1\tPCS\t\tsometimes\t\t\tP\tHPO:x", "unknown frequency 'sometimes'"),
        ("OMIM:1\tX\tMAYBE\tHP:0001250\tPMID:1\tPCS\t\t\t\t\tP\tHPO:x", "unknown qualifier 'MAYBE'"),
        ("OMIM:1\tX\t\tHP:0001250\tPMID:1\tPCS\t\t\t\t\tQ\tHPO:x", "unknown aspect 'Q'"),
        ("nocolon\tX\t\tHP:0001250\tPMID:1\tPCS\t\t\t\t\tP\tHPO:x", "invalid CURIE 'nocolon'"),
    ],
)
def test_malformed_annotation_names_file_and_line(tmp_path, tiny_paths, row, reason):
    path = _write_hpoa(tmp_path, ["OMIM:1\tX\t\tHP:0001250\tPMID:1\tPCS\t\t\t\t\tP\tHPO:x", row])
    with pytest.raises(SourceParseError) as info:
        load_hpo(tiny_paths["hp.obo"], path)
    assert "bad.hpoa:4: " in str(info.value)
    assert reason in str(info.value)


def test_wrong_header_is_rejected(tmp_path, tiny_paths):
    path = tmp_path / "bad.hpoa"
    path.write_text("disease\tterm\n", encoding="utf-8")
    with pytest.raises(SourceParseError, match=r"bad\.hpoa:1: expected the HPOA header"):
        load_hpo(tiny_paths["hp.obo"], path)


def test_history_terms_are_findings_but_pedigree_health_status_is_not():
    lines = """\
format-version: 1.2

[Term]
id: HP:0032443
name: Past medical history

[Term]
id: HP:0032316
name: Family history
is_a: HP:0032443

[Term]
id: HP:0032319
name: Health status
is_a: HP:0032316

[Term]
id: HP:0032322
name: Healthy
is_a: HP:0032319
""".splitlines()
    doc = parse_obo_lines(lines, "hp.obo")
    data = findings_from_obo(doc, release_from_obo(doc))
    assert {c.id for c in data.concepts} == {"HP:0032443", "HP:0032316"}
