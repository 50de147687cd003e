"""Assembly: concepts by id, link resolution, edge merging, validation, cycles."""

import pytest

from cdss.errors import GraphModelError
from cdss.types import Concept, EdgeType, NodeLabel, Provenance
from kg.assembly import assemble
from kg.resolution import name_variants
from kg.version import graph_version
from ontologies import ByName, Link, SourceData, SourceRelease

A = SourceRelease(name="a", version="1", license="CC0")
B = SourceRelease(name="b", version="2", license="CC-BY")


def disease(i, name="D", **kw):
    return Concept(id=i, label=NodeLabel.DISEASE, name=name, **kw)


def finding(i, name="F", **kw):
    return Concept(id=i, label=NodeLabel.FINDING, name=name, **kw)


def drug(i, name="X", **kw):
    return Concept(id=i, label=NodeLabel.DRUG, name=name, **kw)


def has(start, end, release=A, **attributes):
    return Link.between(EdgeType.HAS_FINDING, start, end, release.provenance(), attributes)


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
    assert (node.name, node.synonyms, node.xrefs, node.sources) == (
        "Alpha",
        ("ALPHA disease", "a1"),
        ("UMLS:C1",),
        ("a", "b"),
    )
    assert node.attributes == {"x": 1, "y": 3}
    # One id stated by two sources is one concept, not a merge of two.
    assert [s.merge.merged for s in graph.sources] == [0, 0]


def test_names_differing_only_in_case_are_kept_once():
    graph = assemble(
        [
            SourceData(release=A, concepts=[disease("OMIM:1", "Cystic fibrosis")]),
            SourceData(release=B, concepts=[disease("OMIM:1", "cystic fibrosis", synonyms=("CF", "Cystic Fibrosis"))]),
        ]
    )
    assert graph.nodes[0].synonyms == ("CF",)


def test_links_with_unknown_endpoints_are_dropped_and_counted():
    graph = assemble(
        [
            SourceData(
                release=A,
                concepts=[disease("OMIM:1"), finding("HP:1")],
                links=[has("OMIM:1", "HP:1"), has("OMIM:1", "HP:404")],
            )
        ]
    )
    assert len(graph.edges) == 1
    assert graph.sources[0].links_unmapped == 1
    assert "1 links dropped: an endpoint names no node" in graph.sources[0].notes[-1]


def test_links_resolve_through_cross_references_of_the_allowed_label():
    nodes = [
        disease("DOID:1", xrefs=("UMLS:C1",)),
        finding("HP:1", xrefs=("UMLS:C1",)),
        drug("DRUGBANK:DB1", xrefs=("RXNORM:7",)),
        disease("DOID:2", xrefs=("UMLS:C2",)),
        disease("DOID:3", xrefs=("UMLS:C2",)),
    ]
    links = [
        Link.between(EdgeType.TREATS, "RXNORM:7", "UMLS:C1", A.provenance()),
        Link(EdgeType.TREATS, ("RXNORM:7",), ("UMLS:C404", "UMLS:C1"), A.provenance()),
        Link.between(EdgeType.TREATS, "RXNORM:7", "UMLS:C2", A.provenance()),
    ]
    graph = assemble([SourceData(release=A, concepts=nodes, links=links)])
    assert [(e.start, e.end) for e in graph.edges] == [("DRUGBANK:DB1", "DOID:1")]
    assert graph.sources[0].edges_merged == 1
    assert graph.sources[0].links_ambiguous == 1


def test_bare_names_are_a_last_resort():
    nodes = [
        disease("DOID:1", "rheumatoid arthritis"),
        disease("DOID:2", "urinary tract infection"),
        drug("DRUGBANK:DB1"),
    ]
    links = [
        Link(EdgeType.TREATS, ("DRUGBANK:DB1",), ("UMLS:C9", ByName("Arthritis, Rheumatoid")), A.provenance()),
        Link(EdgeType.TREATS, ("DRUGBANK:DB1",), (ByName("Urinary Tract Infections"),), A.provenance()),
        Link(EdgeType.TREATS, ("DRUGBANK:DB1",), (ByName("Gout"),), A.provenance()),
    ]
    graph = assemble([SourceData(release=A, concepts=nodes, links=links)])
    assert sorted(e.end for e in graph.edges) == ["DOID:1", "DOID:2"]
    assert (graph.sources[0].links_by_name, graph.sources[0].links_unmapped) == (2, 1)


def test_name_variants():
    assert name_variants("Arthritis, Rheumatoid") == ["arthritis rheumatoid", "rheumatoid arthritis"]
    assert name_variants("Urinary Tract Infections") == ["urinary tract infections", "urinary tract infection"]
    assert name_variants("Tuberculosis") == ["tuberculosis"]


def test_duplicate_edges_merge_evidence_and_pool_counts():
    p1 = Provenance("a", "1", "CC0", ("PCS",), ("PMID:1",))
    p2 = Provenance("a", "1", "CC0", ("TAS",), ("PMID:2",))
    links = [
        Link.between(
            EdgeType.HAS_FINDING, "OMIM:1", "HP:1", p1, {"frequency": 0.5, "frequency_n": 1, "frequency_m": 2}
        ),
        Link.between(
            EdgeType.HAS_FINDING,
            "OMIM:1",
            "HP:1",
            p2,
            {"frequency": 1.0, "frequency_n": 2, "frequency_m": 2, "onset": "x"},
        ),
    ]
    graph = assemble([SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], links=links)])
    [edge] = graph.edges
    assert edge.provenance.evidence == ("PCS", "TAS")
    assert edge.provenance.references == ("PMID:1", "PMID:2")
    assert edge.attributes == {
        "frequency": 0.75,
        "frequency_n": 3,
        "frequency_m": 4,
        "frequency_kind": "counts",
        "onset": "x",
    }


def test_edges_from_different_sources_stay_separate():
    graph = assemble(
        [
            SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], links=[has("OMIM:1", "HP:1")]),
            SourceData(release=B, links=[has("OMIM:1", "HP:1", release=B)]),
        ]
    )
    assert [e.provenance.source for e in graph.edges] == ["a", "b"]


def test_a_link_naming_a_node_of_the_wrong_label_is_dropped_and_counted():
    bad = Link.between(EdgeType.HAS_FINDING, "HP:1", "OMIM:1", A.provenance())
    graph = assemble([SourceData(release=A, concepts=[disease("OMIM:1"), finding("HP:1")], links=[bad])])
    assert graph.edges == []
    assert graph.sources[0].links_wrong_label == 1
    assert "names a node of a label the edge type does not allow" in graph.sources[0].notes[-1]


def test_a_link_whose_ends_became_one_node_is_counted_apart():
    link = Link.between(EdgeType.IS_A, "HP:1", "HP:1", A.provenance())
    graph = assemble([SourceData(release=A, concepts=[finding("HP:1")], links=[link])])
    assert (graph.sources[0].links_self, graph.sources[0].links_unmapped) == (1, 0)


def test_an_ambiguous_exact_name_is_not_rescued_by_a_weaker_spelling():
    nodes = [
        disease("DOID:1", "tuberculosis"),
        disease("ICD10CM:A15-A19", "tuberculosis"),
        disease("DOID:2", "pulmonary tuberculosis", synonyms=("tuberculosis",)),
        disease("DOID:3", "alzheimer disease 1", synonyms=("alzheimer diseases",)),
        drug("DRUGBANK:DB1"),
    ]
    links = [
        Link(EdgeType.TREATS, ("DRUGBANK:DB1",), (ByName("Tuberculosis"),), A.provenance()),
        Link(EdgeType.TREATS, ("DRUGBANK:DB1",), ("UMLS:C2", ByName("pulmonary tuberculosis")), A.provenance()),
    ]
    graph = assemble([SourceData(release=A, concepts=nodes, links=links)])
    assert [(e.end) for e in graph.edges] == ["DOID:2"]
    assert graph.sources[0].links_ambiguous == 1


def test_an_ambiguous_id_does_not_fall_back_to_the_name():
    nodes = [
        disease("DOID:1", "gout", xrefs=("UMLS:C1",)),
        disease("DOID:2", "other", xrefs=("UMLS:C1",)),
        drug("DRUGBANK:DB1"),
    ]
    link = Link(EdgeType.TREATS, ("DRUGBANK:DB1",), ("UMLS:C1", ByName("gout")), A.provenance())
    graph = assemble([SourceData(release=A, concepts=nodes, links=[link])])
    assert graph.edges == [] and graph.sources[0].links_ambiguous == 1


def test_merged_edges_keep_every_list_value():
    p = A.provenance()
    links = [
        Link.between(EdgeType.HAS_FINDING, "DOID:1", "HP:1", p, {"relations": ["symptom"], "evidence_codes": ["E_16"]}),
        Link.between(
            EdgeType.HAS_FINDING, "DOID:1", "HP:1", p, {"relations": ["antecedent"], "evidence_codes": ["E_81"]}
        ),
    ]
    graph = assemble([SourceData(release=A, concepts=[disease("DOID:1"), finding("HP:1")], links=links)])
    [edge] = graph.edges
    assert edge.attributes == {"relations": ["antecedent", "symptom"], "evidence_codes": ["E_16", "E_81"]}


def test_a_pair_both_present_and_excluded_keeps_both_flagged():
    p = A.provenance()
    links = [
        Link.between(EdgeType.HAS_FINDING, "DOID:1", "HP:1", p),
        Link.between(EdgeType.EXCLUDES_FINDING, "DOID:1", "HP:1", p),
        Link.between(EdgeType.HAS_FINDING, "DOID:1", "HP:2", p),
    ]
    graph = assemble(
        [SourceData(release=A, concepts=[disease("DOID:1"), finding("HP:1"), finding("HP:2")], links=links)]
    )
    flags = {(e.type, e.end): e.attributes.get("contradicted") for e in graph.edges}
    assert flags == {
        (EdgeType.EXCLUDES_FINDING, "HP:1"): True,
        (EdgeType.HAS_FINDING, "HP:1"): True,
        (EdgeType.HAS_FINDING, "HP:2"): None,
    }
    assert graph.sources[0].contradictions == 1


@pytest.mark.parametrize(
    ("link", "message"),
    [
        (
            Link.between(EdgeType.IS_A, "HP:1", "HP:2", A.provenance(), {"evidence": "x"}),
            "attribute 'evidence' clashes",
        ),
        (Link.between(EdgeType.IS_A, "HP:1", "HP:2", A.provenance(), {"deep": {"a": 1}}), "property 'deep'"),
    ],
)
def test_bad_edge_attributes_are_model_errors(link, message):
    with pytest.raises(GraphModelError, match=message):
        assemble([SourceData(release=A, concepts=[finding("HP:1"), finding("HP:2")], links=[link])])


def test_is_a_edges_that_close_a_cycle_are_dropped_later_sources_lose():
    nodes = [finding("HP:1"), finding("HP:2"), finding("HP:3")]
    first = [
        Link.between(EdgeType.IS_A, "HP:1", "HP:2", A.provenance()),
        Link.between(EdgeType.IS_A, "HP:2", "HP:3", A.provenance()),
    ]
    second = [Link.between(EdgeType.IS_A, "HP:3", "HP:1", B.provenance())]
    graph = assemble([SourceData(release=A, concepts=nodes, links=first), SourceData(release=B, links=second)])
    assert [(e.start, e.end) for e in graph.edges] == [("HP:1", "HP:2"), ("HP:2", "HP:3")]
    assert graph.sources[1].cycles_dropped == 1


@pytest.mark.parametrize(
    ("concept", "message"),
    [
        (disease("MIM:1"), "not canonical; expected 'OMIM:1'"),
        (disease("no-colon"), "not a CURIE"),
        (disease("OMIM:1", name=""), "has no name"),
        (disease("OMIM:1", attributes={"bad": {"nested": 1}}), "property 'bad'"),
        (disease("OMIM:1", attributes={"mixed": [1, "a"]}), "property 'mixed'"),
        (disease("OMIM:1", attributes={"name": "x"}), "attribute 'name' clashes with a node field"),
        (disease("OMIM:1", xrefs=("MSH:D1",)), "cross-reference 'MSH:D1' is not canonical"),
        (disease("OMIM:1", xrefs=("nonsense",)), "cross-reference 'nonsense' is not a CURIE"),
    ],
)
def test_invalid_nodes_are_rejected_with_their_id(concept, message):
    with pytest.raises(GraphModelError, match=message):
        assemble([SourceData(release=A, concepts=[concept])])


def test_output_is_sorted_and_version_ignores_input_order():
    nodes = [disease("OMIM:2"), disease("OMIM:1"), finding("HP:2"), finding("HP:1")]
    links = [has("OMIM:2", "HP:1"), has("OMIM:1", "HP:2"), has("OMIM:1", "HP:1")]
    forward = assemble([SourceData(release=A, concepts=nodes, links=links)])
    backward = assemble([SourceData(release=A, concepts=nodes[::-1], links=links[::-1])])
    assert [n.id for n in forward.nodes] == ["HP:1", "HP:2", "OMIM:1", "OMIM:2"]
    assert graph_version(forward.nodes, forward.edges) == graph_version(backward.nodes, backward.edges)
    changed = assemble([SourceData(release=A, concepts=nodes, links=links[:2])])
    assert graph_version(changed.nodes, changed.edges) != graph_version(forward.nodes, forward.edges)
