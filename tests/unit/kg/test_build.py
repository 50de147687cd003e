"""`build_graph` on the tiny sources: counts, idempotence, atomicity, bad input."""

import os
import sqlite3
import threading
import time

import pytest

from cdss.errors import GraphNotBuiltError, SourceMissingError, SourceParseError, StoreError
from cdss.types import Concept, Edge, EdgeType, NodeLabel, Provenance
from kg import Direction, build_graph, open_store
from kg.records_carry import records_digest
from kg.sqlite_staging import remove_stale_stages, staged_store
from kg.version import graph_version
from ontologies import SourceRelease, SourceSpec
from ontologies.disease_ontology import load_disease_ontology
from ontologies.hpo import load_hpo


def test_build_writes_every_source(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        stats = store.stats()
        assert stats.nodes_by_label == {"Disease": 18, "Finding": 11, "Drug": 4, "Gene": 5, "PharmacologicClass": 2}
        assert stats.edges_by_type == {
            "HAS_FINDING": 12,
            "EXCLUDES_FINDING": 1,
            "IS_A": 23,
            "TREATS": 5,
            "PALLIATES": 1,
            "NOT_INDICATED_FOR": 1,
            "ASSOCIATED_WITH": 7,
            "TARGETS": 3,
            "IN_CLASS": 2,
        }
        assert [s["name"] for s in stats.sources] == [
            "hpo",
            "hpo_genes",
            "disease_ontology",
            "symptom_ontology",
            "icd10cm",
            "drug_dictionary",
            "pharmacotherapydb",
            "drugcentral",
            "labeledin",
            "ddxplus",
        ]


def test_sources_unify_into_one_node_per_concept(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        cf = store.get_node("DOID:1485")
        # DO's MIM and ORDO cross-references pull in HPO's OMIM and ORPHA entries.
        assert {"OMIM:100100", "ORPHA:558", "ICD10CM:E84.9"} <= set(cf.xrefs)
        assert cf.sources == ("disease_ontology", "hpo", "pharmacotherapydb")
        assert store.get_node("OMIM:100100") is None
        assert [n.id for n in store.find_by_xref("ORPHA:558")] == ["DOID:1485"]
        # Two DO terms claim OMIM:200200: a conflict, so nothing was merged.
        assert store.get_node("OMIM:200200").sources == ("hpo",)
        # SYMP fever joined HPO Fever by name, so DO's symptom edge lands on the HPO term.
        findings = store.neighbours("DOID:552", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
        assert {(e.end, e.provenance.source) for e in findings} >= {("HP:0001945", "disease_ontology")}
        # DrugCentral, LabeledIn (by RxNorm) and PharmacotherapyDB all treat with the one amoxicillin node.
        treats = store.neighbours("DRUGBANK:DB01060", edge_types=[EdgeType.TREATS], direction=Direction.OUT)
        assert {(e.end, e.provenance.source) for e in treats} == {
            ("DOID:552", "drugcentral"),
            ("DOID:552", "labeledin"),
            ("DOID:552", "pharmacotherapydb"),
            ("DOID:1485", "labeledin"),
        }
        # DDXPlus pneumonia is DO pneumonia; URTI has no DO term and stays a DDXPlus node.
        assert store.get_node("DOID:552").attributes["merged_ids"] == ["DDXPLUS:pneumonia"]
        assert store.get_node("DDXPLUS:urti").label == NodeLabel.DISEASE


def test_genes_join_diseases_findings_and_drug_targets(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        # DrugCentral's CFTR symbol joined HPO's NCBI Gene node; its other targets became symbol-named genes.
        cftr = store.get_node("NCBIGene:1080")
        assert (cftr.name, cftr.sources) == ("CFTR", ("drugcentral", "hpo_genes"))
        assert store.get_node("HGNC.SYMBOL:CFTR") is None
        targets = store.neighbours("DRUGBANK:DB01060", edge_types=[EdgeType.TARGETS], direction=Direction.OUT)
        assert [(e.end, e.attributes["action_type"]) for e in targets] == [("NCBIGene:1080", "POSITIVE MODULATOR")]
        assert store.get_node("HGNC.SYMBOL:IFNAR2").label == NodeLabel.GENE
        # OMIM:100100 and ORPHA:558 are both cystic fibrosis: one disease edge, citing both.
        genes = store.neighbours("DOID:1485", edge_types=[EdgeType.ASSOCIATED_WITH], direction=Direction.OUT)
        assert [(e.end, e.provenance.references) for e in genes] == [("NCBIGene:1080", ("OMIM:100100", "ORPHA:558"))]
        # A finding edge names the graph diseases behind it, so a held-out disease's edges can be dropped.
        seizure = store.neighbours("HP:0001250", edge_types=[EdgeType.ASSOCIATED_WITH], direction=Direction.OUT)
        assert {e.end: e.attributes["diseases"] for e in seizure} == {
            "NCBIGene:1080": ["DOID:1485"],
            "NCBIGene:6323": ["OMIM:300300", "OMIM:300301"],
        }
        classes = store.neighbours("DRUGBANK:DB01060", edge_types=[EdgeType.IN_CLASS], direction=Direction.OUT)
        assert [e.end for e in classes] == ["MESH.PA:D1", "NDFRT:N1"]


def test_stored_graph_hashes_to_its_version(tiny_graph):
    with open_store(str(tiny_graph)) as store:
        assert graph_version(store.iter_nodes(), store.iter_edges()) == store.graph_version


def test_rebuild_gives_the_same_version_and_no_duplicates(tmp_path, tiny_specs, tiny_graph):
    first = open_store(str(tiny_graph))
    before = (first.graph_version, first.stats().node_count, first.stats().edge_count)
    first.close()
    report = build_graph(store_url=str(tiny_graph), sources_dir=tmp_path, sources=tiny_specs)
    with open_store(str(tiny_graph)) as store:
        assert (store.graph_version, store.stats().node_count, store.stats().edge_count) == before
        assert report.graph_version == before[0]
    with sqlite3.connect(tiny_graph) as conn:
        assert conn.execute("SELECT COUNT(*) - COUNT(DISTINCT id) FROM nodes").fetchone() == (0,)


def _broken_hpo_spec(tiny_paths, tmp_path) -> SourceSpec:
    broken = tmp_path / "broken.obo"
    broken.write_text(tiny_paths["hp.obo"].read_text().replace("name: Fever", "name Fever"), encoding="utf-8")
    return SourceSpec(
        name="hpo",
        title="broken",
        license="x",
        citation="x",
        homepage="x",
        package=None,
        read=lambda: load_hpo(broken, tiny_paths["phenotype.hpoa"]),
    )


def test_malformed_source_names_file_and_line_and_keeps_the_previous_graph(
    tmp_path, tiny_paths, tiny_specs, tiny_graph
):
    version = open_store(str(tiny_graph)).graph_version
    before = tiny_graph.stat().st_mtime_ns
    with pytest.raises(SourceParseError) as info:
        build_graph(
            store_url=str(tiny_graph),
            sources_dir=tmp_path,
            sources=[_broken_hpo_spec(tiny_paths, tmp_path), *tiny_specs[1:]],
        )
    line = next(i for i, text in enumerate(tiny_paths["hp.obo"].read_text().splitlines(), 1) if text == "name: Fever")
    assert f"broken.obo:{line}: expected 'tag: value'" in str(info.value)
    assert tiny_graph.stat().st_mtime_ns == before
    assert open_store(str(tiny_graph)).graph_version == version
    assert not list(tiny_graph.parent.glob("*.building-*"))


def test_an_optional_source_that_fails_is_skipped_with_its_reason(tmp_path, tiny_specs):
    def missing():
        raise SourceMissingError("extra", tmp_path / "extra.tsv", "fetch it with `cdss data fetch`")

    optional = SourceSpec(
        name="extra", title="x", license="x", citation="x", homepage="x", read=missing, required=False
    )
    report = build_graph(store_url=str(tmp_path / "g.sqlite"), sources_dir=tmp_path, sources=[*tiny_specs, optional])
    assert report.skipped == [
        f"extra: source 'extra' is missing: {tmp_path / 'extra.tsv'} not found; fetch it with `cdss data fetch`"
    ]
    assert report.nodes == 40


def test_failure_while_writing_leaves_the_previous_graph(tmp_path, tiny_graph):
    version = open_store(str(tiny_graph)).graph_version
    with pytest.raises(RuntimeError, match="disk on fire"), staged_store(tiny_graph) as store:
        store.upsert_nodes([])
        raise RuntimeError("disk on fire")
    assert open_store(str(tiny_graph)).graph_version == version
    assert not list(tiny_graph.parent.glob("*.building-*"))


def test_stale_stages_of_dead_builds_are_removed(tmp_path):
    target = tmp_path / "graph.sqlite"
    dead = tmp_path / "graph.sqlite.building-999999999-1"
    alive = tmp_path / f"graph.sqlite.building-{os.getpid()}-1"
    dead.write_bytes(b"half")
    alive.write_bytes(b"mine")
    assert remove_stale_stages(target) == [dead]
    assert alive.exists() and not dead.exists()


def test_opening_a_missing_or_foreign_store_is_a_clear_error(tmp_path):
    with pytest.raises(GraphNotBuiltError, match="run `cdss kg build` first"):
        open_store(str(tmp_path / "none.sqlite"))
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="is not a cdss graph database"):
        open_store(str(junk))
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    with pytest.raises(StoreError, match="schema version '0', this cdss needs"):
        open_store(str(old))


@pytest.mark.parametrize("url", ["neo4j://localhost:7687", "sqlite://host/x.sqlite", ""])
def test_unsupported_store_urls_are_rejected(url):
    from cdss.errors import ConfigError

    with pytest.raises(ConfigError):
        open_store(url)


def test_sqlite_urls(tmp_path, tiny_graph):
    assert open_store(f"sqlite://{tiny_graph}").graph_version == open_store(str(tiny_graph)).graph_version


def test_a_corrupt_optional_source_is_named_and_the_build_goes_on(tmp_path, tiny_paths, tiny_specs):
    broken = tmp_path / "broken-do"
    broken.mkdir()
    for name in ("allXREFinDO.tsv", "DO-disease-symptom.tsv"):
        (broken / name).write_text((tiny_paths["root"] / "disease-ontology" / name).read_text())
    (broken / "HumanDO.tsv").write_text('id\tlabel\tsubClassOf\n"DOID:1"\t"a"\t""\n"DOID:2"\t"b"\n')
    release = SourceRelease(name="disease_ontology", version="t", license="CC0")
    corrupt = SourceSpec(
        name="disease_ontology",
        title="x",
        license="CC0",
        citation="x",
        homepage="x",
        read=lambda: load_disease_ontology(broken, release),
        required=False,
    )
    specs = [corrupt if s.name == "disease_ontology" else s for s in tiny_specs]
    report = build_graph(store_url=str(tmp_path / "g.sqlite"), sources_dir=tmp_path, sources=specs)
    [skipped] = report.skipped
    assert skipped.startswith("disease_ontology: ") and "HumanDO.tsv:3: expected 3 fields" in skipped
    assert "disease_ontology" not in [s.name for s in report.sources]
    with open_store(str(tmp_path / "g.sqlite")) as store:
        # Without DO nothing unifies OMIM:100100 with DOID:1485 (known here only from PharmacotherapyDB).
        assert store.get_node("OMIM:100100").sources == ("hpo",)
        assert store.get_node("DOID:1485").sources == ("pharmacotherapydb",)


def test_an_optional_source_that_cannot_be_read_is_skipped_with_the_reason(tmp_path, tiny_specs):
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "HumanDO.tsv").mkdir()
    release = SourceRelease(name="disease_ontology", version="t", license="CC0")
    unreadable = SourceSpec(
        name="disease_ontology",
        title="x",
        license="CC0",
        citation="x",
        homepage="x",
        read=lambda: load_disease_ontology(folder, release),
        required=False,
    )
    specs = [unreadable if s.name == "disease_ontology" else s for s in tiny_specs]
    report = build_graph(store_url=str(tmp_path / "g.sqlite"), sources_dir=tmp_path, sources=specs)
    [skipped] = report.skipped
    assert skipped.startswith("disease_ontology: source 'disease_ontology': cannot read") and "HumanDO.tsv" in skipped


def test_ingested_records_survive_a_rebuild_and_leave_the_version_alone(tmp_path, tiny_specs, tiny_graph):
    with open_store(str(tiny_graph)) as store:
        version = store.graph_version
        disease = next(store.iter_nodes(label=NodeLabel.DISEASE)).id
        provenance = Provenance("records", "test", "ours")
        store.upsert_nodes(
            [Concept("RECORD:" + "a" * 32, NodeLabel.RECORD, "record aaaa", attributes={"digest": "01"})]
        )
        store.upsert_edges(
            [
                Edge(EdgeType.MENTIONS, "RECORD:" + "a" * 32, disease, provenance, {"present": True}),
                Edge(EdgeType.MENTIONS, "RECORD:" + "a" * 32, "HP:9999999", provenance, {"present": True}),
            ]
        )
    report = build_graph(store_url=str(tiny_graph), sources_dir=tmp_path, sources=tiny_specs)
    assert (report.graph_version, report.records_carried, report.record_edges_dropped) == (version, 1, 1)
    assert "1 ingested records carried over (1 mentions of concepts now gone left out)" in report.summary_line()
    with open_store(str(tiny_graph)) as store:
        assert store.get_node("RECORD:" + "a" * 32).attributes == {"digest": "01"}
        assert [e.end for e in store.neighbours("RECORD:" + "a" * 32, edge_types=[EdgeType.MENTIONS])] == [disease]
        assert records_digest(store) == "0000000000000001" and store.graph_version == version


def _record(letter: str) -> Concept:
    return Concept("RECORD:" + letter * 32, NodeLabel.RECORD, f"record {letter}", attributes={"digest": "01"})


def test_a_record_written_during_a_build_is_carried_and_one_waiting_at_the_swap_is_refused(tiny_graph):
    from kg.records_carry import previous_records, write_records

    server = open_store(str(tiny_graph))
    refused: list[str] = []

    def ingest_late() -> None:
        try:
            server.upsert_nodes([_record("c")])
        except StoreError as error:
            refused.append(str(error))

    waiting = threading.Thread(target=ingest_late)

    def carry(new) -> None:
        write_records(new, previous_records(lambda: open_store(str(tiny_graph))))
        waiting.start()
        # The server's write now waits for the lock this swap holds.
        time.sleep(0.5)
        assert waiting.is_alive()

    with staged_store(tiny_graph, before_swap=carry) as new:
        new.set_meta({"graph_version": "next"})
        server.upsert_nodes([_record("b")])
    waiting.join(timeout=10)
    assert refused and "replaced" in refused[0]
    with open_store(str(tiny_graph)) as store:
        assert store.graph_version == "next"
        assert store.get_node("RECORD:" + "b" * 32) is not None
        assert store.get_node("RECORD:" + "c" * 32) is None
    with pytest.raises(StoreError, match="replaced"):
        server.upsert_nodes([_record("d")])
    server.close()
