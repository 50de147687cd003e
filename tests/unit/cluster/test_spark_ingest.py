"""Record ingest on Spark in local[2] against the single-process path, on the tiny graph."""

from __future__ import annotations

import shutil

import pytest
import spacy
from spark_ingest import dump

from cdss.errors import InputError
from cdss.record_ids import hashed_record_id
from cluster.ingest import ingest_on_spark, mention_row
from cluster.session import read_records, spark_session
from kg import open_store
from nlp.ingest import Ingester
from nlp.mentions import doc_mentions
from nlp.records import RecordInput, read_csv

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cdss[spark]')")
if shutil.which("java") is None:
    pytest.skip("Java is not on the PATH; Spark needs it", allow_module_level=True)


KEY = b"k" * 32
NOTES = [
    "Pneumonia with fever and cough. No seizures.",
    "Pneumonia; fever. Mother had seizures.",
    "Cystic fibrosis with cough.",
    "Fever and cough for three days; pneumonia on the film.",
    "No fever. Cough since last week.",
    "Seizures, then fever. History of pneumonia.",
]
RECORDS = [RecordInput(f"MRN-{n:03d}", NOTES[n % len(NOTES)]) for n in range(14)]


@pytest.fixture(scope="module")
def spark():
    session = spark_session(master="local[2]", app_name="cdss tests", shuffle_partitions=4, progress=False)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def pipeline_dir(pipeline, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipeline") / "pipeline"
    pipeline.to_disk(folder)
    return folder


def ingester(path, pipeline_dir) -> Ingester:
    return Ingester(open_store(str(path)), spacy.load(pipeline_dir), key=KEY, max_chars=10_000, min_pair_count=1)


def frame(spark, records):
    return spark.createDataFrame([(r.id, r.text) for r in records], "id string, text string")


@pytest.fixture(scope="module")
def single_process(graph, pipeline_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("single") / "g.sqlite"
    shutil.copyfile(graph, path)
    one = ingester(path, pipeline_dir)
    report = one.ingest(RECORDS)
    one.store.close()
    return path, report


def test_spark_gives_the_same_records_mentions_and_statistics_as_one_process(
    spark, graph, pipeline_dir, single_process, tmp_path
):
    path = tmp_path / "g.sqlite"
    shutil.copyfile(graph, path)
    on_spark = ingester(path, pipeline_dir)
    report = ingest_on_spark(
        spark,
        frame(spark, RECORDS),
        on_spark,
        pipeline_dir=pipeline_dir,
        ship_pipeline=False,
        mentions_out=str(tmp_path / "mentions.parquet"),
        partitions=3,
    )
    on_spark.store.close()
    expected_path, expected = single_process
    assert (report.records, report.new, report.replaced, report.mentions, report.words) == (
        expected.records,
        expected.new,
        expected.replaced,
        expected.mentions,
        expected.words,
    )
    assert report.pair_edges_written == expected.pair_edges_written > 0
    assert dump(path) == dump(expected_path)
    nlp = spacy.load(pipeline_dir)
    wanted = sorted(mention_row(m) for r in RECORDS for m in doc_mentions(nlp(r.text), hashed_record_id(r.id, KEY)))
    written = sorted(tuple(row) for row in spark.read.parquet(str(tmp_path / "mentions.parquet")).collect())
    assert written == wanted and len(written) == expected.mentions


def test_a_job_run_again_after_stopping_halfway_writes_nothing_twice(
    spark, graph, pipeline_dir, single_process, tmp_path
):
    path = tmp_path / "g.sqlite"
    shutil.copyfile(graph, path)
    first = ingester(path, pipeline_dir)
    ingest_on_spark(
        spark,
        frame(spark, RECORDS[:6]),
        first,
        pipeline_dir=pipeline_dir,
        ship_pipeline=False,
        mentions_out=str(tmp_path / "m.parquet"),
    )
    again = ingest_on_spark(
        spark,
        frame(spark, RECORDS),
        first,
        pipeline_dir=pipeline_dir,
        ship_pipeline=True,
        mentions_out=str(tmp_path / "m.parquet"),
    )
    first.store.close()
    assert (again.new, again.replaced) == (8, 6)
    assert dump(path) == dump(single_process[0])
    assert spark.read.parquet(str(tmp_path / "m.parquet")).count() == single_process[1].mentions


def test_a_record_without_text_is_refused_before_anything_is_written(spark, graph, pipeline_dir, tmp_path):
    path = tmp_path / "g.sqlite"
    shutil.copyfile(graph, path)
    bad = spark.createDataFrame([("a", "Fever."), ("b", None), (" ", "Cough.")], "id string, text string")
    with pytest.raises(InputError, match="2 records have no id or no text"):
        ingest_on_spark(
            spark, bad, ingester(path, pipeline_dir), pipeline_dir=pipeline_dir, ship_pipeline=False, mentions_out=None
        )
    with open_store(str(path)) as store:
        assert store.stats().nodes_by_label.get("Record", 0) == 0


def test_spark_reads_csv_as_the_single_process_reader_does(spark, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"Fever, cough\nand ""chills"""\n2,plain\n 3 ,"multi\n\nline"\n', encoding="utf-8")
    mine = [(r.id, r.text) for r in read_csv(path, id_field="id", text_field="note")]
    theirs = read_records(spark, str(path), form="csv", id_field="id", text_field="note").collect()
    assert [(r["id"].strip(), r["text"]) for r in theirs] == mine
