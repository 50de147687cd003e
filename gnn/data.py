"""The graph as arrays for learning: node id maps, typed edges with their sources, node features.

Ids are assigned after sorting, so the same graph always gives the same
tensors. The export is cached per graph version. Node features need no
download:

- hashed character 3-grams of the name and synonyms (a fixed-size bag, L2-normalised);
- depth in the IS_A hierarchy;
- which vocabularies define the node (HPO, DO, ICD-10-CM...) and its id prefix.

Degree features depend on which edges a model may see, so they are added per
split (`node_features`), from that split's message-passing edges only. Sources
that only contribute indications (PharmacotherapyDB, DrugCentral, LabeledIn)
are not flags: a drug's "drugcentral" flag would tell a model it has a
DrugCentral indication.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cdss.errors import GraphModelError
from cdss.types import EdgeType, NodeLabel
from kg.store import GraphStore

NODE_TYPES = ("disease", "finding", "drug")
LABEL_TYPE = {NodeLabel.DISEASE: "disease", NodeLabel.FINDING: "finding", NodeLabel.DRUG: "drug"}
RELATIONS = {
    EdgeType.HAS_FINDING: ("disease", "has_finding", "finding"),
    EdgeType.EXCLUDES_FINDING: ("disease", "excludes_finding", "finding"),
    EdgeType.TREATS: ("drug", "treats", "disease"),
    EdgeType.PALLIATES: ("drug", "palliates", "disease"),
}
HIERARCHY = {"disease": ("disease", "is_a", "disease"), "finding": ("finding", "is_a", "finding")}
DIAGNOSIS = ("disease", "has_finding", "finding")
TREATMENT = ("drug", "treats", "disease")
PALLIATION = ("drug", "palliates", "disease")
TARGETS = (DIAGNOSIS, TREATMENT)
NON_INDICATIONS = ("drug", "not_indicated_for", "disease")
"""Kept for evaluation (hard negatives), never for message passing."""
RECORD_SOURCE = "records"
FLAG_SOURCES = ("hpo", "disease_ontology", "symptom_ontology", "icd10cm", "drug_dictionary", "ddxplus")
PREFIXES = ("HP", "SYMP", "DDXPLUS", "ICD10CM", "DOID", "OMIM", "ORPHA", "DECIPHER", "DRUGBANK", "MESH", "DRUGCENTRAL")
NGRAM_BUCKETS = 256
EXPORT_VERSION = "1"
_NON_WORD = re.compile(r"[^a-z0-9]+")

Relation = tuple[str, str, str]


def reverse(relation: Relation) -> Relation:
    head, name, tail = relation
    return (tail, f"rev_{name}", head)


@dataclass(slots=True)
class GraphExport:
    graph_version: str
    ids: dict[str, list[str]]
    edges: dict[Relation, np.ndarray]
    """relation -> int64 array of shape (2, E), sorted."""
    edge_sources: dict[Relation, list[tuple[str, ...]]]
    """relation -> the sources stating each edge, in the order of `edges`."""
    base_features: dict[str, np.ndarray]
    index: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {t: {node: i for i, node in enumerate(ids)} for t, ids in self.ids.items()}

    def count(self, node_type: str) -> int:
        return len(self.ids[node_type])


def _ngrams(texts: list[str]) -> np.ndarray:
    vector = np.zeros(NGRAM_BUCKETS, dtype=np.float32)
    for text in texts:
        padded = f" {_NON_WORD.sub(' ', text.casefold()).strip()} "
        for i in range(len(padded) - 2):
            vector[zlib.crc32(padded[i : i + 3].encode()) % NGRAM_BUCKETS] += 1.0
    norm = np.linalg.norm(vector)
    return vector / norm if norm else vector


def _depths(count: int, parents: dict[int, list[int]]) -> np.ndarray:
    """Shortest IS_A distance to a root, per node (roots and unconnected nodes: 0)."""
    children: dict[int, list[int]] = defaultdict(list)
    for child, ps in parents.items():
        for parent in ps:
            children[parent].append(child)
    depth = np.full(count, -1, dtype=np.int64)
    queue = deque(i for i in range(count) if not parents.get(i))
    for i in queue:
        depth[i] = 0
    while queue:
        node = queue.popleft()
        for child in children[node]:
            if depth[child] < 0:
                depth[child] = depth[node] + 1
                queue.append(child)
    depth[depth < 0] = 0
    return depth


def export_graph(store: GraphStore) -> GraphExport:
    """Read every node and edge the models learn from (record-derived edges are left out)."""
    version = store.graph_version
    if version is None:
        raise GraphModelError("the graph has no version: rebuild it with `cdss kg build`")
    nodes = {t: [] for t in NODE_TYPES}
    for concept in store.iter_nodes():
        node_type = LABEL_TYPE.get(concept.label)
        if node_type:
            nodes[node_type].append(concept)
    for node_type in NODE_TYPES:
        nodes[node_type].sort(key=lambda c: c.id)
    ids = {t: [c.id for c in nodes[t]] for t in NODE_TYPES}
    index = {t: {node: i for i, node in enumerate(ids[t])} for t in NODE_TYPES}

    pairs: dict[Relation, dict[tuple[int, int], set[str]]] = defaultdict(lambda: defaultdict(set))
    parents: dict[str, dict[int, list[int]]] = {t: defaultdict(list) for t in HIERARCHY}
    for edge_type, relation in [*RELATIONS.items(), (EdgeType.NOT_INDICATED_FOR, NON_INDICATIONS)]:
        head_type, _, tail_type = relation
        for edge in store.iter_edges(edge_type=edge_type):
            head, tail = index[head_type].get(edge.start), index[tail_type].get(edge.end)
            if head is None or tail is None or edge.provenance.source == RECORD_SOURCE:
                continue
            pairs[relation][(head, tail)].add(edge.provenance.source)
    for edge in store.iter_edges(edge_type=EdgeType.IS_A):
        for node_type, relation in HIERARCHY.items():
            head, tail = index[node_type].get(edge.start), index[node_type].get(edge.end)
            if head is not None and tail is not None:
                pairs[relation][(head, tail)].add(edge.provenance.source)
                parents[node_type][head].append(tail)
                break

    edges: dict[Relation, np.ndarray] = {}
    edge_sources: dict[Relation, list[tuple[str, ...]]] = {}
    for relation in [*RELATIONS.values(), *HIERARCHY.values(), NON_INDICATIONS]:
        keys = sorted(pairs.get(relation, {}))
        edges[relation] = np.array(keys, dtype=np.int64).reshape(-1, 2).T.copy()
        edge_sources[relation] = [tuple(sorted(pairs[relation][k])) for k in keys]

    features = {}
    for node_type in NODE_TYPES:
        concepts = nodes[node_type]
        count = len(concepts)
        depth = _depths(count, parents.get(node_type, {})) if node_type in HIERARCHY else np.zeros(count)
        flags = np.array([[s in c.sources for s in FLAG_SOURCES] for c in concepts], dtype=np.float32)
        prefix = np.array([[c.id.split(":", 1)[0] == p for p in PREFIXES] for c in concepts], dtype=np.float32)
        grams = np.vstack([_ngrams([c.name, *c.synonyms[:10]]) for c in concepts]) if count else np.zeros((0, 256))
        features[node_type] = np.hstack(
            [grams, (np.minimum(depth, 20) / 20.0)[:, None], flags.reshape(count, -1), prefix.reshape(count, -1)]
        ).astype(np.float32)
    return GraphExport(version, ids, edges, edge_sources, features)


def degree_features(export: GraphExport, edges: dict[Relation, np.ndarray]) -> dict[str, np.ndarray]:
    """log(1 + degree) per relation a node type takes part in, from the given edges only."""
    columns: dict[str, list[np.ndarray]] = {t: [] for t in NODE_TYPES}
    for relation in sorted(edges):
        head_type, _, tail_type = relation
        for node_type, row in ((head_type, 0), (tail_type, 1)):
            counts = np.bincount(edges[relation][row], minlength=export.count(node_type)).astype(np.float32)
            columns[node_type].append(np.log1p(counts) / 5.0)
    return {t: np.stack(c, axis=1) if c else np.zeros((export.count(t), 0), np.float32) for t, c in columns.items()}


def node_features(export: GraphExport, edges: dict[Relation, np.ndarray]) -> dict[str, np.ndarray]:
    degrees = degree_features(export, edges)
    return {t: np.hstack([export.base_features[t], degrees[t]]).astype(np.float32) for t in NODE_TYPES}


def cached_export(store: GraphStore, folder: Path) -> GraphExport:
    """The export for the store's graph version, from `folder` when already made."""
    import pickle

    path = folder / f"export-v{EXPORT_VERSION}-{store.graph_version}.pkl"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)
    export = export_graph(store)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(export, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return export
