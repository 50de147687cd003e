"""Record ingest on Spark: the NLP on executors, the record statistics as a Spark aggregation, the store written
by the driver.

- Executors run the pipeline over partitions (`mapPartitions`), loading it once per Python worker from the
  pipeline folder: a path every executor can read (the default: the driver's cache folder, right in local
  mode and when the data folder is on shared storage), or shipped with the job (`ship_pipeline`, through
  `SparkContext.addFile`). Each record is read by `nlp.ingest.read_record`, as in one process.
- Mentions go to Parquet, one row per mention: the keyed record hash, offsets, concept, its type, assertion,
  section, method and confidence; never the note's text.
- The driver writes records and MENTIONS edges in input order through `Ingester.write`, as the single-process
  path does, 512 records at a time; every write is an upsert on a deterministic key, so a job killed halfway
  and run again writes nothing twice.
- The disease-finding co-occurrence counts are aggregated on the cluster over the present mentions (this job's,
  and the stored ones of records it did not touch); the driver turns them into edges with the same function
  as the incremental path (`nlp.ingest.pair_edge`) and writes them per disease.

Record text is not stored by this path (CDSS_STORE_RECORD_TEXT is refused): sealing would need the data key
on every executor.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from cdss.batching import batched
from cdss.errors import ConfigError, InputError
from cdss.record_ids import hashed_record_id
from cdss.types import Edge, EdgeType, NodeLabel
from kg.store import GraphStore
from nlp.ingest import Ingester, IngestReport, ReadRecord, pair_edge, read_record, record_provenance
from nlp.pipeline import annotate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from spacy.language import Language

MENTION_COLUMNS = (
    "record_id",
    "start",
    "end",
    "concept_id",
    "concept_type",
    "assertion",
    "section",
    "method",
    "confidence",
)
MENTION_SCHEMA = (
    "record_id string, start int, end int, concept_id string, concept_type string, assertion string, "
    "section string, method string, confidence double"
)
WRITE_BATCH = 512
"""Records the driver writes together (three store writes for each run of them)."""
_PIPELINES: dict[str, Language] = {}


@dataclass(frozen=True, slots=True)
class ExecutorPlan:
    """What an executor needs to read records: where the pipeline is, the record-id key, the limits."""

    pipeline: str
    shipped: bool
    key: bytes
    max_chars: int
    batch_size: int


def executor_pipeline(plan: ExecutorPlan) -> Language:
    """The pipeline, loaded once per Python worker and kept for the next partitions it runs."""
    import spacy

    if plan.pipeline not in _PIPELINES:
        path = plan.pipeline
        if plan.shipped:
            from pyspark import SparkFiles

            path = SparkFiles.get(plan.pipeline)
        _PIPELINES[plan.pipeline] = spacy.load(path)
    return _PIPELINES[plan.pipeline]


def read_partition(plan: ExecutorPlan, rows: Iterable) -> Iterator[tuple]:
    """(node id, digest, mentions, words, MENTIONS edges as JSON, mention rows) per record, in input order."""
    nlp = executor_pipeline(plan)
    provenance = record_provenance(nlp)
    for batch in batched(rows, plan.batch_size):
        docs = annotate(nlp, [row[1] for row in batch], max_chars=plan.max_chars, batch_size=plan.batch_size)
        for row, doc in zip(batch, docs, strict=True):
            read = read_record(hashed_record_id(row[0], plan.key), doc, provenance)
            yield (
                read.node_id,
                read.digest,
                read.mentions,
                read.words,
                json.dumps([e.to_dict() for e in read.edges]),
                [mention_row(m) for m in read.rows],
            )


def edge_list(edges_json: str) -> list[Edge]:
    return [Edge.from_dict(e) for e in json.loads(edges_json)]


def mention_row(mention) -> tuple:
    return (
        mention.record_id,
        mention.start,
        mention.end,
        mention.concept_id,
        str(mention.concept_type) if mention.concept_type else None,
        mention.assertion.value,
        mention.section,
        mention.method.value,
        float(mention.confidence),
    )


def present_mentions(read: tuple) -> list[tuple[str, str, str]]:
    """(record, concept, concept type) of each present Disease or Finding mention of one read record."""
    edges = json.loads(read[4])
    return [
        (read[0], e["end"], e["attributes"]["concept_type"])
        for e in edges
        if e["attributes"].get("present")
        and e["attributes"].get("concept_type") in (NodeLabel.DISEASE.value, NodeLabel.FINDING.value)
    ]


def contiguous(partitions: int, count: int, index: int) -> int:
    """The partition of the record at `index`: the first count/partitions records go to the first, and so on."""
    return min(partitions - 1, index * partitions // count)


def check_records(frame: DataFrame) -> int:
    """The number of records; an id that is missing or blank, or a text that is missing, is an InputError."""
    from pyspark.sql import functions as F

    bad = frame.filter(F.col("id").isNull() | (F.trim("id") == "") | F.col("text").isNull())
    count = bad.count()
    if count:
        raise InputError(f"{count:,} records have no id or no text")
    return frame.count()


def pair_counts(present: DataFrame, *, min_pair_count: int) -> list[tuple[str, str, int, int, int]]:
    """(disease, finding, records with both, with the disease, with the finding) for every pair seen together in
    at least `min_pair_count` records: a Spark aggregation, so only the pairs come back to the driver."""
    from pyspark.sql import functions as F

    present = present.distinct()
    per_concept = present.groupBy("concept").agg(F.countDistinct("record").alias("n"))
    diseases = present.filter(F.col("kind") == NodeLabel.DISEASE.value).select("record", F.col("concept").alias("d"))
    findings = present.filter(F.col("kind") == NodeLabel.FINDING.value).select("record", F.col("concept").alias("f"))
    pairs = (
        diseases.join(findings, "record")
        .groupBy("d", "f")
        .agg(F.count("*").alias("n_both"))
        .filter(F.col("n_both") >= min_pair_count)
    )
    with_counts = pairs.join(per_concept.select(F.col("concept").alias("d"), F.col("n").alias("n_d")), "d").join(
        per_concept.select(F.col("concept").alias("f"), F.col("n").alias("n_f")), "f"
    )
    rows = with_counts.select("d", "f", "n_both", "n_d", "n_f").collect()
    return sorted((r.d, r.f, r.n_both, r.n_d, r.n_f) for r in rows)


def ingest_on_spark(
    session: SparkSession,
    records: DataFrame,
    ingester: Ingester,
    *,
    pipeline_dir: Path,
    ship_pipeline: bool,
    mentions_out: str | None,
    partitions: int | None = None,
    batch_size: int = 32,
) -> IngestReport:
    """Ingest `records` (id, text) into the ingester's store; mentions also to Parquet at `mentions_out`."""
    from pyspark import StorageLevel

    if ingester.store_text:
        raise ConfigError("the Spark engine does not store record text: unset CDSS_STORE_RECORD_TEXT for this job")
    started = time.perf_counter()
    clock = Phases()
    if ship_pipeline:
        session.sparkContext.addFile(str(pipeline_dir), recursive=True)
    plan = ExecutorPlan(
        pipeline=pipeline_dir.name if ship_pipeline else str(pipeline_dir),
        shipped=ship_pipeline,
        key=ingester.key,
        max_chars=ingester.max_chars,
        batch_size=batch_size,
    )
    count = check_records(records)
    clock.done("check")
    partitions = partitions or 2 * session.sparkContext.defaultParallelism
    # The aggregation's shuffles: Spark's default of 200 partitions costs more than it gives at this size.
    session.conf.set("spark.sql.shuffle.partitions", str(partitions))
    # Spread over the cores in contiguous runs of the input, so the driver still writes in input order (a
    # record id sent twice ends as its last text, as in one process).
    rows = (
        records.rdd.map(lambda r: (r["id"].strip(), r["text"]))
        .zipWithIndex()
        .map(lambda pair: (pair[1], pair[0]))
        .repartitionAndSortWithinPartitions(partitions, partial(contiguous, partitions, max(count, 1)))
        .values()
    )
    read = rows.mapPartitions(partial(read_partition, plan)).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        if mentions_out is not None:
            session.createDataFrame(read.flatMap(lambda r: r[5]), MENTION_SCHEMA).write.mode("overwrite").parquet(
                mentions_out
            )
        else:
            read.count()
        clock.done("nlp")
        report, touched, written = IngestReport(), set(), set()
        for rows in batched(read.toLocalIterator(), WRITE_BATCH):
            reads = [(ReadRecord(r[0], edge_list(r[4]), r[1], r[2], r[3], []), "") for r in rows]
            ingester.write(reads, report, touched)
            written.update(r[0] for r in rows)
        clock.done("writes")
        present = read.flatMap(present_mentions)
        stored = [
            (e.start, e.end, e.attributes.get("concept_type"))
            for e in ingester.store.iter_edges(edge_type=EdgeType.MENTIONS, start_label=NodeLabel.RECORD)
            if e.start not in written and e.attributes.get("present")
        ]
        frame = session.createDataFrame(
            present.union(session.sparkContext.parallelize(stored, 1)), "record string, concept string, kind string"
        )
        counts = pair_counts(frame, min_pair_count=ingester.min_pair_count)
        clock.done("aggregation")
    finally:
        read.unpersist()
    report.pair_edges_written, report.pair_edges_removed = write_pair_edges(
        ingester, counts, touched=touched, present_diseases={d for d, *_ in counts}
    )
    clock.done("edges")
    report.phases = clock.seconds
    report.seconds = time.perf_counter() - started
    return report


class Phases:
    """Seconds spent in each phase of a job, in order."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = round(now - self._last, 2)
        self._last = now


def write_pair_edges(
    ingester: Ingester, counts: list[tuple[str, str, int, int, int]], *, touched: set[str], present_diseases: set[str]
) -> tuple[int, int]:
    """Make the aggregated pairs the record-derived edges of every disease they or this job touched."""
    store: GraphStore = ingester.store
    total = store.stats().nodes_by_label.get(NodeLabel.RECORD.value, 0)
    by_disease: dict[str, list[Edge]] = defaultdict(list)
    for disease, finding, n_both, n_disease, n_finding in counts:
        edge = pair_edge(
            disease,
            finding,
            counts=(n_both, n_disease, n_finding, total),
            provenance=ingester.provenance,
            min_pair_count=ingester.min_pair_count,
        )
        if edge is not None:
            by_disease[disease].append(edge)
    nodes = store.get_nodes(sorted(touched))
    diseases = present_diseases | {c for c, node in nodes.items() if node.label == NodeLabel.DISEASE}
    written = removed = 0
    for disease in sorted(diseases):
        done, gone = ingester.replace_pair_edges(disease, by_disease.get(disease, []))
        written, removed = written + done, removed + gone
    return written, removed
