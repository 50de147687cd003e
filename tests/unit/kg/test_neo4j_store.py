"""The Neo4j store's Cypher and batching, pinned against a fake driver.

These tests fix what is sent (statements, parameters, batch sizes, order);
whether Neo4j then does the right thing is the contract suite's job, which
runs against a real server when NEO4J_URI is set.
"""

from __future__ import annotations

import neo4j
import pytest
from neo4j import exceptions

from cdss.errors import StoreError
from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg import cypher
from kg.neo4j_records import concept_from_record, edge_from_record, edge_properties, lucene_query, node_properties
from kg.neo4j_store import Neo4jStore

PROV = Provenance("hpo", "2025", "HPO licence")


class FakeRecord:
    def __init__(self, data: dict) -> None:
        self._data = data

    def data(self) -> dict:
        return dict(self._data)


class FakeTx:
    def __init__(self, driver: FakeDriver, mode: str) -> None:
        self.driver, self.mode = driver, mode

    def run(self, query: str, parameters: dict | None = None):
        params = dict(parameters or {})
        self.driver.calls.append((self.mode, query, params))
        if self.driver.fail is not None:
            raise self.driver.fail
        return [FakeRecord(r) for r in self.driver.answer(query, params)]


class FakeSession:
    def __init__(self, driver: FakeDriver, access: str) -> None:
        self.driver, self.access = driver, access

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return None

    def execute_write(self, work):
        return work(FakeTx(self.driver, "write"))

    def execute_read(self, work):
        return work(FakeTx(self.driver, "read"))

    def run(self, query, parameters=None):
        return FakeTx(self.driver, "stream").run(query, parameters)

    def close(self):
        return None


class FakeDriver:
    def __init__(self, version: str = "5.26.0") -> None:
        self.version = version
        self.calls: list[tuple[str, str, dict]] = []
        self.sessions: list[tuple[str | None, str]] = []
        self.fail: Exception | None = None
        self.closed = False

    def session(self, *, database=None, default_access_mode=neo4j.WRITE_ACCESS, bookmark_manager=None):
        self.sessions.append((database, default_access_mode))
        return FakeSession(self, default_access_mode)

    def verify_connectivity(self):
        if self.fail is not None:
            raise self.fail

    def close(self):
        self.closed = True

    def answer(self, query: str, params: dict) -> list[dict]:
        if query == cypher.SERVER_VERSION:
            return [{"name": "Neo4j Kernel", "version": self.version, "edition": "community"}]
        if "rows" in params and "written" in query:
            return [{"written": len(params["rows"])}]
        if query == cypher.DELETE_EDGES:
            return [{"deleted": len(params["rows"])}]
        return []


def open_fake(driver: FakeDriver, **kwargs) -> Neo4jStore:
    return Neo4jStore(
        "neo4j://user:secret@graph.example:7687/clinic",
        auth=("neo4j", "pw"),
        driver_factory=lambda uri, auth, **config: driver,
        **kwargs,
    )


def writes(driver: FakeDriver) -> list[tuple[str, dict]]:
    return [(q, p) for mode, q, p in driver.calls if mode == "write"]


def test_constraints_and_indexes_come_first_and_are_idempotent():
    driver = FakeDriver()
    store = open_fake(driver)
    assert driver.calls[0][1] == cypher.SERVER_VERSION
    schema = [q for _, q, _ in driver.calls[1:]]
    assert schema == [*cypher.CONSTRAINTS, *cypher.INDEXES, cypher.AWAIT_INDEXES]
    assert all("IF NOT EXISTS" in q for q in [*cypher.CONSTRAINTS, *cypher.INDEXES])
    assert any("REQUIRE n.id IS UNIQUE" in q and "(n:Disease)" in q for q in cypher.CONSTRAINTS)
    assert any(q.startswith("CREATE FULLTEXT INDEX") for q in cypher.INDEXES)
    assert store.location == "neo4j://graph.example:7687" and store.database == "clinic"
    assert all(database == "clinic" for database, _ in driver.sessions)


def test_nodes_are_written_in_unwind_batches_with_values_only_as_parameters():
    driver = FakeDriver()
    store = open_fake(driver, batch_size=5_000)
    driver.calls.clear()
    nodes = [Concept(f"OMIM:{i:06d}", NodeLabel.DISEASE, f"disease {i}", (f"syn {i}",)) for i in range(12_000)]
    assert store.upsert_nodes(nodes) == 12_000
    sent = writes(driver)
    assert [len(p["rows"]) for _, p in sent] == [5_000, 5_000, 2_000]
    assert {q for q, _ in sent} == {cypher.UPSERT_NODES["Disease"]}
    assert all(set(p) == {"rows"} for _, p in sent)
    assert "OMIM:" not in cypher.UPSERT_NODES["Disease"] and "$rows" in cypher.UPSERT_NODES["Disease"]
    first = sent[0][1]["rows"][0]
    assert first == {"id": "OMIM:000000", "properties": node_properties(nodes[0])}
    assert first["properties"]["norm_key"] == "|disease 0|syn 0|"


def test_edges_are_grouped_per_type_and_a_repeated_edge_is_sent_once():
    driver = FakeDriver()
    store = open_fake(driver, batch_size=10_000)
    driver.calls.clear()
    edges = [
        Edge(EdgeType.HAS_FINDING, "OMIM:1", "HP:1", PROV, {"frequency": 0.5, "raw": ["1/2"], "note": None}),
        Edge(EdgeType.HAS_FINDING, "OMIM:1", "HP:1", PROV, {"frequency": 0.6}),
        Edge(EdgeType.IS_A, "HP:1", "HP:2", PROV),
    ]
    store.upsert_edges(edges)
    sent = writes(driver)
    assert [q for q, _ in sent] == [cypher.UPSERT_EDGES["HAS_FINDING"], cypher.UPSERT_EDGES["IS_A"]]
    [row] = sent[0][1]["rows"]
    assert row["properties"]["frequency"] == 0.6 and row["properties"]["attributes"] == '{"frequency":0.6}'
    assert row["source"] == "hpo" and row["properties"]["license"] == "HPO licence"
    assert "MERGE (a)-[r:HAS_FINDING {source: row.source}]->(b)" in sent[0][0]


def test_reads_go_through_read_transactions_and_map_records_back():
    driver = FakeDriver()
    store = open_fake(driver)
    concept = Concept("HP:0001945", NodeLabel.FINDING, "Fever", ("Pyrexia",), ("UMLS:C0015967",), ("hpo",), {"x": 1})
    props = node_properties(concept)
    driver.answer = lambda query, params: (
        [{**{k: props[k] for k in ("id", "name", "synonyms", "xrefs", "sources", "attributes")}, "label": "Finding"}]
        if query == cypher.NODES_BY_XREF
        else []
    )
    driver.calls.clear()
    assert store.find_by_xref("UMLS:C0015967") == [concept]
    mode, query, params = driver.calls[-1]
    assert (mode, query, params) == ("read", cypher.NODES_BY_XREF, {"key": "|UMLS:C0015967|"})
    assert driver.sessions[-1][1] == neo4j.READ_ACCESS


def test_search_escapes_lucene_and_uses_the_label_index():
    assert lucene_query("Crohn's (ileal) disease") == (
        '+crohn* +ileal* +disease* crohn ileal disease "crohn ileal disease"^2'
    )
    assert lucene_query("a+b") == '+a* +b* a b "a b"^2'
    assert lucene_query("fever") == "+fever* fever"
    assert lucene_query("   ") is None
    driver = FakeDriver()
    store = open_fake(driver)
    driver.calls.clear()
    store.search("fever", label=NodeLabel.DRUG, limit=5)
    _, query, params = driver.calls[-1]
    assert query == cypher.SEARCH["Drug"] and "drug_terms" in query
    assert params == {"query": "+fever* fever", "candidates": 2_000}


def test_an_old_server_is_refused_with_the_version_it_needs():
    driver = FakeDriver(version="4.4.30")
    with pytest.raises(StoreError, match=r"version 4\.4\.30; cdss needs 5\.6 or later"):
        open_fake(driver)
    assert driver.closed


def test_an_unreachable_server_is_a_store_error_naming_it():
    driver = FakeDriver()
    store = open_fake(driver)
    driver.fail = exceptions.ServiceUnavailable("connection refused")
    with pytest.raises(StoreError, match=r"Neo4j at neo4j://graph.example:7687 is unavailable"):
        store.meta()
    assert store.ping() is False
    driver.fail = None
    assert store.ping() is True, "the next call reconnects through the driver's pool"


def test_delete_edges_sends_each_key_once_in_one_transaction():
    driver = FakeDriver()
    store = open_fake(driver)
    driver.calls.clear()
    key = (EdgeType.IS_A, "HP:1", "HP:2", "hpo")
    assert store.delete_edges([key, key]) == 1
    assert writes(driver) == [
        (cypher.DELETE_EDGES, {"rows": [{"type": "IS_A", "start": "HP:1", "end": "HP:2", "source": "hpo"}]})
    ]
    assert store.delete_edges([]) == 0


def test_search_keeps_only_nodes_with_one_name_holding_every_word_and_ranks_exact_names_first():
    driver = FakeDriver()
    store = open_fake(driver)
    nodes = [
        Concept("OMIM:1", NodeLabel.DISEASE, "Crohn disease", ("Regional enteritis",)),
        Concept("OMIM:2", NodeLabel.DISEASE, "Crohn disease of the ileum"),
        Concept("OMIM:3", NodeLabel.DISEASE, "Crohn disease"),
    ]

    def answer(query, params):
        if query != cypher.SEARCH[None]:
            return FakeDriver.answer(driver, query, params)
        rows = []
        for concept, score in zip(nodes, (3.0, 2.0, 1.0), strict=True):
            props = node_properties(concept)
            rows.append(
                {
                    **{k: props[k] for k in ("id", "name", "synonyms", "xrefs", "sources", "attributes")},
                    "label": "Disease",
                    "score": score,
                }
            )
        return rows

    driver.answer = answer
    assert [c.id for c in store.search("crohn disease")] == ["OMIM:1", "OMIM:3", "OMIM:2"]
    assert [c.id for c in store.search("crohn enteritis")] == [], "words split across two names do not match"


def test_clear_deletes_relationships_in_pages_before_nodes():
    driver = FakeDriver()
    store = open_fake(driver, batch_size=5_000)
    remaining = {cypher.DELETE_RELATIONSHIPS_PAGE: [5_000, 1_200, 0], cypher.DELETE_NODES_PAGE: [300, 0]}
    driver.answer = lambda query, params: [{"deleted": remaining[query].pop(0)}] if query in remaining else []
    driver.calls.clear()
    assert store.clear() == 6_500
    assert [q for q, _ in writes(driver)] == [cypher.DELETE_RELATIONSHIPS_PAGE] * 3 + [cypher.DELETE_NODES_PAGE] * 2
    assert all(p == {"page": 5_000} for _, p in writes(driver))


def test_rows_shaped_as_cypher_returns_them_read_back_to_the_same_concept_and_edge():
    concept = Concept("MONDO:1", NodeLabel.DISEASE, "Flu", ("influenza",), ("ICD10CM:J11",), ("mondo",), {"n": 2})
    edge = Edge(
        EdgeType.HAS_FINDING, "MONDO:1", "HP:1", Provenance("hpo", "2025", "L", ("TAS",), ("PMID:1",)), {"f": 0.5}
    )
    written = node_properties(concept)
    node_row = {k: written[k] for k in ("id", "name", "synonyms", "xrefs", "sources", "attributes")}
    assert concept_from_record({**node_row, "label": "Disease"}) == concept
    props = edge_properties(edge)
    edge_row = {
        "type": "HAS_FINDING",
        "start": "MONDO:1",
        "end": "HP:1",
        "version": props["source_version"],
        **{k: props[k] for k in ("source", "license", "evidence", "references", "attributes")},
    }
    assert edge_from_record(edge_row) == edge
    bare = edge_from_record({**edge_row, "evidence": None, "references": None, "attributes": None})
    assert (bare.provenance.evidence, bare.provenance.references, bare.attributes) == ((), (), {})
