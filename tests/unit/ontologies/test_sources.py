"""Parsers for the fetched sources, on the tiny files the fixtures write."""

import json

import pytest

from cdss.errors import SourceMissingError, SourceParseError
from cdss.types import EdgeType, NodeLabel
from ontologies import ByName
from ontologies.cxr import cxr_label_map
from ontologies.ddxplus import condition_id, condition_map, evidence_map, load_ddxplus
from ontologies.disease_ontology import load_disease_ontology
from ontologies.drugcentral import load_drugcentral
from ontologies.labeledin import load_labeledin
from ontologies.model import SourceRelease
from ontologies.pharmacotherapydb import load_pharmacotherapydb
from ontologies.symptom_ontology import load_symptom_ontology


def release(name):
    return SourceRelease(name=name, version="t", license="l")


def links_of(data):
    return {(link.type, link.start, link.end): link for link in data.links}


def test_disease_ontology(tiny_paths):
    data = load_disease_ontology(tiny_paths["root"] / "disease-ontology", release("disease_ontology"))
    nodes = {c.id: c for c in data.concepts}
    assert nodes["DOID:1485"].xrefs == ("ICD10CM:E84.9", "OMIM:100100", "ORPHA:558")
    assert nodes["DOID:552"].xrefs == ("MESH:D011014", "SNOMEDCT:233604007", "UMLS:C0032285")
    assert all(c.label == NodeLabel.DISEASE for c in data.concepts)
    links = links_of(data)
    assert (EdgeType.IS_A, ("DOID:552",), ("DOID:850",)) in links
    assert links[(EdgeType.HAS_FINDING, ("DOID:552",), ("SYMP:0000613",))].attributes == {"relation": "has_symptom"}
    assert "their IS_A edges left out: disease" in data.notes[0]


def test_disease_ontology_errors_name_file_and_line(tmp_path, tiny_paths):
    folder = tmp_path / "do"
    folder.mkdir()
    for name in ("allXREFinDO.tsv", "DO-disease-symptom.tsv"):
        (folder / name).write_text((tiny_paths["root"] / "disease-ontology" / name).read_text())
    (folder / "HumanDO.tsv").write_text('id\tlabel\tsubClassOf\n"DOID:1"\t"a"\t""\n"DOID:2"\t"b"\n')
    with pytest.raises(SourceParseError, match=r"HumanDO\.tsv:3: expected 3 fields"):
        load_disease_ontology(folder, release("disease_ontology"))
    (folder / "HumanDO.tsv").write_text('identifier\tname\n"DOID:1"\t"a"\n')
    with pytest.raises(SourceParseError, match=r"HumanDO\.tsv:1: header lacks column\(s\) id, label, subClassOf"):
        load_disease_ontology(folder, release("disease_ontology"))
    (folder / "HumanDO.tsv").unlink()
    with pytest.raises(SourceMissingError, match=r"HumanDO\.tsv not found"):
        load_disease_ontology(folder, release("disease_ontology"))


def test_symptom_ontology(tiny_paths):
    data = load_symptom_ontology(tiny_paths["root"] / "symptom-ontology", release("symptom_ontology"))
    nodes = {c.id: c for c in data.concepts}
    assert set(nodes) == {"SYMP:0000462", "SYMP:0000613", "SYMP:0000614", "SYMP:0000124"}
    assert nodes["SYMP:0000613"].synonyms == ("pyrexia",)
    assert nodes["SYMP:0000124"].xrefs == ("UMLS:C0036572",)
    assert all(c.label == NodeLabel.FINDING for c in data.concepts)


def test_pharmacotherapydb(tiny_paths):
    data = load_pharmacotherapydb(tiny_paths["root"] / "pharmacotherapydb", release("pharmacotherapydb"))
    links = links_of(data)
    assert links[(EdgeType.TREATS, ("DRUGBANK:DB01060",), ("DOID:552",))].attributes == {
        "category": "DM",
        "n_curators": 3,
        "n_resources": 2,
    }
    assert (EdgeType.PALLIATES, ("DRUGBANK:DB00316",), ("DOID:552",)) in links
    assert (EdgeType.NOT_INDICATED_FOR, ("DRUGBANK:DB00316",), ("DOID:1485",)) in links
    assert {c.id for c in data.concepts} == {"DRUGBANK:DB01060", "DRUGBANK:DB00316", "DOID:552", "DOID:1485"}


def test_pharmacotherapydb_rejects_an_unknown_category(tmp_path, tiny_paths):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("drugs.tsv", "diseases.tsv"):
        (folder / name).write_text((tiny_paths["root"] / "pharmacotherapydb" / name).read_text())
    (folder / "indications.tsv").write_text(
        "doid_id\tdrugbank_id\tdisease\tdrug\tcategory\tn_curators\tn_resources\nDOID:1\tDB1\td\tx\tMAYBE\t1\t1\n"
    )
    with pytest.raises(SourceParseError, match=r"indications\.tsv:2: unknown category 'MAYBE'"):
        load_pharmacotherapydb(folder, release("pharmacotherapydb"))


def test_labeledin(tiny_paths):
    data = load_labeledin(tiny_paths["root"] / "pharmacotherapydb", release("labeledin"))
    assert [c.id for c in data.concepts] == ["RXNORM:723"]
    first = data.links[0]
    assert first.start == ("RXNORM:723",)
    assert first.end == ("UMLS:C0032285", ByName("Pneumonia"))
    assert first.attributes["n_labels"] == 2
    assert "1 indications of combination products" in data.notes[0]


def test_drugcentral(tiny_paths):
    data = load_drugcentral(tiny_paths["root"] / "drugcentral-2016", release("drugcentral"))
    nodes = {c.id: c for c in data.concepts}
    assert nodes["DRUGCENTRAL:192"].xrefs == ("DRUGBANK:DB01060", "RXNORM:723")
    assert nodes["DRUGCENTRAL:192"].attributes == {
        "established_pharmacologic_classes": ["Penicillin-class Antibacterial"],
        "mesh_pharmacological_actions": ["Penicillins"],
    }
    ends = [link.end for link in data.links if link.type == EdgeType.TREATS]
    assert ends[0] == ("DOID:552", "UMLS:C0032285", "SNOMEDCT:233604007", ByName("Pneumonia"))
    assert ends[2] == ("SNOMEDCT:233604007", ByName("Lung infection"))


def test_drugcentral_classes_and_targets(tiny_paths):
    data = load_drugcentral(tiny_paths["root"] / "drugcentral-2016", release("drugcentral"))
    nodes = {c.id: c for c in data.concepts}
    assert (nodes["NDFRT:N1"].label, nodes["NDFRT:N1"].attributes) == (
        NodeLabel.PHARMACOLOGIC_CLASS,
        {"class_type": "EPC"},
    )
    # A MeSH pharmacological action keeps its own prefix: its MeSH id may already name a Drug node.
    assert nodes["MESH.PA:D1"].name == "Penicillins"
    assert "NDFRT:N2" not in nodes
    links = links_of(data)
    in_class = links[(EdgeType.IN_CLASS, ("DRUGCENTRAL:192",), ("MESH.PA:D1",))]
    assert (in_class.provenance.source, in_class.provenance.evidence) == ("drugcentral", ("MeSH",))
    # One TARGETS link per gene of a multi-component target; the bacterial target is left out.
    targets = {(link.start[0], link.end[0]): link for link in data.links if link.type == EdgeType.TARGETS}
    assert set(targets) == {
        ("DRUGCENTRAL:192", "HGNC.SYMBOL:CFTR"),
        ("DRUGCENTRAL:500", "HGNC.SYMBOL:IFNAR1"),
        ("DRUGCENTRAL:500", "HGNC.SYMBOL:IFNAR2"),
    }
    receptor = targets[("DRUGCENTRAL:500", "HGNC.SYMBOL:IFNAR2")]
    assert receptor.attributes == {
        "action_type": "AGONIST",
        "target_names": ["Interferon alpha/beta receptor"],
        "target_family": "Cytokine",
        "uniprot": ["P17181", "P48551"],
    }
    assert receptor.provenance.evidence == ("DRUG LABEL",)
    assert receptor.provenance.references == ("https://example.org/label.pdf",)
    assert nodes["HGNC.SYMBOL:IFNAR1"].label == NodeLabel.GENE
    assert "HGNC.SYMBOL:mrcA" not in nodes
    assert "1 targets that are not human proteins" in " ".join(data.notes)
    assert "1 class rows of other kinds" in " ".join(data.notes)


@pytest.mark.parametrize(
    ("name", "row", "message"),
    [
        (
            "drug_target.tsv",
            "1\tC\tx\tt\tf\tP1|P2\tA||B\tA_HUMAN|B_HUMAN\tAGONIST\tS\tR\n",
            r"drug_target\.tsv:2: GENE 'A\|\|B' is not a \|-separated list of gene symbols",
        ),
        ("drug_target.tsv", "x1\tC\tx\tt\tf\tP1\tA\tA_HUMAN\tAGONIST\tS\tR\n", r"drug_target\.tsv:2: DRUG_ID 'x1'"),
        ("pharm_class.tsv", "1\tx\tEPC\tN 1\tSome class\tFDA\n", r"pharm_class\.tsv:2: CLASS_SOURCE_ID 'N 1'"),
    ],
)
def test_drugcentral_bad_class_or_target_rows_name_file_and_line(tmp_path, tiny_paths, name, row, message):
    folder = tmp_path / "dc"
    folder.mkdir()
    for path in (tiny_paths["root"] / "drugcentral-2016").iterdir():
        (folder / path.name).write_text(path.read_text())
    header = (folder / name).read_text().splitlines()[0]
    (folder / name).write_text(f"{header}\n{row}")
    with pytest.raises(SourceParseError, match=message):
        load_drugcentral(folder, release("drugcentral"))


def test_ddxplus(tiny_paths):
    data = load_ddxplus(tiny_paths["root"] / "ddxplus", release("ddxplus"))
    nodes = {c.id: c for c in data.concepts}
    assert nodes["DDXPLUS:pneumonia"].xrefs == ("DOID:552", "ICD10CM:J18")
    assert nodes["DDXPLUS:urti"].xrefs == ("ICD10CM:J06.9",)
    # Mapped evidences point at HPO terms; the unmapped one is a DDXPlus-specific finding.
    assert nodes["DDXPLUS:E_204"].label == NodeLabel.FINDING
    assert "DDXPLUS:E_91" not in nodes
    links = {(link.start[0], link.end[0]): link.attributes for link in data.links}
    assert links[("DDXPLUS:pneumonia", "HP:0001945")] == {
        "relations": ["symptom"],
        "evidence_codes": ["E_91"],
        "evidence_kinds": ["symptom"],
    }
    assert links[("DDXPLUS:pneumonia", "DDXPLUS:E_204")]["relations"] == ["antecedent"]
    assert condition_id("Possible NSTEMI / STEMI") == "DDXPLUS:possible_nstemi_stemi"


def test_ddxplus_bad_json_names_the_line(tmp_path):
    folder = tmp_path / "ddx"
    folder.mkdir()
    (folder / "release_conditions.json").write_text('{\n  "Pneumonia": {\n  "symptoms": \n}\n')
    (folder / "release_evidences.json").write_text(json.dumps({}))
    with pytest.raises(SourceParseError, match=r"release_conditions\.json:4: malformed JSON"):
        load_ddxplus(folder, release("ddxplus"))


def test_ddxplus_evidence_that_is_not_an_object_is_named(tmp_path):
    folder = tmp_path / "ddx"
    folder.mkdir()
    (folder / "release_conditions.json").write_text(json.dumps({"URTI": {"symptoms": {"E_1": {}}, "antecedents": {}}}))
    (folder / "release_evidences.json").write_text(json.dumps({"E_1": "just a string"}))
    with pytest.raises(SourceParseError, match=r"release_evidences\.json: evidence 'E_1' is not a JSON object"):
        load_ddxplus(folder, release("ddxplus"))


def test_curated_mapping_tables_are_complete_and_well_formed():
    conditions = condition_map()
    evidences = evidence_map()
    assert len(conditions) == 49 and len(evidences) == 223
    assert conditions["Pneumonia"] == ("DOID:552", "ICD10CM:J18")
    assert evidences["E_91"] == ("HP:0001945", "symptom")
    labels = cxr_label_map()
    assert len(labels) == 22
    assert labels["Consolidation"].findings == ("HP:0032177",)
    assert labels["Effusion"].findings == labels["Pleural Effusion"].findings == ("HP:0002202",)
    assert not labels["No Finding"].clinical and not labels["Support Devices"].clinical
    assert labels["Cardiomegaly"].label_sets == ("chexpert", "nih")
