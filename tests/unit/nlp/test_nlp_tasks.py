"""Corpora, evaluation, NER training, and records into the graph, on tiny written fixtures."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner

from cdss.errors import ConfigError, InputError, SourceParseError
from cdss.record_ids import hashed_record_id
from cdss.sealing import SEALED_TEXT, load_keyring, unseal
from cdss.types import EdgeType, NodeLabel
from cli import cli
from kg import Direction, open_store
from kg.records_carry import records_digest
from nlp import build_pipeline
from nlp.corpora import read_conll, read_pubtator
from nlp.evaluate import evaluate
from nlp.extensions import candidate_link
from nlp.ingest import SOURCE, Ingester, record_edge_precision
from nlp.records import RecordInput, read_records

LIMIT = 100_000
KEY = b"k" * 32

PUBTATOR = """\
1|t|Fever and pneumonia.
1|a|Amoxicillin helped the pneumonia.
1\t0\t5\tFever\tDisease\tD005334
1\t10\t19\tpneumonia\tDisease\tD011014
1\t21\t32\tAmoxicillin\tChemical\tD000658
1\t44\t53\tpneumonia\tDisease\tD011014
1\tCID\tD000658\tD011014

2|t|Seizures.
2|a|No cough, a rash.
2\t0\t8\tSeizures\tSpecificDisease\tD012640
2\t22\t26\trash\tDisease\t-1
"""
CONLL = "Fever\tB-Disease\nand\tO\nacute\tB-Disease\npneumonia\tI-Disease\n.\tO\n\nAmoxicillin\tB-Chemical\n.\tO\n"


def test_read_pubtator(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text(PUBTATOR)
    [first, second] = read_pubtator(path)
    assert first.text == "Fever and pneumonia. Amoxicillin helped the pneumonia."
    assert [(m.start, m.end, m.type, m.ids) for m in first.mentions][:3] == [
        (0, 5, "Disease", ("MESH:D005334",)),
        (10, 19, "Disease", ("MESH:D011014",)),
        (21, 32, "Chemical", ("MESH:D000658",)),
    ]
    assert [(m.type, m.ids) for m in second.mentions] == [("Disease", ("MESH:D012640",)), ("Disease", ())]


def test_pubtator_offsets_that_do_not_match_name_the_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(PUBTATOR.replace("1\t10\t19\tpneumonia", "1\t11\t19\tpneumonia"))
    with pytest.raises(SourceParseError, match=r"bad\.txt:4: offsets 11-19 give 'neumonia'"):
        read_pubtator(path)


def test_read_conll(tmp_path):
    path = tmp_path / "c.tsv"
    path.write_text(CONLL)
    first, second = read_conll(path)
    assert first.text == "Fever and acute pneumonia ."
    assert [(first.text[m.start : m.end], m.type) for m in first.mentions] == [
        ("Fever", "Disease"),
        ("acute pneumonia", "Disease"),
    ]
    assert [(second.text[m.start : m.end], m.type) for m in second.mentions] == [("Amoxicillin", "Chemical")]


def test_evaluation_counts_exact_and_overlapping_spans_and_linking(tmp_path, graph, pipeline):
    path = tmp_path / "c.txt"
    path.write_text(PUBTATOR)
    with open_store(str(graph)) as store:
        report = evaluate(pipeline, read_pubtator(path), max_chars=LIMIT, store=store).to_dict()
    # Found: Fever, pneumonia x2, Amoxicillin, Seizures; cough is found but not gold; rash is missed.
    assert report["exact"]["Disease"] == {"precision": 0.8, "recall": 0.8, "f1": 0.8, "tp": 4, "fp": 1, "fn": 1}
    assert report["exact"]["Chemical"]["f1"] == 1.0
    assert report["overlap"]["overall"]["tp"] == 5
    # Only DO pneumonia carries a MeSH id in the tiny graph: both pneumonia mentions link correctly.
    assert report["linking"]["accuracy"] == 1.0 and report["linking"]["evaluated"] == 2


def _tiny_bc5cdr(folder: Path) -> Path:
    from nlp.train import BC5CDR_DEV, BC5CDR_TRAIN

    folder.mkdir()
    docs = "\n".join(
        f"{i}|t|Fever and pneumonia after amoxicillin.\n{i}|a|Seizures on valproate.\n"
        f"{i}\t0\t5\tFever\tDisease\tD1\n{i}\t10\t19\tpneumonia\tDisease\tD2\n"
        f"{i}\t26\t37\tamoxicillin\tChemical\tD3\n{i}\t39\t47\tSeizures\tDisease\tD4\n"
        f"{i}\t51\t60\tvalproate\tChemical\tD5\n"
        for i in range(1, 9)
    )
    (folder / BC5CDR_TRAIN).write_text(docs)
    (folder / BC5CDR_DEV).write_text(docs)
    return folder


def test_training_with_devel_runs_the_given_epochs_and_keeps_the_last(tmp_path):
    from nlp.train import train_ner

    report = train_ner(
        _tiny_bc5cdr(tmp_path / "bc5cdr"), tmp_path / "ner", max_epochs=2, include_devel=True, width=16, depth=1
    )
    metrics = json.loads((tmp_path / "ner" / "training_metrics.json").read_text())
    assert (report.best_epoch, len(report.epochs), report.train_documents) == (2, 2, 16)
    assert metrics["devel_in_training"] is True and metrics["best_dev_ents_f"] is None
    assert all("dev_f" not in row for row in metrics["epochs"])
    assert spacy.load(tmp_path / "ner").meta["cdss"]["devel_in_training"] is True


def test_the_first_build_trains_the_ner_once_when_the_corpora_are_there(tmp_path):
    from nlp.train import DEFAULT_EPOCHS, ensure_ner

    said: list[str] = []
    assert ensure_ner(tmp_path / "nothing", tmp_path / "ner", log=said.append) is None
    assert "no BC5CDR training split" in said[0] and not (tmp_path / "ner").exists()
    _tiny_bc5cdr(tmp_path / "bc5cdr")
    report = ensure_ner(tmp_path, tmp_path / "ner", log=said.append)
    assert report is not None and len(report.epochs) == DEFAULT_EPOCHS and report.devel_in_training
    assert (tmp_path / "ner" / "meta.json").is_file()
    assert ensure_ner(tmp_path, tmp_path / "ner") is None, "a model already there is kept"


def test_training_saves_a_model_the_pipeline_can_use(tmp_path, graph):
    from nlp.pipeline import NerChoice
    from nlp.train import train_ner

    corpus = _tiny_bc5cdr(tmp_path / "bc5cdr")
    out = tmp_path / "ner"
    report = train_ner(corpus, out, max_epochs=8, patience=8, width=32, depth=1)
    assert report.best_f1 > 0.5
    assert json.loads((out / "training_metrics.json").read_text())["best_epoch"] == report.best_epoch
    assert (out / "training_curves.png").stat().st_size > 1000
    with open_store(str(graph)) as store:
        nlp = build_pipeline(store, ner=NerChoice(trained=out))
    assert "ner" in nlp.pipe_names
    text = "Fever and pneumonia after amoxicillin."
    alone = {(e.start_char, e.end_char, e.label_) for e in spacy.load(out)(text).ents}
    assert alone, "the tiny model should find something in its own training sentence"
    # Linking may refine a Disease entity to the Finding it names ("Fever"), never to a Drug.
    types = {"Chemical": {"Drug"}, "Disease": {"Disease", "Finding"}}
    doc = nlp(text)
    in_pipeline = {(s.start_char, s.end_char): candidate_link(s).type for s in doc.spans["cdss_ner"]}
    assert set(in_pipeline) == {(s, e) for s, e, _ in alone}
    assert all(in_pipeline[(s, e)] in types[label] for s, e, label in alone)


def _ingester(store, pipeline, **kwargs):
    return Ingester(store, pipeline, key=KEY, max_chars=LIMIT, min_pair_count=1, **kwargs)


RECORDS = [
    RecordInput("MRN-001", "Pneumonia with fever and cough. No seizures."),
    RecordInput("MRN-002", "Pneumonia; fever. Mother had seizures."),
    RecordInput("MRN-003", "Cystic fibrosis with cough."),
]


def test_ingest_writes_hashed_records_mentions_and_statistics(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    with open_store(str(path)) as store:
        report = _ingester(store, pipeline).ingest(RECORDS)
        assert (report.records, report.new, report.replaced) == (3, 3, 0)
        record = hashed_record_id("MRN-001", KEY)
        assert record.startswith("RECORD:") and "MRN" not in record
        node = store.get_node(record)
        assert node.label == NodeLabel.RECORD and "text" not in node.attributes
        mentions = {e.end: e.attributes for e in store.neighbours(record, edge_types=[EdgeType.MENTIONS])}
        assert mentions["DOID:552"]["assertion"] == "present" and mentions["HP:0001250"]["assertion"] == "negated"
        assert mentions["HP:0001945"]["spans"] == ["15:20"]
        derived = {
            (e.end, e.attributes["n_both"], e.attributes["n_disease"])
            for e in store.neighbours("DOID:552", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
            if e.provenance.source == SOURCE
        }
        # Both pneumonia records mention fever as present; seizures are negated or in family, so no edge.
        assert ("HP:0001945", 2, 2) in derived and not any(f == "HP:0001250" for f, *_ in derived)
        assert store.stats().nodes_by_label["Record"] == 3


def test_reingesting_a_record_replaces_its_mentions(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    with open_store(str(path)) as store:
        ingester = _ingester(store, pipeline)
        ingester.ingest(RECORDS)
        before = store.stats()
        digest = records_digest(store)
        ingester.ingest(RECORDS)
        assert (store.stats().edge_count, records_digest(store)) == (before.edge_count, digest)
        report = ingester.ingest([RecordInput("MRN-002", "Pneumonia without fever.")])
        assert report.replaced == 1
        record = hashed_record_id("MRN-002", KEY)
        ends = {e.end: e.attributes["assertion"] for e in store.neighbours(record, edge_types=[EdgeType.MENTIONS])}
        assert ends == {"DOID:552": "present", "HP:0001945": "negated"}
        derived = [
            e
            for e in store.neighbours("DOID:552", edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
            if e.provenance.source == SOURCE and e.end == "HP:0001945"
        ]
        assert derived[0].attributes["n_both"] == 1
        assert records_digest(store) != digest
        assert record_edge_precision(store)["diseases_with_both"] >= 1


def test_a_record_sent_twice_in_one_batch_ends_as_its_last_text(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    with open_store(str(path)) as store:
        sent = [*RECORDS, RecordInput("MRN-002", RECORDS[2].text), RecordInput("MRN-004", "Cough.")]
        report = _ingester(store, pipeline).ingest(sent, batch_size=32)
        assert (report.records, report.new, report.replaced) == (5, 4, 1)

        def mentioned(record_id: str) -> dict:
            record = hashed_record_id(record_id, KEY)
            return {e.end: e.attributes["assertion"] for e in store.neighbours(record, edge_types=[EdgeType.MENTIONS])}

        assert mentioned("MRN-002") == mentioned("MRN-003") and "DOID:552" not in mentioned("MRN-002")
        assert store.stats().nodes_by_label["Record"] == 4


def test_record_text_is_stored_only_when_asked(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    with open_store(str(path)) as store:
        _ingester(store, pipeline).ingest(RECORDS[:1])
        assert SEALED_TEXT not in store.get_node(hashed_record_id("MRN-001", KEY)).attributes
        with pytest.raises(ConfigError, match="keyring"):
            _ingester(store, pipeline, store_text=True)


def test_stored_text_is_deidentified_sealed_and_the_offsets_hold_against_it(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    keyring = load_keyring(tmp_path / "data-keys.json")
    note = "Pt John Smith seen at St. Mary's Hospital on 03/14/2023 with pneumonia, fever and cough."
    with open_store(str(path)) as store:
        _ingester(store, pipeline, store_text=True, keyring=keyring, deid_mode="tags").ingest([RecordInput("A", note)])
        node_id = hashed_record_id("A", KEY)
        stored = unseal(store.get_node(node_id).attributes[SEALED_TEXT], keyring=keyring, aad=node_id)
        assert stored.startswith("Pt [NAME] seen at [LOCATION] on [DATE] with pneumonia")
        spans = {
            e.end: [stored[int(a) : int(b)] for a, b in (s.split(":") for s in e.attributes["spans"])]
            for e in store.neighbours(node_id, edge_types=[EdgeType.MENTIONS])
        }
        assert spans["HP:0001945"] == ["fever"] and spans["DOID:552"] == ["pneumonia"]
    for value in ("John", "Smith", "Mary", "03/14/2023"):
        assert value.encode() not in path.read_bytes()


def test_reading_records(tmp_path):
    (tmp_path / "r.jsonl").write_text('{"id": "a", "text": "fever"}\n\n{"id": 2, "text": "cough"}\n')
    assert [r.id for r in read_records(tmp_path / "r.jsonl")] == ["a", "2"]
    (tmp_path / "r.csv").write_text('encounter_id,note\nx,"fever,\ncough"\n')
    assert list(read_records(tmp_path / "r.csv", id_field="encounter_id", text_field="note")) == [
        RecordInput("x", "fever,\ncough")
    ]
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "n1.txt").write_text("fever")
    assert list(read_records(folder)) == [RecordInput("n1", "fever")]


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        ("r.jsonl", b'{"id": "a"}\n', r"r\.jsonl:1: 'text' is missing or not a string"),
        ("r.jsonl", b"not json\n", r"r\.jsonl:1: not a JSON object"),
        ("r.jsonl", b'{"id": "a", "text": "caf\xe9"}\n', r"r\.jsonl:1: not UTF-8 text"),
        ("r.csv", b"id,body\n1,x\n", r"no column 'text'; columns are id, body"),
        ("r.xml", b"<x/>", r"expected a folder of \.txt files, a \.jsonl file or a \.csv file"),
    ],
)
def test_bad_record_files_are_named(tmp_path, name, content, error):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InputError, match=error):
        list(read_records(tmp_path / name))


def test_cli_assert_reports_accuracy_on_the_trap_suite():
    traps = Path(__file__).parents[2] / "data" / "assertion_traps.jsonl"
    result = CliRunner().invoke(cli, ["nlp", "assert", "--in", str(traps), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    spans = [span for line in traps.read_text().splitlines() if line.strip() for span in json.loads(line)["spans"]]
    plain = sum(1 for span in spans if len(span) == 3)
    assert report["accuracy"] == 1.0 and report["judged"] == plain >= 114
    assert report["needs_pipeline"] == len(spans) - plain >= 50, "spans naming a concept wait for --pipeline"


def test_cli_extract_and_ingest(tmp_path, graph, monkeypatch):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    monkeypatch.setenv("CDSS_STORE", str(path))
    note = tmp_path / "note.txt"
    note.write_text("No fever; pneumonia.")
    runner = CliRunner()
    result = runner.invoke(cli, ["nlp", "extract", str(note), "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    body = json.loads(result.output)
    assert [(m["concept_id"], m["assertion"]) for m in body["mentions"]] == [
        ("HP:0001945", "negated"),
        ("DOID:552", "present"),
    ]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fever \xff")
    result = runner.invoke(cli, ["nlp", "extract", str(bad)])
    assert result.exit_code == 2 and "is not UTF-8 text (invalid byte at offset 6)" in result.output
    records = tmp_path / "r.jsonl"
    records.write_text('{"id": "SECRET-MARKER-42", "text": "pneumonia and fever"}\n')
    result = runner.invoke(cli, ["ingest", "records", str(records), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["records"] == 1
    assert "SECRET-MARKER-42" not in path.read_bytes().decode("latin-1")


def test_the_records_digest_holds_after_concurrent_ingests(tmp_path, graph, pipeline):
    path = tmp_path / "g.sqlite"
    path.write_bytes(graph.read_bytes())
    with open_store(str(path)) as store:
        ingester = _ingester(store, pipeline)
        batches = [[RecordInput(f"A-{i}", "Pneumonia with fever.")] for i in range(4)]
        batches += [[RecordInput(f"B-{i}", "Cough without fever.")] for i in range(4)]
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(ingester.ingest, batches))
        stored = 0
        for record in store.iter_nodes(label=NodeLabel.RECORD):
            stored ^= int(record.attributes["digest"], 16)
        assert records_digest(store) == f"{stored:016x}" and store.stats().nodes_by_label["Record"] == 8
