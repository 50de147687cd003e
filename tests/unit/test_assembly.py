import pytest

from cdss.errors import GraphModelError
from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg.assembly import assemble
from kg.version import graph_version
from ontologies import SourceData, SourceRelease

A = SourceRelease(name="a", version="1", license="CC0")
B = SourceRelease(name="b", version="2", license="CC-BY")


def disease(i, name="D", **kw):
    return Concept(id=i, label=NodeLabel.DISEASE, name=name, **kw)


def finding(i, name="F", **kw):
    return Concept(id=i, label=NodeLabel.FINDING, name=name, **kw)


def has(start, end, release=A, **attributes):
    return Edge(EdgeType.HAS_FINDING, start, end, release.provenance(), attributes)


def test_same_id_from_two_sources_is_one_node_with_the_first_name():
    graph = assemble(
        [
            SourceData(
                release=A, concepts=[disease("OMIM:1", "Alpha", synonyms=("a1",), sources=("a",), attributes={"x": 1})]
            ),
            SourceData(
                release=B,
                concepts=[
                    disease("OMIM:1", "ALPHA disease", xrefs=("UMLS:C1",), sources=("b",), attributes={"x": 2, "y": 3})
                ],
            ),
        ]
    )
    [node] = graph.nodes
    assert node.name == "Alpha"
    assert node.synonyms == ("ALPHA disease", "a1")
    assert node.xrefs == ("UMLS:C1",)
    assert node.sources == ("a", "b")
    assert node.attributes == {"x": 1, "y": 3}
    assert [s.concepts_merged for s in graph.sources] == [0, 1]


def test_dangling_edges_are_dropped_and_counted():
    graph = assemble(
        [
            SourceData(
                release=A,
                concepts=[disease("OMIM:1"), finding("HP:1")],
                edges=[has("OMIM:1", "HP:1"), has("OMIM:1", "HP:404")],
            )
        ]
    )
    assert len(graph.edges) == 1
    assert graph.sources[0].edges_dropped == 1
    assert "1 edges dropped" in graph.sources[0].notes[-1]


def test_duplicate_edges_merge_their_evidence():
    e1 = Edge(
        EdgeType.HAS_FINDING, "OMIM:1", "HP:1", Provenance("a", "1", "CC0", ("PCS",), ("PMID:1",)), {"frequency": 0.5}
    )
    e2 = Edge(
        EdgeType.HAS_FINDING, "OMIM:1", "HP:1", Provenance("a", "1", "CC0", ("TAS",), ("PMID:2",)), {"onset": "x"}
    )
    graph = assemble([SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], edges=[e1, e2])])
    [edge] = graph.edges
    assert edge.provenance.evidence == ("PCS", "TAS")
    assert edge.provenance.references == ("PMID:1", "PMID:2")
    assert edge.attributes == {"frequency": 0.5, "onset": "x"}


def test_edges_from_different_sources_stay_separate():
    graph = assemble(
        [
            SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], edges=[has("OMIM:1", "HP:1")]),
            SourceData(release=B, edges=[has("OMIM:1", "HP:1", release=B)]),
        ]
    )
    assert [e.provenance.source for e in graph.edges] == ["a", "b"]


def test_edge_between_wrong_labels_is_a_model_error():
    bad = Edge(EdgeType.HAS_FINDING, "HP:1", "OMIM:1", A.provenance())
    with pytest.raises(GraphModelError, match="joins Finding to Disease"):
        assemble([SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], edges=[bad])])


@pytest.mark.parametrize(
    ("concept", "message"),
    [
        (disease("MIM:1"), "not canonical; expected 'OMIM:1'"),
        (disease("no-colon"), "not a CURIE"),
        (disease("OMIM:1", name=""), "has no name"),
        (disease("OMIM:1", attributes={"bad": {"nested": 1}}), "property 'bad'"),
        (disease("OMIM:1", attributes={"mixed": [1, "a"]}), "property 'mixed'"),
    ],
)
def test_invalid_nodes_are_rejected_with_their_id(concept, message):
    with pytest.raises(GraphModelError, match=message):
        assemble([SourceData(release=A, concepts=[concept])])


def test_output_is_sorted_and_version_ignores_input_order():
    nodes = [disease("OMIM:2"), disease("OMIM:1"), finding("HP:2"), finding("HP:1")]
    edges = [has("OMIM:2", "HP:1"), has("OMIM:1", "HP:2"), has("OMIM:1", "HP:1")]
    forward = assemble([SourceData(release=A, concepts=nodes, edges=edges)])
    backward = assemble([SourceData(release=A, concepts=nodes[::-1], edges=edges[::-1])])
    assert [n.id for n in forward.nodes] == ["HP:1", "HP:2", "OMIM:1", "OMIM:2"]
    assert graph_version(forward.nodes, forward.edges) == graph_version(backward.nodes, backward.edges)
    changed = assemble([SourceData(release=A, concepts=nodes, edges=edges[:2])])
    assert graph_version(changed.nodes, changed.edges) != graph_version(forward.nodes, forward.edges)
