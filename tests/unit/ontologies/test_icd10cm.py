from pathlib import Path

import pytest

from cdss.errors import SourceParseError
from cdss.types import EdgeType, NodeLabel
from ontologies.icd10cm import load_icd10cm


def test_chapters_blocks_and_codes(tiny_paths):
    data = load_icd10cm(tiny_paths["icd"])
    assert data.release.version == "2099 (April 1, 2099 update)"
    nodes = {c.id: c for c in data.concepts}
    assert nodes["ICD10CM:J00-J99"].name == "Diseases of the respiratory system"
    assert nodes["ICD10CM:J00-J99"].attributes["kind"] == "chapter"
    assert nodes["ICD10CM:J09-J18"].attributes["kind"] == "block"
    assert nodes["ICD10CM:J18"].attributes["excludes1"] == ["congenital pneumonia (P23.0)"]
    assert nodes["ICD10CM:J18.9"].synonyms == ("Pneumonia NOS",)
    assert nodes["ICD10CM:J18.9"].label == NodeLabel.DISEASE
    # Symptoms and signs are findings.
    assert nodes["ICD10CM:R50.9"].label == NodeLabel.FINDING
    assert nodes["ICD10CM:R50.9"].synonyms == ("Pyrexia NOS",)
    # Injuries stop at the category; health-status codes are left out.
    assert "ICD10CM:S22" in nodes and "ICD10CM:S22.3" not in nodes
    assert not any(i.startswith("ICD10CM:Z") for i in nodes)
    assert any("left out" in n for n in data.notes)
    edges = {(e.start[0], e.end[0]) for e in data.links if e.type == EdgeType.IS_A}
    assert ("ICD10CM:J18.9", "ICD10CM:J18") in edges
    assert ("ICD10CM:J18", "ICD10CM:J09-J18") in edges
    assert ("ICD10CM:J09-J18", "ICD10CM:J00-J99") in edges
    # A one-code block is represented by its category, directly under the chapter.
    assert "ICD10CM:J95" in nodes and nodes["ICD10CM:J95"].attributes["kind"] == "category"
    assert ("ICD10CM:J95", "ICD10CM:J00-J99") in edges


def test_malformed_xml_names_the_line(tmp_path: Path):
    path = tmp_path / "icd10cm-tabular-April-1-2099.xml"
    path.write_text("<ICD10CM.tabular>\n  <chapter>\n    <name>1</name>\n  </chapters>\n</ICD10CM.tabular>\n")
    with pytest.raises(SourceParseError, match=r"tabular-April-1-2099\.xml:4: malformed XML"):
        load_icd10cm(path)


def test_wrong_root_is_rejected(tmp_path: Path):
    path = tmp_path / "x.xml"
    path.write_text("<something/>")
    with pytest.raises(SourceParseError, match=r"expected <ICD10CM\.tabular>"):
        load_icd10cm(path)
