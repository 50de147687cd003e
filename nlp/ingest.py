"""Records into the graph: `Record` nodes, `MENTIONS` edges, and record-derived
disease-finding statistics.

Each record is stored under a keyed hash of its id; its text only if the
settings say so. Re-ingesting a record replaces its mentions. Diseases and
findings mentioned as *present* in the same records become `HAS_FINDING`
edges with source `records` (kept apart from curated edges by their source),
carrying co-occurrence counts, pointwise mutual information and a noisy-OR
weight estimated as in Rotmensch et al. 2017 (Sci Rep 7:5994):
w = 1 - (1 - P(f|d)) / (1 - P(f|not d)). They are updated for the diseases
and findings each batch of records touches.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.tokens import Doc

from cdss.batching import batched
from cdss.errors import ConfigError
from cdss.json_fields import json_fields
from cdss.progress import progress
from cdss.record_ids import hashed_record_id
from cdss.sealing import SEALED_TEXT, DataKeyring, seal
from cdss.types import Assertion, Concept, Edge, EdgeKey, EdgeType, Mention, NodeLabel, Provenance
from deid import deidentify
from kg.records_carry import RECORDS_SOURCE
from kg.store import Direction, GraphStore
from nlp.mentions import doc_mentions
from nlp.pipeline import annotate, pipeline_version
from nlp.records import RecordInput

SOURCE = RECORDS_SOURCE
LICENSE = "Derived from this deployment's own records; not for redistribution"
ASSERTION_ORDER = [a.value for a in Assertion]
PAIR_LABELS = {NodeLabel.DISEASE.value, NodeLabel.FINDING.value}


_PUBLIC_NAMES = {
    "pair_edges_written": "record_derived_edges_written",
    "pair_edges_removed": "record_derived_edges_removed",
}


@dataclass(slots=True)
class IngestReport:
    records: int = 0
    new: int = 0
    replaced: int = 0
    mentions: int = 0
    words: int = 0
    pair_edges_written: int = 0
    pair_edges_removed: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase, where the engine reports them (the Spark path: check, nlp, writes, aggregation, edges)."""

    def to_dict(self) -> dict:
        return {
            **json_fields(self, rename=_PUBLIC_NAMES, rounded={"seconds": 2}),
            "records_per_second": round(self.records / self.seconds, 1) if self.seconds else None,
        }


def mention_edges(record_node: str, mentions: list[Mention], provenance: Provenance) -> list[Edge]:
    """One MENTIONS edge per linked concept, summarising all its mentions in the record."""
    grouped: dict[str, list[Mention]] = defaultdict(list)
    for mention in mentions:
        if mention.concept_id:
            grouped[mention.concept_id].append(mention)
    edges = []
    for concept_id, found in sorted(grouped.items()):
        assertions = sorted({m.assertion.value for m in found}, key=ASSERTION_ORDER.index)
        edges.append(
            Edge(
                EdgeType.MENTIONS,
                record_node,
                concept_id,
                provenance,
                {
                    "assertion": assertions[0],
                    "assertions": assertions,
                    "present": Assertion.PRESENT.value in assertions,
                    "concept_type": str(found[0].concept_type) if found[0].concept_type else None,
                    "sections": sorted({m.section for m in found if m.section}),
                    "methods": sorted({m.method.value for m in found}),
                    "count": len(found),
                    "confidence": max(m.confidence for m in found),
                    "spans": [f"{m.start}:{m.end}" for m in found],
                },
            )
        )
    return edges


def _digest(record_node: str, edges: list[Edge]) -> int:
    content = json.dumps([record_node, [e.to_dict() for e in edges]], sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(content).digest()[:8], "big")


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One record as the pipeline read it: all the store needs, made without the store, so that it can be made
    anywhere (a Spark executor) and written by one process."""

    node_id: str
    edges: list[Edge]
    digest: int
    mentions: int
    words: int
    rows: list[Mention]


def read_record(node_id: str, doc: Doc, provenance: Provenance) -> ReadRecord:
    """The record's mentions, its MENTIONS edges and its digest, from the pipeline's Doc."""
    mentions = doc_mentions(doc, node_id)
    edges = mention_edges(node_id, mentions, provenance)
    words = sum(1 for t in doc if not t.is_space and not t.is_punct)
    return ReadRecord(node_id, edges, _digest(node_id, edges), len(mentions), words, mentions)


def record_provenance(nlp: Language) -> Provenance:
    """The provenance of record-derived edges: this deployment's records, read by this pipeline version."""
    return Provenance(source=SOURCE, version=pipeline_version(nlp), license=LICENSE)


def pair_edge(
    disease: str, finding: str, *, counts: tuple[int, int, int, int], provenance: Provenance, min_pair_count: int
) -> Edge | None:
    """The record-derived HAS_FINDING edge from co-occurrence counts (both, disease, finding, all records), or
    None when the pair is too rare or not positively associated (PMI <= 0). One function for the incremental
    update here and the cluster's aggregation (cluster/ingest.py), so both give the same edges."""
    n_both, n_disease, n_finding, total = counts
    if n_both < min_pair_count:
        return None
    pmi = math.log(n_both * total / (n_disease * n_finding)) if total else 0.0
    if pmi <= 0:
        return None
    given = n_both / n_disease
    without = (n_finding - n_both) / (total - n_disease) if total > n_disease else 0.0
    noisy_or = max(0.0, 1.0 - (1.0 - given) / (1.0 - without)) if without < 1 else 0.0
    attributes = {
        "n_both": n_both,
        "n_disease": n_disease,
        "n_finding": n_finding,
        "n_records": total,
        "p_finding_given_disease": round(given, 6),
        "pmi": round(pmi, 6),
        "noisy_or": round(noisy_or, 6),
    }
    return Edge(EdgeType.HAS_FINDING, disease, finding, provenance, attributes)


class Ingester:
    """Writes records and their mentions into a store, keeping record statistics current."""

    def __init__(
        self,
        store: GraphStore,
        nlp: Language,
        *,
        key: bytes,
        max_chars: int,
        store_text: bool = False,
        deid_mode: str | None = "surrogates",
        keyring: DataKeyring | None = None,
        ingested_by: str | None = None,
        min_pair_count: int = 2,
    ) -> None:
        """With `store_text`, each text is de-identified (`deid_mode`; None keeps it as sent) and the NLP reads
        the de-identified text, so the stored mention offsets hold against what is stored; the text is then
        sealed with `keyring` before it is written. `ingested_by` names the API key, for record visibility."""
        if store_text and keyring is None:
            raise ConfigError("storing record text needs a data keyring to seal it with")
        self.store = store
        self.nlp = nlp
        self.key = key
        self.max_chars = max_chars
        self.store_text = store_text
        self.deid_mode = deid_mode
        self.keyring = keyring
        self.ingested_by = ingested_by
        self.min_pair_count = min_pair_count
        self.provenance = record_provenance(nlp)

    def ingest(
        self,
        records: Iterable[RecordInput],
        *,
        batch_size: int = 32,
        n_process: int = 1,
        show_progress: bool | None = None,
    ) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        touched: set[str] = set()
        for batch in batched(
            progress(records, desc="ingesting records", enabled=show_progress, unit="record"), batch_size
        ):
            texts = [self._text_to_read(r) for r in batch]
            docs = annotate(self.nlp, texts, max_chars=self.max_chars, batch_size=batch_size, n_process=n_process)
            reads = [
                (read_record(hashed_record_id(record.id, self.key), doc, self.provenance), text)
                for record, text, doc in zip(batch, texts, docs, strict=True)
            ]
            self.write(reads, report, touched)
        written, removed = self.update_statistics(touched)
        report.pair_edges_written, report.pair_edges_removed = written, removed
        report.seconds = time.perf_counter() - started
        return report

    def write(self, reads: Sequence[tuple[ReadRecord, str]], report: IngestReport, touched: set[str]) -> None:
        """Put read records (each with the text to store) into the store in place of what they had, in input
        order; the concepts whose record statistics change go into `touched`.

        Three writes for a run of distinct records rather than three for each: the commits were 70% of the
        time of writing one record at a time. A record sent twice starts a new run, so its last text wins.
        """
        for run in _distinct_runs(reads):
            previous = self.store.get_nodes([read.node_id for read, _ in run])
            old_keys: list[EdgeKey] = []
            nodes: list[Concept] = []
            for read, text in run:
                old_edges = self.store.neighbours(read.node_id, edge_types=[EdgeType.MENTIONS], direction=Direction.OUT)
                old_keys.extend(e.key for e in old_edges)
                touched.update(e.end for e in old_edges if e.attributes.get("present"))
                touched.update(e.end for e in read.edges if e.attributes["present"])
                nodes.append(self._record_node(read, text, previous.get(read.node_id)))
                report.replaced += read.node_id in previous
                report.new += read.node_id not in previous
                report.records += 1
                report.mentions += read.mentions
                report.words += read.words
            self.store.delete_edges(old_keys)
            self.store.upsert_nodes(nodes)
            self.store.upsert_edges([edge for read, _ in run for edge in read.edges])

    def _record_node(self, read: ReadRecord, text: str, previous: Concept | None) -> Concept:
        attributes: dict = {"mentions": read.mentions, "digest": f"{read.digest:016x}"}
        if self.store_text:
            attributes[SEALED_TEXT] = seal(text, keyring=self.keyring, aad=read.node_id)
            attributes["deid_mode"] = self.deid_mode or "off"
        readers = set(previous.attributes.get("ingested_by", ())) if previous is not None else set()
        if self.ingested_by:
            readers.add(self.ingested_by)
        if readers:
            attributes["ingested_by"] = sorted(readers)
        return Concept(
            read.node_id, NodeLabel.RECORD, f"record {read.node_id[7:15]}", sources=(SOURCE,), attributes=attributes
        )

    def _text_to_read(self, record: RecordInput) -> str:
        """The text the NLP reads: de-identified first when it will be stored."""
        if not (self.store_text and self.deid_mode):
            return record.text
        return deidentify(record.text, mode=self.deid_mode, key=self.key, record_id=record.id).text

    def _present_records(self, concept_id: str) -> set[str]:
        return {
            e.start
            for e in self.store.neighbours(concept_id, edge_types=[EdgeType.MENTIONS], direction=Direction.IN)
            if e.attributes.get("present")
        }

    def update_statistics(self, touched: set[str]) -> tuple[int, int]:
        """Recompute the record-derived edges of every disease whose counts the batch changed."""
        if not touched:
            return 0, 0
        total = self.store.stats().nodes_by_label.get(NodeLabel.RECORD.value, 0)
        mentioned: dict[str, tuple[set[str], set[str]]] = {}

        def present_in(record: str) -> tuple[set[str], set[str]]:
            if record not in mentioned:
                diseases, findings = set(), set()
                for e in self.store.neighbours(record, edge_types=[EdgeType.MENTIONS], direction=Direction.OUT):
                    if e.attributes.get("present"):
                        kind = e.attributes.get("concept_type")
                        (
                            diseases if kind == NodeLabel.DISEASE.value else findings if kind in PAIR_LABELS else set()
                        ).add(e.end)
                mentioned[record] = (diseases, findings)
            return mentioned[record]

        records_of: dict[str, set[str]] = {}

        def records_with(concept: str) -> set[str]:
            if concept not in records_of:
                records_of[concept] = self._present_records(concept)
            return records_of[concept]

        diseases: set[str] = set()
        for concept in touched:
            for record in records_with(concept):
                found_diseases, _ = present_in(record)
                diseases |= found_diseases
            node = self.store.get_node(concept)
            if node is not None and node.label == NodeLabel.DISEASE:
                diseases.add(concept)
        written = removed = 0
        for disease in sorted(diseases):
            pair_counts = Counter(f for r in records_with(disease) for f in present_in(r)[1])
            n_disease = len(records_with(disease))
            edges = []
            for finding, n_both in sorted(pair_counts.items()):
                edge = pair_edge(
                    disease,
                    finding,
                    counts=(n_both, n_disease, len(records_with(finding)), total),
                    provenance=self.provenance,
                    min_pair_count=self.min_pair_count,
                )
                if edge is not None:
                    edges.append(edge)
            done, gone = self.replace_pair_edges(disease, edges)
            written, removed = written + done, removed + gone
        return written, removed

    def replace_pair_edges(self, disease: str, edges: list[Edge]) -> tuple[int, int]:
        """Make `edges` the disease's record-derived HAS_FINDING edges: (written, removed)."""
        keep = {e.key for e in edges}
        stale: list[EdgeKey] = [
            e.key
            for e in self.store.neighbours(disease, edge_types=[EdgeType.HAS_FINDING], direction=Direction.OUT)
            if e.provenance.source == SOURCE and e.key not in keep
        ]
        return self.store.upsert_edges(edges), self.store.delete_edges(stale)


def record_edge_precision(store: GraphStore, *, hops: int = 1, min_support: int = 1) -> dict:
    """How many record-derived disease-finding edges the curated sources confirm.

    Counted over diseases that have both kinds of edge: exactly (same finding),
    and allowing the finding to be within `hops` IS_A steps of a curated one.
    Record edges seen in fewer than `min_support` records are left out, to show
    how precision grows with support.
    """
    record_pairs: dict[str, set[str]] = defaultdict(set)
    curated: dict[str, set[str]] = defaultdict(set)
    for edge in store.iter_edges(edge_type=EdgeType.HAS_FINDING):
        if edge.provenance.source != SOURCE:
            curated[edge.start].add(edge.end)
        elif edge.attributes.get("n_both", 0) >= min_support:
            record_pairs[edge.start].add(edge.end)
    neighbours: dict[str, set[str]] = {}

    def near(finding: str) -> set[str]:
        if finding not in neighbours:
            frontier, seen = {finding}, {finding}
            for _ in range(hops):
                frontier = {
                    (e.end if e.start == f else e.start)
                    for f in frontier
                    for e in store.neighbours(f, edge_types=[EdgeType.IS_A])
                } - seen
                seen |= frontier
            neighbours[finding] = seen
        return neighbours[finding]

    shared = [d for d in record_pairs if d in curated]
    total = sum(len(record_pairs[d]) for d in shared)
    exact = sum(len(record_pairs[d] & curated[d]) for d in shared)
    close = sum(1 for d in shared for f in record_pairs[d] if near(f) & curated[d])
    return {
        "diseases_with_both": len(shared),
        "record_edges_on_those": total,
        "precision_exact": round(exact / total, 4) if total else None,
        f"precision_within_{hops}_is_a": round(close / total, 4) if total else None,
        "record_edges_total": sum(len(v) for v in record_pairs.values()),
    }


def _distinct_runs(reads: Sequence[tuple[ReadRecord, str]]) -> Iterator[list[tuple[ReadRecord, str]]]:
    """The reads in order, cut before any record already in the current run."""
    run: list[tuple[ReadRecord, str]] = []
    seen: set[str] = set()
    for item in reads:
        if item[0].node_id in seen:
            yield run
            run, seen = [], set()
        run.append(item)
        seen.add(item[0].node_id)
    if run:
        yield run
