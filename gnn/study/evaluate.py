"""`cdss gnn eval`: link scores measured so that false gains show.

Every method is asked the clinical question: given a disease, which findings
(diagnosis) or which drugs (treatment)? Negatives replace the finding or the
drug of a true pair with a random node of the same type, so a method cannot
win by recognising which diseases are in the test set. Filtered ranks place
the true partner among every node of its type, other known partners removed.

Baselines run on the same splits: the degree prior (how many partners the
candidate has in training), common neighbours and Adamic-Adar over the
message-passing graph, and a shallow DistMult with no message passing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import sparse
from sklearn.metrics import average_precision_score, roc_auc_score

from gnn.data import DRUG_CLASS, DRUG_TARGET, NODE_TYPES, TARGETS, TREATMENT, GraphExport, Relation, disease_side
from gnn.splits import Split

RANKED_EDGES = 1000
"""Test edges per relation that get a filtered rank (all of them when fewer)."""


class Scorer:
    """Scores for pairs, and for one disease against every candidate partner."""

    name = "scorer"

    def pairs(self, relation: Relation, edges: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def partners(self, relation: Relation, diseases: np.ndarray) -> np.ndarray:
        """(diseases, every node of the other type)."""
        raise NotImplementedError


class ModelScorer(Scorer):
    def __init__(self, name: str, decoder, z: dict[str, torch.Tensor]) -> None:
        self.name, self.decoder = name, decoder
        self.z = {t: v.detach().float().cpu() for t, v in z.items()}

    @torch.no_grad()
    def pairs(self, relation: Relation, edges: np.ndarray) -> np.ndarray:
        tensor = torch.from_numpy(edges)
        return self.decoder(self.z, relation, tensor[0], tensor[1]).numpy()

    @torch.no_grad()
    def partners(self, relation: Relation, diseases: np.ndarray) -> np.ndarray:
        side = "head" if disease_side(relation) == 0 else "tail"
        return self.decoder.against_all(self.z, relation, torch.from_numpy(diseases), side=side).numpy()


class DegreeScorer(Scorer):
    """Rephetio's degree prior: a candidate with more training partners scores higher."""

    name = "degree prior"

    def __init__(self, export: GraphExport, train: dict[Relation, np.ndarray]) -> None:
        self.degree = {}
        for relation, edges in train.items():
            head_type, _, tail_type = relation
            self.degree[relation] = (
                np.bincount(edges[0], minlength=export.count(head_type)).astype(float),
                np.bincount(edges[1], minlength=export.count(tail_type)).astype(float),
            )

    def pairs(self, relation: Relation, edges: np.ndarray) -> np.ndarray:
        head, tail = self.degree[relation]
        return np.log1p(head[edges[0]]) + np.log1p(tail[edges[1]])

    def partners(self, relation: Relation, diseases: np.ndarray) -> np.ndarray:
        side = disease_side(relation)
        own, other = self.degree[relation][side], self.degree[relation][1 - side]
        return np.log1p(own[diseases])[:, None] + np.log1p(other)[None, :]


class NeighbourScorer(Scorer):
    """Common neighbours or Adamic-Adar on the message-passing graph, all node types in one index."""

    def __init__(self, export: GraphExport, message_passing: dict[Relation, np.ndarray], *, adamic_adar: bool) -> None:
        self.name = "Adamic-Adar" if adamic_adar else "common neighbours"
        self.offset, start = {}, 0
        for node_type in NODE_TYPES:
            self.offset[node_type] = start
            start += export.count(node_type)
        self.counts = {t: export.count(t) for t in NODE_TYPES}
        rows, cols = [], []
        for (head_type, _, tail_type), edges in message_passing.items():
            rows.append(edges[0] + self.offset[head_type])
            cols.append(edges[1] + self.offset[tail_type])
        r, c = np.concatenate(rows), np.concatenate(cols)
        adjacency = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(start, start))
        adjacency = ((adjacency + adjacency.T) > 0).astype(np.float64).tocsr()
        degree = np.asarray(adjacency.sum(axis=1)).ravel()
        weight = 1.0 / np.log(np.maximum(degree, 2.0)) if adamic_adar else np.ones_like(degree)
        self.adjacency = adjacency
        self.weighted = adjacency.multiply(weight[None, :]).tocsr()

    def _global(self, node_type: str, local: np.ndarray) -> np.ndarray:
        return local + self.offset[node_type]

    def pairs(self, relation: Relation, edges: np.ndarray) -> np.ndarray:
        head_type, _, tail_type = relation
        left = self.weighted[self._global(head_type, edges[0])]
        right = self.adjacency[self._global(tail_type, edges[1])]
        return np.asarray(left.multiply(right).sum(axis=1)).ravel()

    def partners(self, relation: Relation, diseases: np.ndarray) -> np.ndarray:
        head_type, _, tail_type = relation
        other_type = tail_type if disease_side(relation) == 0 else head_type
        start = self.offset[other_type]
        block = self.adjacency[start : start + self.counts[other_type]]
        return (self.weighted[self._global("disease", diseases)] @ block.T).toarray()


def corrupt_partner(relation: Relation, edges: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Each true pair with its non-disease side replaced by a random node of that type."""
    out = edges.copy()
    side = 1 - disease_side(relation)
    out[side] = rng.integers(0, count, size=edges.shape[1])
    return out


def _keys(edges: np.ndarray) -> np.ndarray:
    return edges[0].astype(np.int64) * (1 << 32) + edges[1]


def negatives_for(
    export: GraphExport, relation: Relation, positives: np.ndarray, known: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    partner_type = relation[2] if disease_side(relation) == 0 else relation[0]
    negatives = corrupt_partner(relation, positives, export.count(partner_type), rng)
    clash = np.isin(_keys(negatives), _keys(known))
    while clash.any():
        negatives[:, clash] = corrupt_partner(relation, positives[:, clash], export.count(partner_type), rng)
        clash = np.isin(_keys(negatives), _keys(known))
    return negatives


def auc_scores(positive: np.ndarray, negative: np.ndarray) -> dict:
    labels = np.r_[np.ones(len(positive)), np.zeros(len(negative))]
    scores = np.r_[positive, negative]
    return {
        "auroc": round(float(roc_auc_score(labels, scores)), 4),
        "auprc": round(float(average_precision_score(labels, scores)), 4),
    }


def filtered_ranks(
    scorer: Scorer, relation: Relation, test: np.ndarray, known: np.ndarray, *, limit: int, seed: int
) -> np.ndarray:
    """Mid-rank of each true partner among all candidates, other known partners of the disease filtered out."""
    rng = np.random.default_rng(seed)
    chosen = test if test.shape[1] <= limit else test[:, np.sort(rng.choice(test.shape[1], limit, replace=False))]
    side = disease_side(relation)
    known_by_disease: dict[int, list[int]] = {}
    for disease, partner in zip(known[side].tolist(), known[1 - side].tolist(), strict=True):
        known_by_disease.setdefault(disease, []).append(partner)
    ranks = []
    for start in range(0, chosen.shape[1], 200):
        batch = chosen[:, start : start + 200]
        scores = scorer.partners(relation, batch[side]).astype(np.float64)
        for row, (disease, partner) in enumerate(zip(batch[side].tolist(), batch[1 - side].tolist(), strict=True)):
            line = scores[row]
            true_score = line[partner]
            others = np.array([p for p in known_by_disease.get(disease, []) if p != partner], dtype=np.int64)
            line = line.copy()
            line[others] = -np.inf
            ranks.append(1 + (line > true_score).sum() + 0.5 * ((line == true_score).sum() - 1))
    return np.asarray(ranks, dtype=float)


def link_metrics(
    export: GraphExport, scorer: Scorer, split: Split, *, seed: int = 0, limit: int = RANKED_EDGES
) -> dict[str, dict]:
    out = {}
    for relation in TARGETS:
        positives = split.test[relation]
        if positives.shape[1] == 0:
            continue
        rng = np.random.default_rng([seed, TARGETS.index(relation)])
        negatives = negatives_for(export, relation, positives, split.known[relation], rng)
        metrics = auc_scores(scorer.pairs(relation, positives), scorer.pairs(relation, negatives))
        ranks = filtered_ranks(scorer, relation, positives, split.known[relation], limit=limit, seed=seed)
        metrics.update(
            {
                "mrr": round(float((1.0 / ranks).mean()), 4),
                "hits@10": round(float((ranks <= 10).mean()), 4),
                "test_edges": int(positives.shape[1]),
                "ranked": len(ranks),
            }
        )
        out[relation[1]] = metrics
    return out


def repurposing_ranks(export: GraphExport, scorer: Scorer, split: Split) -> dict:
    """For each disease with test indications, where its true drugs rank among every drug (its other known
    drugs filtered out), averaged over diseases so that a disease with many drugs counts once."""
    test, known = split.test[TREATMENT], split.known[TREATMENT]
    if test.shape[1] == 0:
        return {}
    ranks = filtered_ranks(scorer, TREATMENT, test, known, limit=test.shape[1], seed=0)
    by_disease: dict[int, list[float]] = {}
    for disease, rank in zip(test[1].tolist(), ranks.tolist(), strict=True):
        by_disease.setdefault(disease, []).append(rank)
    drugs = export.count("drug")
    groups = list(by_disease.values())
    best = np.array([min(r) for r in by_disease.values()])
    return {
        "diseases": len(by_disease),
        "candidate_drugs": drugs,
        "median_rank": round(float(np.median([np.median(r) for r in by_disease.values()])), 1),
        "mean_percentile": round(float(np.mean([np.mean(1 - (np.array(r) - 1) / drugs) for r in groups])), 4),
        "mrr": round(float(np.mean([np.mean(1 / np.array(r)) for r in by_disease.values()])), 4),
        **{f"hits@{k}": round(float((best <= k).mean()), 4) for k in (10, 100)},
    }


def uniform_pairs(export: GraphExport, relation: Relation, count: int, known: np.ndarray, seed: int) -> np.ndarray:
    """Random pairs of the relation's node types that are not known edges."""
    rng = np.random.default_rng(seed)
    pairs = np.vstack(
        [rng.integers(0, export.count(relation[0]), count), rng.integers(0, export.count(relation[2]), count)]
    )
    return pairs[:, ~np.isin(_keys(pairs), _keys(known))]


def comparable_pairs(export: GraphExport, count: int, known: np.ndarray, seed: int) -> np.ndarray:
    """Random pairs in Rephetio's frame: drugs with a known target or class, diseases with a known indication.

    Most of the graph's drugs are dictionary entries nobody indexed and most of its diseases are rare ones
    with no drug at all; a uniformly random pair is easy to tell from an indication by that alone.
    """
    rng = np.random.default_rng([seed, 41])
    described = np.union1d(export.edges[DRUG_TARGET][0], export.edges[DRUG_CLASS][0])
    treatable = np.unique(known[1])
    if not described.size or not treatable.size:
        return np.zeros((2, 0), np.int64)
    pairs = np.vstack([rng.choice(described, count), rng.choice(treatable, count)])
    return pairs[:, ~np.isin(_keys(pairs), _keys(known))]


def external_metrics(export: GraphExport, scorers: list[Scorer], split: Split, *, seed: int = 0) -> dict[str, dict]:
    """AUROC of the external indications against uniformly random drug-disease pairs, against random pairs
    among indexed drugs and treatable diseases, and against the same diseases with random drugs."""
    positives = split.test[TREATMENT]
    known = split.known[TREATMENT]
    uniform = uniform_pairs(export, TREATMENT, positives.shape[1] * 2, known, seed)[:, : positives.shape[1]]
    comparable = comparable_pairs(export, positives.shape[1] * 2, known, seed)[:, : positives.shape[1]]
    same_disease = negatives_for(export, TREATMENT, positives, known, np.random.default_rng(seed))
    out = {}
    for scorer in scorers:
        pos = scorer.pairs(TREATMENT, positives)
        out[scorer.name] = {
            "vs_random_pairs": auc_scores(pos, scorer.pairs(TREATMENT, uniform)),
            "vs_random_pairs_indexed_drugs_treatable_diseases": (
                auc_scores(pos, scorer.pairs(TREATMENT, comparable)) if comparable.size else None
            ),
            "vs_random_drugs_same_disease": auc_scores(pos, scorer.pairs(TREATMENT, same_disease)),
        }
    out["test_pairs"] = int(positives.shape[1])
    return out


def hard_negative_report(scorer: Scorer, split: Split, hard: np.ndarray, export: GraphExport, *, seed: int = 0) -> dict:
    """How the model scores PharmacotherapyDB's curated non-indications, beside true and random pairs."""
    positives = split.test[TREATMENT]
    random_pairs = uniform_pairs(export, TREATMENT, max(hard.shape[1], 1) * 4, split.known[TREATMENT], seed)
    score = {
        "true indications (test)": scorer.pairs(TREATMENT, positives),
        "curated non-indications": scorer.pairs(TREATMENT, hard),
        "random pairs": scorer.pairs(TREATMENT, random_pairs),
    }
    probability = {k: 1 / (1 + np.exp(-v)) for k, v in score.items()}
    return {
        "pairs": {k: len(v) for k, v in score.items()},
        "mean_probability": {k: round(float(v.mean()), 4) for k, v in probability.items()},
        "auroc_true_vs_non_indications": auc_scores(score["true indications (test)"], score["curated non-indications"])[
            "auroc"
        ],
        "auroc_non_indications_vs_random": auc_scores(score["curated non-indications"], score["random pairs"])["auroc"],
    }


def evaluate_scorers(
    export: GraphExport,
    split: Split,
    scorers: list[Scorer],
    *,
    seed: int = 0,
    log: Callable[[str], None] = lambda _: None,
) -> dict[str, dict]:
    out = {}
    for scorer in scorers:
        out[scorer.name] = link_metrics(export, scorer, split, seed=seed)
        log(f"{split.name} / {scorer.name}: {out[scorer.name]}")
    return out
