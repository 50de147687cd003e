"""`cdss gnn compare`: the ranking engine with and without learned link scores, on the same cases.

Knowledge graphs are incomplete, and that is where a link model can help.
The experiment makes the gap measurable:

1. Simulated rare-disease patients are drawn from the *full* annotations
   (the headline setting of `cdss eval diagnosis`).
2. A share of each of their diseases' annotations is hidden from the
   ranking engine's knowledge *and* from the GNN's training graph, so some of
   each patient's findings are unknown to both, as in real incomplete data.
3. The same cases are ranked by the likelihood model alone, with the
   learned log-odds added at several weights, and with predicted links added
   to sparsely annotated diseases (`ranking.predicted_links`) under several
   policies; full knowledge is the ceiling.

For treatments, one indication per disease is hidden the same way. The
curated-only engine cannot propose a hidden indication at all; the question is
how high the GNN ranks it among every drug not already linked to the disease,
against the degree prior (the drugs with most indications first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from cdss.progress import progress
from gnn.data import DIAGNOSIS, PALLIATION, TREATMENT, GraphExport
from gnn.score import GnnLinkScorer
from gnn.splits import held_links_split
from gnn.train import DEFAULT_TRAINING, TrainConfig, train_link_model
from kg.store import GraphStore
from ranking.config import PredictionPolicy, RankingConfig
from ranking.diagnosis import score_observations
from ranking.knowledge import Knowledge, build_knowledge
from ranking.likelihood import LikelihoodModel
from ranking.predicted_links import sparse_profile_links, with_predicted_links
from ranking.study.evaluate import HEADLINE, metrics
from ranking.study.simulate import SimulatedCase, Simulator

WEIGHTS = (0.25, 0.5, 1.0)
POLICIES = (
    PredictionPolicy(max_annotations=5, per_disease=5, min_probability=0.9, frequency=0.25),
    PredictionPolicy(max_annotations=10, per_disease=5, min_probability=0.9, frequency=0.25),
    PredictionPolicy(max_annotations=10, per_disease=10, min_probability=0.8, frequency=0.5),
)
HITS = (5, 10)


def policy_name(policy: PredictionPolicy) -> str:
    return (
        f"partial + predicted links (<= {policy.max_annotations} curated, {policy.per_disease} at p >= "
        f"{policy.min_probability:g}, frequency x{policy.frequency:g})"
    )


def hidden_annotations(
    knowledge: Knowledge, export: GraphExport, diseases: Sequence[int], *, fraction: float, seed: int
) -> np.ndarray:
    """(2, n) export indices of the HAS_FINDING links hidden: `fraction` of each disease's graph annotations."""
    rng = np.random.default_rng([seed, 31])
    disease_index, finding_index = export.index["disease"], export.index["finding"]
    edges = export.edges[DIAGNOSIS]
    stated = set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))
    pairs = []
    for disease in sorted(set(diseases)):
        d = disease_index.get(knowledge.disease_ids[disease])
        findings, _ = knowledge.disease_findings(disease)
        candidates = sorted(
            f for f in (finding_index.get(knowledge.finding_ids[i]) for i in findings.tolist()) if (d, f) in stated
        )
        take = round(len(candidates) * fraction)
        pairs += [(d, f) for f in rng.choice(candidates, size=take, replace=False).tolist()] if take else []
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2).T


def hidden_indications(export: GraphExport, *, diseases: int, seed: int) -> np.ndarray:
    """(2, n) TREATS links hidden: one, at random, for each of up to `diseases` diseases with two or more."""
    rng = np.random.default_rng([seed, 37])
    edges = export.edges[TREATMENT]
    counts = np.bincount(edges[1], minlength=export.count("disease"))
    eligible = np.flatnonzero(counts >= 2)
    picked = np.sort(rng.choice(eligible, size=min(diseases, len(eligible)), replace=False))
    chosen = [int(rng.choice(np.flatnonzero(edges[1] == d))) for d in picked.tolist()]
    return edges[:, sorted(chosen)]


def _rank_with(totals: np.ndarray, truth: int) -> int:
    return int((totals >= totals[truth]).sum())


def diagnosis_comparison(
    cases: Sequence[SimulatedCase],
    *,
    full: LikelihoodModel,
    partial: LikelihoodModel,
    scorer: GnnLinkScorer,
    weights: Sequence[float] = WEIGHTS,
    policies: Sequence[PredictionPolicy] = POLICIES,
    show_progress: bool | None = None,
) -> dict:
    ranks: dict[str, list[int]] = {"full knowledge": [], "partial knowledge": []}
    ranks |= {f"partial + GNN x{w:g}": [] for w in weights}
    predicted = {}
    for policy in policies:
        links = sparse_profile_links(partial.k, scorer, policy)
        knowledge = with_predicted_links(partial.k, links, frequency=policy.frequency, model=scorer.version)
        predicted[policy_name(policy)] = (LikelihoodModel(knowledge, partial.config), len(links))
        ranks[policy_name(policy)] = []
    full_ids = full.k.disease_ids
    for case in progress(cases, desc="ranking cases", enabled=show_progress, unit="case"):
        ranks["full knowledge"].append(_rank_with(score_observations(full, case.observations).total, case.disease))
        truth = partial.k.disease_index[full_ids[case.disease]]
        base = score_observations(partial, case.observations).total
        ranks["partial knowledge"].append(_rank_with(base, truth))
        present = [o.finding for o in case.observations if o.probability >= 0.5]
        learned = scorer.finding_log_odds(present, partial.k.disease_ids).sum(axis=0)
        for w in weights:
            ranks[f"partial + GNN x{w:g}"].append(_rank_with(base + w * learned, truth))
        for name, (model, _) in predicted.items():
            ranks[name].append(_rank_with(score_observations(model, case.observations).total, truth))
    out = {name: metrics(cases, values) for name, values in ranks.items()}
    for name, (_, count) in predicted.items():
        out[name]["predicted_links"] = count
    return out


def treatment_comparison(
    export: GraphExport, scorer: GnnLinkScorer, held: np.ndarray, train_treats: np.ndarray, known: np.ndarray
) -> dict:
    """Where the hidden drug ranks among the drugs not already linked to its disease, by GNN and by degree."""
    degree = np.bincount(train_treats[0], minlength=export.count("drug")).astype(float)
    linked: dict[int, set[int]] = {}
    for drug, disease in zip(known[0].tolist(), known[1].tolist(), strict=True):
        linked.setdefault(disease, set()).add(drug)
    ranks: dict[str, list[int]] = {"GNN": [], "degree prior": []}
    for drug, disease in zip(held[0].tolist(), held[1].tolist(), strict=True):
        candidates = np.ones(export.count("drug"), dtype=bool)
        candidates[list(linked.get(disease, set()) - {drug})] = False
        logits = scorer.drug_logits(export.ids["disease"][disease])
        for name, values in (("GNN", logits), ("degree prior", degree)):
            ranks[name].append(int((values[candidates] >= values[drug]).sum()))
    out = {}
    for name, values in ranks.items():
        array = np.asarray(values)
        out[name] = {
            **{f"hits@{n}": round(float((array <= n).mean()), 4) for n in HITS},
            "mrr": round(float((1.0 / array).mean()), 4),
            "median_rank": float(np.median(array)),
        }
    out["curated only"] = {f"hits@{n}": 0.0 for n in HITS} | {"note": "a hidden indication has no edge to offer"}
    return {"held_out_indications": int(held.shape[1]), "candidates": export.count("drug"), "methods": out}


def compare_ranking(
    store: GraphStore,
    export: GraphExport,
    *,
    ranking: RankingConfig,
    training: TrainConfig = DEFAULT_TRAINING,
    diseases: int = 300,
    fraction: float = 0.3,
    seed: int = 0,
    show_progress: bool | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    full_knowledge = build_knowledge(store, default_frequency=ranking.default_frequency)
    simulator = Simulator(full_knowledge, seed=seed)
    cases = simulator.rare_cases(diseases=diseases, **HEADLINE)
    diagnosis_held = hidden_annotations(
        full_knowledge, export, [c.disease for c in cases], fraction=fraction, seed=seed
    )
    treatment_held = hidden_indications(export, diseases=diseases, seed=seed)
    log(
        f"hiding {diagnosis_held.shape[1]} annotations of {len(cases)} diseases "
        f"and {treatment_held.shape[1]} indications"
    )
    ids = export.ids
    leave_out = frozenset((ids["disease"][d], ids["finding"][f]) for d, f in zip(*diagnosis_held.tolist(), strict=True))
    partial_knowledge = build_knowledge(store, default_frequency=ranking.default_frequency, leave_out=leave_out)
    split = held_links_split(export, {DIAGNOSIS: diagnosis_held, TREATMENT: treatment_held}, seed=seed)
    result, _ = train_link_model(export, split, replace(training, seed=seed), show_progress=show_progress, log=log)
    scorer = GnnLinkScorer(result.model, export, version="comparison", split=split)
    known = np.hstack([export.edges[TREATMENT], split.message_passing[PALLIATION]])
    return {
        "graph_version": export.graph_version,
        "setting": {"diseases": len(cases), "annotations_hidden": fraction, **HEADLINE, "seed": seed},
        "hidden": {"annotations": int(diagnosis_held.shape[1]), "indications": int(treatment_held.shape[1])},
        "training": {"best_valid_auroc": round(result.best_auroc, 4), "seconds": round(result.seconds, 1)},
        "diagnosis": diagnosis_comparison(
            cases,
            full=LikelihoodModel(full_knowledge, ranking),
            partial=LikelihoodModel(partial_knowledge, ranking),
            scorer=scorer,
            show_progress=show_progress,
        ),
        "treatment": treatment_comparison(export, scorer, treatment_held, split.train[TREATMENT], known),
    }
