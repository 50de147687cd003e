from pathlib import Path

import pytest

from cdss.errors import SourceMissingError, SourceParseError
from ontologies.obo import parse_obo, parse_obo_lines
from tests.fixtures import HP_OBO


def test_parses_terms_synonyms_xrefs_and_hierarchy():
    doc = parse_obo_lines(HP_OBO.splitlines(keepends=True), "hp.obo")
    assert doc.header_value("data-version") == "hp/releases/2099-01-01"
    seizure = doc.terms["HP:0001250"]
    assert seizure.name == "Seizure"
    assert seizure.is_a == ["HP:0000118"]
    assert seizure.xrefs == ["UMLS:C0036572", "SNOMEDCT_US:91175000"]
    assert [(s.text, s.scope, s.type) for s in seizure.synonyms] == [
        ("Seizures", "EXACT", "plural_form"),
        ("Fits", "RELATED", "layperson"),
        ("Convulsions", "BROAD", None),
        ("Old name", "EXACT", "obsolete_synonym"),
    ]
    focal = doc.terms["HP:0007359"]
    assert focal.alt_ids == ["HP:0002384"]
    assert focal.definition == 'A seizure that starts in one "hemisphere".'
    assert doc.terms["HP:0000999"].is_obsolete
    assert "part_of" not in doc.terms


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("[Term]\nid: HP:1\nthis line has no tag\n", 3, "expected 'tag: value'"),
        ("[Term]\nname: no id yet\n", 2, "before the stanza's id"),
        ('[Term]\nid: HP:1\nsynonym: "unterminated EXACT []\n', 3, "unterminated quoted string"),
        ("[Term]\nid: HP:1\n\n[Term]\nid: HP:1\n", 4, "duplicate term id"),
        ('[Term]\nid: HP:1\nsynonym: "x" SIDEWAYS []\n', 3, "unknown synonym scope"),
        ("[Term]\nid: notacurie\n", 2, "not a CURIE"),
    ],
)
def test_malformed_input_names_file_and_line(text, line, reason):
    with pytest.raises(SourceParseError) as info:
        parse_obo_lines(text.splitlines(keepends=True), "broken.obo")
    assert info.value.line == line
    assert f"broken.obo:{line}" in str(info.value)
    assert reason in str(info.value)


def test_non_utf8_bytes_name_the_line(tmp_path: Path):
    path = tmp_path / "bad.obo"
    path.write_bytes(b"format-version: 1.2\n\n[Term]\nid: HP:1\nname: caf\xe9\n")
    with pytest.raises(SourceParseError, match=r"bad\.obo:5: not UTF-8"):
        parse_obo(path, source="hpo")


def test_missing_file_says_which_source(tmp_path: Path):
    with pytest.raises(SourceMissingError, match="source 'hpo' is missing"):
        parse_obo(tmp_path / "nope.obo", source="hpo")
