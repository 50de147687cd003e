import pytest

from cdss.errors import SourceParseError
from cdss.types import NodeLabel
from ontologies.drugs import concepts_from_dictionary
from ontologies.model import SourceRelease
from tests.fixtures import DRUG_DICTIONARY

RELEASE = SourceRelease(name="drug_dictionary", version="test", license="test")


def test_one_node_per_drug_id_with_variants_as_synonyms():
    data = concepts_from_dictionary(DRUG_DICTIONARY, RELEASE)
    nodes = {c.id: c for c in data.concepts}
    assert set(nodes) == {"DRUGBANK:DB01060", "MESH:D058633"}
    amoxicillin = nodes["DRUGBANK:DB01060"]
    assert amoxicillin.label == NodeLabel.DRUG
    assert amoxicillin.name == "Amoxicillin"
    # The MeSH-only salt entry shares the MeSH id, so it joins the DrugBank node.
    assert amoxicillin.synonyms == ("amoxicillin sodium", "amoxil")
    assert amoxicillin.xrefs == ("MESH:D000900",)
    assert amoxicillin.attributes["brand_names"] == ["amoxil"]
    assert nodes["MESH:D058633"].synonyms == ("calpol", "paracetamol")
    assert data.notes == ["1 dictionary entries have no DrugBank, MeSH or MedlinePlus id and were left out"]


def test_unexpected_layout_is_an_error():
    with pytest.raises(SourceParseError, match="missing 'drug_variant_to_canonical'"):
        concepts_from_dictionary({"something": {}}, RELEASE)
