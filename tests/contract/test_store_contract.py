"""The `GraphStore` contract: every store must pass these.

The embedded SQLite store always runs. The Neo4j store runs when `NEO4J_URI`
(with `NEO4J_USER` and `NEO4J_PASSWORD`) names a scratch Neo4j 5: each test
deletes every cdss node there first. Otherwise it is skipped, with the reason.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdss.settings import load_settings
from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg.store import Direction, GraphStore
from kg.store_urls import open_store
from runtime import open_graph

PROV = Provenance(source="test", version="1", license="CC0", evidence=("TAS",), references=("PMID:1",))

NODES = [
    Concept(
        "OMIM:100",
        NodeLabel.DISEASE,
        "Crohn disease",
        ("Regional enteritis",),
        ("UMLS:C0010346", "DOID:8778"),
        ("test",),
    ),
    Concept(
        "OMIM:200", NodeLabel.DISEASE, "Pneumonia", ("Lung infection",), ("UMLS:C0032285",), ("test",), {"common": True}
    ),
    Concept("HP:0001945", NodeLabel.FINDING, "Fever", ("Pyrexia", "Hyperthermia"), ("UMLS:C0015967",), ("test",)),
    Concept("HP:0012735", NodeLabel.FINDING, "Cough", (), (), ("test",), {"definition": "A sudden expulsion of air."}),
    Concept("HP:0011134", NodeLabel.FINDING, "Low-grade fever", (), (), ("test",)),
    Concept("DRUGBANK:DB01060", NodeLabel.DRUG, "Amoxicillin", ("Amoxil",), ("MESH:D000900",), ("test",)),
]
EDGES = [
    Edge(
        EdgeType.HAS_FINDING,
        "OMIM:200",
        "HP:0001945",
        PROV,
        {"frequency": 0.8, "frequency_n": 8, "flag": True, "raw": ["8/10"], "none": None},
    ),
    Edge(EdgeType.HAS_FINDING, "OMIM:200", "HP:0012735", PROV),
    Edge(EdgeType.EXCLUDES_FINDING, "OMIM:100", "HP:0012735", PROV),
    Edge(EdgeType.IS_A, "HP:0011134", "HP:0001945", PROV),
    Edge(EdgeType.TREATS, "DRUGBANK:DB01060", "OMIM:200", PROV),
]


def _sqlite(tmp_path: Path) -> GraphStore:
    return open_store(str(tmp_path / "contract.sqlite"), create=True, batch_size=2)


def _neo4j(tmp_path: Path) -> GraphStore:
    uri = os.environ.get("NEO4J_URI")
    if not uri:
        pytest.skip("NEO4J_URI is not set: the Neo4j half of the contract suite needs a scratch Neo4j 5")
    graph = open_graph(load_settings(), uri, batch_size=2)
    graph.clear()
    return graph


STORE_FACTORIES = {"sqlite": _sqlite, "neo4j": _neo4j}


@pytest.fixture(params=sorted(STORE_FACTORIES))
def store(request, tmp_path: Path) -> Iterator[GraphStore]:
    graph = STORE_FACTORIES[request.param](tmp_path)
    graph.upsert_nodes(NODES)
    graph.upsert_edges(EDGES)
    yield graph
    graph.close()


def test_nodes_round_trip(store):
    assert store.get_nodes([n.id for n in NODES]) == {n.id: n for n in NODES}
    assert store.get_node("OMIM:999") is None
    assert store.get_nodes(["OMIM:999", "OMIM:100"]).keys() == {"OMIM:100"}


def test_edges_round_trip_with_provenance_and_typed_attributes(store):
    assert list(store.iter_edges()) == sorted(EDGES, key=lambda e: e.key)
    [edge] = store.neighbours("OMIM:200", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT, limit=1)
    assert edge.provenance == PROV
    assert edge.attributes == {"frequency": 0.8, "frequency_n": 8, "flag": True, "raw": ["8/10"], "none": None}


def test_upserts_are_idempotent(store):
    store.upsert_nodes(NODES)
    store.upsert_edges(EDGES + EDGES)
    assert store.stats().node_count == len(NODES)
    assert store.stats().edge_count == len(EDGES)


def test_upsert_replaces_a_node_and_its_names(store):
    store.upsert_nodes([Concept("HP:0001945", NodeLabel.FINDING, "Fever", ("Febrile",), (), ("test",))])
    assert store.find_by_name("pyrexia") == []
    assert [n.id for n in store.find_by_name("febrile")] == ["HP:0001945"]
    assert [n.id for n in store.search("pyrexia")] == []


def test_delete_edges_by_key(store):
    assert store.delete_edges([EDGES[0].key, EDGES[0].key, (EdgeType.IS_A, "HP:9", "HP:8", "test")]) == 1
    assert EDGES[0] not in list(store.iter_edges())
    assert store.stats().edge_count == len(EDGES) - 1
    assert store.delete_edges([]) == 0


def test_upsert_replaces_edge_attributes(store):
    store.upsert_edges([Edge(EdgeType.HAS_FINDING, "OMIM:200", "HP:0012735", PROV, {"frequency": 0.3})])
    edges = store.neighbours("OMIM:200", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
    assert {e.end: e.attributes.get("frequency") for e in edges} == {"HP:0001945": 0.8, "HP:0012735": 0.3}


def test_find_by_name_normalises_and_filters_by_label(store):
    assert [n.id for n in store.find_by_name("CROHN'S DISEASE")] == ["OMIM:100"]
    assert [n.id for n in store.find_by_name("regional  enteritis")] == ["OMIM:100"]
    assert store.find_by_name("Fever", label=NodeLabel.DISEASE) == []
    assert [n.id for n in store.find_by_name("Fever", label=NodeLabel.FINDING)] == ["HP:0001945"]


def test_find_by_xref(store):
    assert [n.id for n in store.find_by_xref("UMLS:C0032285")] == ["OMIM:200"]
    assert store.find_by_xref("UMLS:C9999999") == []


def test_search_puts_exact_names_first_and_accepts_prefixes(store):
    assert [n.id for n in store.search("fever")] == ["HP:0001945", "HP:0011134"]
    assert [n.id for n in store.search("pneum")] == ["OMIM:200"]
    assert [n.id for n in store.search("amox", label=NodeLabel.DRUG)] == ["DRUGBANK:DB01060"]
    assert store.search("fever", label=NodeLabel.DRUG) == []
    assert store.search("   ") == []
    assert len(store.search("fever", limit=1)) == 1


def test_label_filtered_search_sees_past_a_crowd_of_other_labels(store):
    crowd = [
        Concept(f"HP:9{i:06d}", NodeLabel.FINDING, f"syndrome variant {i}", (), (), ("test",)) for i in range(2_500)
    ]
    store.upsert_nodes([*crowd, Concept("DRUGBANK:DB99999", NodeLabel.DRUG, "syndrome drug", (), (), ("test",))])
    assert [n.id for n in store.search("syndrome", label=NodeLabel.DRUG)] == ["DRUGBANK:DB99999"]


def test_neighbours_by_direction_and_type(store):
    out = store.neighbours("OMIM:200", direction=Direction.OUT)
    assert [(e.type, e.end) for e in out] == [
        (EdgeType.HAS_FINDING, "HP:0001945"),
        (EdgeType.HAS_FINDING, "HP:0012735"),
    ]
    incoming = store.neighbours("OMIM:200", direction=Direction.IN)
    assert [(e.type, e.start) for e in incoming] == [(EdgeType.TREATS, "DRUGBANK:DB01060")]
    both = store.neighbours("HP:0012735")
    assert {e.type for e in both} == {EdgeType.HAS_FINDING, EdgeType.EXCLUDES_FINDING}
    only = store.neighbours("HP:0012735", edge_types=[EdgeType.EXCLUDES_FINDING])
    assert [e.start for e in only] == ["OMIM:100"]
    assert store.neighbours("OMIM:999") == []


def test_iteration_is_sorted_and_typed(store):
    assert [n.id for n in store.iter_nodes()] == sorted(n.id for n in NODES)
    assert [n.id for n in store.iter_nodes(label=NodeLabel.DRUG)] == ["DRUGBANK:DB01060"]
    assert [e.type for e in store.iter_edges(edge_type=EdgeType.IS_A)] == [EdgeType.IS_A]
    from_diseases = [e.key for e in EDGES if e.start.startswith("OMIM:")]
    assert [e.key for e in store.iter_edges(start_label=NodeLabel.DISEASE)] == sorted(from_diseases)
    assert [e.end for e in store.iter_edges(edge_type=EdgeType.HAS_FINDING, start_label=NodeLabel.DISEASE)] == [
        "HP:0001945",
        "HP:0012735",
    ]
    assert list(store.iter_edges(edge_type=EdgeType.HAS_FINDING, start_label=NodeLabel.FINDING)) == []


def test_stats_and_meta(store):
    store.set_meta({"graph_version": "abc123"})
    stats = store.stats()
    assert stats.graph_version == store.graph_version == "abc123"
    assert stats.nodes_by_label == {"Disease": 2, "Finding": 3, "Drug": 1}
    assert stats.edges_by_type == {"HAS_FINDING": 2, "EXCLUDES_FINDING": 1, "IS_A": 1, "TREATS": 1}
    assert stats.nodes_by_source == {"test": {"Disease": 2, "Finding": 3, "Drug": 1}}
    assert stats.has_finding_with_frequency == 1


def test_push_copies_a_graph_and_is_safe_to_run_again(store, tmp_path):
    from kg.push import push_graph

    source = open_store(str(tmp_path / "source.sqlite"), create=True)
    extra = Concept("HP:0002094", NodeLabel.FINDING, "Dyspnea", (), (), ("test",))
    source.upsert_nodes([*NODES, extra])
    source.upsert_edges([*EDGES[1:], Edge(EdgeType.HAS_FINDING, "OMIM:100", "HP:0002094", PROV)])
    source.set_meta({"graph_version": "pushed-1"})
    first = push_graph(source, store)
    assert (first.nodes, first.stale_edges_removed, first.graph_version) == (len(NODES) + 1, 1, "pushed-1")
    assert store.graph_version == "pushed-1"
    assert list(store.iter_edges()) == list(source.iter_edges())
    again = push_graph(source, store)
    assert again.stale_edges_removed == 0
    assert store.stats().to_dict() | {"built_at": None} == source.stats().to_dict() | {"built_at": None}
    source.close()
