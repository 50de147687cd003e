"""Exports of the tiny graph, read back with independent parsers."""

import csv
import xml.etree.ElementTree as ET

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS

from kg import open_store
from kg.export import export_graph, turtle
from kg.export.columns import infer_columns
from kg.export.neo4j_csv import choose_array_delimiter


def test_turtle_parses_with_obo_purls_and_provenance(tmp_path, tiny_graph):
    out = tmp_path / "graph.ttl"
    with open_store(str(tiny_graph)) as store:
        report = export_graph(store, fmt="ttl", out=out)
        stats = store.stats()
    graph = rdflib.Graph()
    graph.parse(out, format="turtle")
    hp = rdflib.Namespace("http://purl.obolibrary.org/obo/HP_")
    omim = rdflib.URIRef("http://purl.obolibrary.org/obo/DOID_1485")
    assert (hp["0001250"], RDF.type, turtle.CDSS.Finding) in graph
    assert (hp["0001250"], RDFS.label, rdflib.Literal("Seizure")) in graph
    assert (hp["0007359"], RDFS.subClassOf, hp["0001250"]) in graph
    assert (omim, turtle.CDSS.hasFinding, hp["0001250"]) in graph
    assert (omim, turtle.CDSS.excludesFinding, hp["0001945"]) in graph
    cftr = rdflib.URIRef("https://identifiers.org/ncbigene:1080")
    amoxicillin = rdflib.URIRef("https://go.drugbank.com/drugs/DB01060")
    assert (cftr, RDF.type, turtle.CDSS.Gene) in graph
    assert (omim, turtle.CDSS.associatedWith, cftr) in graph
    assert (hp["0001250"], turtle.CDSS.associatedWith, cftr) in graph
    assert (amoxicillin, turtle.CDSS.targets, cftr) in graph
    penicillins = rdflib.URIRef("http://id.nlm.nih.gov/mesh/D1")
    assert (penicillins, RDF.type, turtle.CDSS.PharmacologicClass) in graph
    assert (amoxicillin, turtle.CDSS.inClass, penicillins) in graph
    statements = list(graph.subjects(RDF.type, RDF.Statement))
    assert len(statements) == report.edges == stats.edge_count
    assert len(set(graph.subjects(RDF.type, turtle.CDSS.Disease))) == stats.nodes_by_label["Disease"]


def test_graphml_has_every_node_and_edge(tmp_path, tiny_graph):
    out = tmp_path / "graph.graphml"
    with open_store(str(tiny_graph)) as store:
        report = export_graph(store, fmt="graphml", out=out)
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    root = ET.parse(out).getroot()
    nodes = root.findall(".//g:node", ns)
    edges = root.findall(".//g:edge", ns)
    assert (len(nodes), len(edges)) == (report.nodes, report.edges) == (40, 55)
    keys = {k.get("attr.name"): k.get("attr.type") for k in root.findall("g:key", ns)}
    assert keys["attr.frequency"] == "double"
    assert keys["license"] == "string"


def test_neo4j_admin_csv_headers_rows_and_command(tmp_path, tiny_graph):
    out = tmp_path / "csv"
    with open_store(str(tiny_graph)) as store:
        report = export_graph(store, fmt="csv", out=out)
    names = sorted(p.name for p in report.paths)
    assert names == [
        "import.sh",
        "nodes_Disease.csv",
        "nodes_Drug.csv",
        "nodes_Finding.csv",
        "nodes_Gene.csv",
        "nodes_PharmacologicClass.csv",
        "rels_ASSOCIATED_WITH.csv",
        "rels_EXCLUDES_FINDING.csv",
        "rels_HAS_FINDING.csv",
        "rels_IN_CLASS.csv",
        "rels_IS_A.csv",
        "rels_NOT_INDICATED_FOR.csv",
        "rels_PALLIATES.csv",
        "rels_TARGETS.csv",
        "rels_TREATS.csv",
    ]
    with (out / "nodes_Finding.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:6] == ["id:ID", ":LABEL", "name", "synonyms:string[]", "xrefs:string[]", "sources:string[]"]
    seizure = dict(zip(rows[0], next(r for r in rows if r[0] == "HP:0001250"), strict=True))
    assert seizure["synonyms:string[]"] == "Fits|Seizures|fitting"
    with (out / "rels_HAS_FINDING.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == [":START_ID", ":END_ID", ":TYPE"]
    assert "frequency:double" in header and "frequency_n:long" in header
    with (out / "rels_ASSOCIATED_WITH.csv").open(newline="") as handle:
        header = next(csv.reader(handle))
    assert "diseases:string[]" in header and "phenotype_annotations:long" in header
    with (out / "nodes_PharmacologicClass.csv").open(newline="") as handle:
        classes = list(csv.DictReader(handle))
    assert [(c["id:ID"], c[":LABEL"], c["class_type:string"]) for c in classes] == [
        ("MESH.PA:D1", "PharmacologicClass", "PA"),
        ("NDFRT:N1", "PharmacologicClass", "EPC"),
    ]
    assert report.command.startswith("neo4j-admin database import full ")
    assert "--nodes=nodes_Disease.csv" in report.command and "--relationships=rels_IS_A.csv" in report.command
    assert "--array-delimiter=|" in report.command
    assert report.command in (out / "import.sh").read_text()
    for path in out.glob("*.csv"):
        with path.open(newline="") as handle:
            header = [column.split(":")[0] for column in next(csv.reader(handle)) if not column.startswith(":")]
        assert len(header) == len(set(header)), path.name


def test_unknown_format_is_rejected(tmp_path, tiny_graph):
    from cdss.errors import ConfigError

    with open_store(str(tiny_graph)) as store, pytest.raises(ConfigError, match="unknown export format 'xls'"):
        export_graph(store, fmt="xls", out=tmp_path / "x")


def test_column_kinds():
    columns = infer_columns([{"a": 1, "b": "x", "c": [1.5], "d": True}, {"a": 2.5, "b": ["y"], "c": None}])
    assert columns == {"a": "double", "b": "string[]", "c": "double[]", "d": "boolean"}


def test_delimiter_avoids_characters_inside_values():
    assert choose_array_delimiter(["a", "b"]) == "|"
    assert choose_array_delimiter(["a|b", "c"]) == ";"
