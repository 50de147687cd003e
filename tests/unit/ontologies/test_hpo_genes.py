"""HPO's gene annotation files, on tiny files the tests write."""

import pytest

from cdss.errors import SourceParseError
from cdss.types import EdgeType, NodeLabel
from ontologies.hpo_genes import load_hpo_genes, release_from_obo_header
from ontologies.model import SourceRelease

G2P_HEADER = "ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id\n"
P2G_HEADER = "hpo_id\thpo_name\tncbi_gene_id\tgene_symbol\tdisease_id\n"
RELEASE = SourceRelease(name="hpo_genes", version="2099-01-01", license="l")


class Graph:
    """What a derivation may ask of the unified graph: here, a fixed table of ids to nodes."""

    def __init__(self, nodes: dict[str, tuple[str, NodeLabel]]) -> None:
        self.nodes = nodes

    def resolve(self, candidates, labels):
        node = self.nodes.get(candidates[0])
        return node[0] if node and node[1] in labels else None


def write(tmp_path, g2p_rows, p2g_rows=""):
    g2p, p2g = tmp_path / "genes_to_phenotype.txt", tmp_path / "phenotype_to_genes.txt"
    g2p.write_text(G2P_HEADER + g2p_rows)
    p2g.write_text(P2G_HEADER + p2g_rows)
    return g2p, p2g


def test_genes_and_disease_edges_from_both_files(tmp_path):
    g2p, p2g = write(
        tmp_path,
        "1080\tCFTR\tHP:0001250\tSeizure\t3/4\tOMIM:100100\n"
        "1080\tCFTR\tHP:0000007\tAutosomal recessive inheritance\t-\tOMIM:100100\n"
        "105259599\t-\tHP:0001250\tSeizure\t-\tOMIM:130650\n",
        "HP:0000118\tPhenotypic abnormality\t1080\tCFTR\tOMIM:100100\n"
        "HP:0000118\tPhenotypic abnormality\t1909\tEDNRA\tORPHA:558\n",
    )
    data = load_hpo_genes(g2p, p2g, RELEASE)
    genes = {c.id: c for c in data.concepts}
    assert {(c.name, c.label, c.xrefs) for c in genes.values()} == {
        ("CFTR", NodeLabel.GENE, ("HGNC.SYMBOL:CFTR",)),
        ("EDNRA", NodeLabel.GENE, ("HGNC.SYMBOL:EDNRA",)),
        ("NCBIGene:105259599", NodeLabel.GENE, ()),
    }
    assert "1 genes have no symbol" in data.notes[0]
    edges = {(link.start[0], link.end[0]): link for link in data.links}
    assert set(edges) == {
        ("OMIM:100100", "NCBIGene:1080"),
        ("OMIM:130650", "NCBIGene:105259599"),
        ("ORPHA:558", "NCBIGene:1909"),
    }
    cftr = edges[("OMIM:100100", "NCBIGene:1080")]
    assert cftr.type == EdgeType.ASSOCIATED_WITH
    assert cftr.attributes == {"phenotype_annotations": 2}
    assert (cftr.provenance.source, cftr.provenance.version, cftr.provenance.references) == (
        "hpo_genes",
        "2099-01-01",
        ("OMIM:100100",),
    )
    # A pair only the propagated file states still joins its disease to its gene.
    assert edges[("ORPHA:558", "NCBIGene:1909")].attributes == {"phenotype_annotations": 0}


def test_finding_edges_are_direct_annotations_naming_the_graph_diseases(tmp_path):
    g2p, p2g = write(
        tmp_path,
        "1080\tCFTR\tHP:0001250\tSeizure\t-\tOMIM:100100\n"
        "1080\tCFTR\tHP:0001250\tSeizure\t-\tORPHA:558\n"
        "1080\tCFTR\tHP:0000007\tAutosomal recessive inheritance\t-\tOMIM:100100\n"
        "6323\tSCN1A\tHP:0001250\tSeizure\t-\tOMIM:300300\n",
        "HP:0000118\tPhenotypic abnormality\t1080\tCFTR\tOMIM:100100\n",
    )
    data = load_hpo_genes(g2p, p2g, RELEASE)
    graph = Graph(
        {
            "HP:0001250": ("HP:0001250", NodeLabel.FINDING),
            "HP:0000118": ("HP:0000118", NodeLabel.FINDING),
            "HP:0000007": ("HP:0000007", NodeLabel.DISEASE),
            "OMIM:100100": ("DOID:1485", NodeLabel.DISEASE),
            "ORPHA:558": ("DOID:1485", NodeLabel.DISEASE),
        }
    )
    derived = data.derive(graph)
    edges = {(link.start[0], link.end[0]): link for link in derived.links}
    # The propagated file's ancestor term gives no edge; the inheritance term is not a finding.
    assert set(edges) == {("HP:0001250", "NCBIGene:1080"), ("HP:0001250", "NCBIGene:6323")}
    cftr = edges[("HP:0001250", "NCBIGene:1080")]
    assert cftr.attributes == {"diseases": ["DOID:1485"]}
    assert cftr.provenance.references == ("OMIM:100100", "ORPHA:558")
    # A disease that names no node is listed as the file states it.
    assert edges[("HP:0001250", "NCBIGene:6323")].attributes == {"diseases": ["OMIM:300300"]}
    assert "1 annotated HPO terms are not findings" in derived.notes[0]


@pytest.mark.parametrize(
    ("g2p_rows", "message"),
    [
        ("x10\tNAT2\tHP:0000007\tn\t-\tOMIM:243400\n", r"genes_to_phenotype\.txt:2: ncbi_gene_id 'x10'"),
        ("10\tNAT2\tHP:0000007\tn\t-\n", r"genes_to_phenotype\.txt:2: expected 6 tab-separated columns, found 5"),
        ("10\tNAT2\tHP:0000007\tn\t-\tOMIM 243400\n", r"genes_to_phenotype\.txt:2: disease_id: invalid CURIE"),
        ("10\t\tHP:0000007\tn\t-\tOMIM:243400\n", r"genes_to_phenotype\.txt:2: gene_symbol '' is not a gene symbol"),
        (
            "10\tNAT2\tHP:0000007\tn\t-\tOMIM:1\n10\tNAT3\tHP:0000007\tn\t-\tOMIM:1\n",
            r"genes_to_phenotype\.txt:3: NCBIGene:10 is 'NAT3' here but 'NAT2' on an earlier row",
        ),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path, g2p_rows, message):
    g2p, p2g = write(tmp_path, g2p_rows)
    with pytest.raises(SourceParseError, match=message):
        load_hpo_genes(g2p, p2g, RELEASE)


def test_a_file_with_another_header_is_refused(tmp_path):
    g2p, p2g = write(tmp_path, "")
    p2g.write_text("gene\tdisease\n")
    with pytest.raises(SourceParseError, match=r"phenotype_to_genes\.txt:1: expected the header columns hpo_id"):
        load_hpo_genes(g2p, p2g, RELEASE)


def test_release_comes_from_the_hp_obo_header(tmp_path):
    obo = tmp_path / "hp.obo"
    obo.write_text(
        "format-version: 1.2\ndata-version: hp/releases/2099-02-03\n"
        "property_value: terms:license https://hpo.jax.org/license\n\n[Term]\nid: HP:0000001\nname: All\n"
    )
    release = release_from_obo_header(obo)
    assert (release.name, release.version) == ("hpo_genes", "2099-02-03")
    assert "https://hpo.jax.org/license" in release.license
