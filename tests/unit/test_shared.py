"""The shared `cdss` package: CURIEs, text normalisation, settings, batching."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from cdss.batching import batched
from cdss.curies import curie_to_iri, normalize_curie
from cdss.errors import ConfigError, InvalidCurieError
from cdss.json_fields import json_fields
from cdss.settings import load_settings
from cdss.text import normalize_term
from cdss.types import NodeLabel


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("MIM:219700", "OMIM:219700"),
        ("ORDO:586", "ORPHA:586"),
        ("Orphanet:586", "ORPHA:586"),
        ("ORPHA:Orphanet_586", "ORPHA:586"),
        ("MSH:D011014", "MESH:D011014"),
        ("SNOMEDCT_US_2023_03_01:233604007", "SNOMEDCT:233604007"),
        ("UMLS_CUI:C0032285", "UMLS:C0032285"),
        ("icd10cm:J18.9", "ICD10CM:J18.9"),
        ("  HP:0001945 ", "HP:0001945"),
        ("NCBIGENE:1080", "NCBIGene:1080"),
        ("hgnc.symbol:CFTR", "HGNC.SYMBOL:CFTR"),
    ],
)
def test_normalize_curie(raw, canonical):
    assert normalize_curie(raw) == canonical


@pytest.mark.parametrize("bad", ["", "HP", ":123", "HP:", "HP 0001945", "1HP:2"])
def test_invalid_curies_name_the_value(bad):
    with pytest.raises(InvalidCurieError, match="invalid CURIE"):
        normalize_curie(bad)


def test_iris_use_obo_purls():
    assert curie_to_iri("HP:0001945") == "http://purl.obolibrary.org/obo/HP_0001945"
    assert curie_to_iri("DOID:1612") == "http://purl.obolibrary.org/obo/DOID_1612"
    assert curie_to_iri("SYMP:0000613") == "http://purl.obolibrary.org/obo/SYMP_0000613"
    assert curie_to_iri("NCIT:C1234") == "https://identifiers.org/ncit:C1234"
    assert curie_to_iri("NCBIGene:1080") == "https://identifiers.org/ncbigene:1080"
    assert curie_to_iri("HGNC.SYMBOL:CFTR") == "https://identifiers.org/hgnc.symbol:CFTR"
    assert curie_to_iri("NDFRT:N0000175497") == "https://identifiers.org/ndfrt:N0000175497"
    assert curie_to_iri("MESH.PA:D000900") == "http://id.nlm.nih.gov/mesh/D000900"


def test_normalize_term_folds_case_accents_punctuation_and_possessives():
    assert normalize_term("Crohn's disease") == normalize_term("CROHN DISEASE") == "crohn disease"
    assert normalize_term("Café-au-lait  spots") == "cafe au lait spots"
    assert normalize_term("Fever, unspecified") == "fever unspecified"


def test_settings_defaults_and_overrides(tmp_path: Path):
    settings = load_settings({"CDSS_DATA_DIR": str(tmp_path)})
    assert settings.store == f"sqlite://{tmp_path / 'graph.sqlite'}"
    assert settings.sources_dir == tmp_path / "sources"
    assert settings.batch_size == 10_000 and settings.progress is None
    custom = load_settings(
        {"CDSS_DATA_DIR": str(tmp_path), "CDSS_STORE": "/x/g.sqlite", "CDSS_BATCH_SIZE": "50", "CDSS_PROGRESS": "off"}
    )
    assert (custom.store, custom.batch_size, custom.progress) == ("/x/g.sqlite", 50, False)
    assert (settings.prior_common, settings.prior_ddxplus) == (30.0, 500.0)
    priors = load_settings({"CDSS_PRIOR_COMMON": "5", "CDSS_PRIOR_DDXPLUS": "2.5e2"})
    assert (priors.prior_common, priors.prior_ddxplus) == (5.0, 250.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CDSS_BATCH_SIZE": "lots"}, "CDSS_BATCH_SIZE='lots' is not an integer"),
        ({"CDSS_BATCH_SIZE": "0"}, "CDSS_BATCH_SIZE=0 must be an integer of at least 1"),
        ({"CDSS_PROGRESS": "maybe"}, "CDSS_PROGRESS='maybe'"),
        ({"CDSS_LOG_LEVEL": "chatty"}, "CDSS_LOG_LEVEL='CHATTY'"),
        ({"CDSS_PRIOR_COMMON": "many"}, "CDSS_PRIOR_COMMON='many' is not a finite number"),
        ({"CDSS_PRIOR_DDXPLUS": "-1"}, "CDSS_PRIOR_DDXPLUS=-1 must be a finite number"),
        ({"CDSS_PRIOR_DDXPLUS": "nan"}, "CDSS_PRIOR_DDXPLUS=nan must be a finite number"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    assert message in str(info.value)


def test_batched():
    assert list(batched(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(batched([], 3)) == []
    with pytest.raises(ValueError, match="at least 1"):
        list(batched([1], 0))


@dataclass(frozen=True, slots=True)
class _Inner:
    source: str

    def to_dict(self) -> dict:
        return {"from": self.source}


@dataclass(frozen=True, slots=True)
class _Row:
    name: str
    kind: NodeLabel
    tags: tuple[str, ...]
    seconds: float
    timings: dict
    note: str | None = None
    inner: _Inner | None = None


def test_json_fields_keep_declaration_order_and_apply_each_rule():
    row = _Row("x", NodeLabel.DISEASE, ("a", "b"), 1.23456, {"load": 0.98765}, inner=_Inner("s"))
    shown = json_fields(row, rename={"kind": "label"}, rounded={"seconds": 2, "timings": 1}, omit_none=("note",))
    assert list(shown) == ["name", "label", "tags", "seconds", "timings", "inner"]
    assert shown["label"] == "Disease" and shown["tags"] == ["a", "b"]
    assert shown["seconds"] == 1.23 and shown["timings"] == {"load": 1.0}
    assert shown["inner"] == {"from": "s"}
    assert "note" in json_fields(row) and "name" not in json_fields(row, omit=("name",))
