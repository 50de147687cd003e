"""`cdss eval tune`: choose ranking parameters on real cases, cross-validated by diagnosis.

Every case of one diagnosis falls in the same fold (a hash of the diagnosis
key), so a parameter is always judged on diagnoses it was not chosen on, as
the held-out half of the case collection will judge it. For each fold the
grid point with the best MRR on the other folds is applied to this one; the
held-out ranks of all folds together are the cross-validated figures.

The posterior's calibration (temperature and the unknown disease's share,
`ranking.calibration`) is fitted the same way, on the chosen parameters.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields, replace

import numpy as np

from cdss.errors import InputError
from ranking.calibration import fit, posterior, reliability
from ranking.config import RankingConfig
from ranking.diagnosis import SEX_CODE, negative_share, score_observations
from ranking.knowledge import Knowledge
from ranking.likelihood import LikelihoodModel
from ranking.observations import Observation
from ranking.study.real_cases import DEPTH, EvalCase, summarise

FOLDS = 5


def grid_points(grid: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """Every combination of the grid's values; each name must be a `RankingConfig` field."""
    known = {f.name for f in fields(RankingConfig)}
    unknown = sorted(set(grid) - known)
    if unknown:
        raise InputError(
            f"unknown ranking parameter(s) {', '.join(unknown)}; expected some of {', '.join(sorted(known))}"
        )
    names = sorted(grid)
    for name in names:
        if not isinstance(grid[name], list) or not grid[name]:
            raise InputError(f"grid {name!r} must be a non-empty list of values, got {grid[name]!r}")
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def fold_of(key: str, folds: int = FOLDS) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % folds


def case_totals(model: LikelihoodModel, case: EvalCase, observations: Sequence[Observation]) -> np.ndarray:
    """Every disease's log score for one case under the model's configuration (what the engine ranks by)."""
    c = case.case
    prior = model.k.log_priors(model.config, setting=c.setting, age=c.age, sex=c.sex)
    return score_observations(model, observations, sex=c.sex, age=c.age, prior=prior).total


LINEAR = ("absent_weight", "absent_budget", "prior_temperature")
"""Parameters a case's score is linear in: the evidence is computed once for all their values."""


class _Evidence:
    """One case's evidence under one likelihood configuration, split so that the linear parameters can vary:
    certain present findings, certain absent ones at weight 1, and uncertain observations as they are."""

    def __init__(self, model: LikelihoodModel, observations: Sequence[Observation], sex: int) -> None:
        n = model.k.n_diseases
        self.present = np.zeros(n)
        self.absent = np.zeros(n)
        self.observations = list(observations)
        kept = []
        for observation in observations:
            finding = model.k.finding_index[observation.finding]
            if observation.probability >= 1.0:
                self.present += model.present(finding, sex=sex)
            elif observation.probability <= 0.0:
                self.absent += model.absent(finding, sex=sex)
            else:
                kept.append(observation)
        self.uncertain = kept


def gold_rank(total: np.ndarray, gold: np.ndarray) -> int | None:
    """Pessimistic rank of the best gold disease (every disease scoring at least as high counts)."""
    if not len(gold):
        return None
    rank = int((total >= total[gold].max()).sum())
    return rank if rank <= DEPTH else None


def tune(
    knowledge: Knowledge,
    base: RankingConfig,
    cases: Sequence[EvalCase],
    observations: Sequence[Sequence[Observation]],
    grid: Mapping[str, Sequence[float]],
    *,
    folds: int = FOLDS,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> dict:
    """Metrics of every grid point on all cases, the cross-validated choice, and calibration."""
    points = grid_points(grid)
    golds = [
        np.array(sorted(knowledge.disease_index[d] for d in c.gold if d in knowledge.disease_index)) for c in cases
    ]
    keys = [c.key for c in cases]
    fold = np.array([fold_of(k, folds) for k in keys])
    if len(set(fold.tolist())) < 2:
        raise InputError(
            f"cross-validation by diagnosis needs cases in at least two folds; these {len(cases)} cases cover "
            f"{len(set(keys))} diagnosis(es), all in one fold: use more cases (--limit) or fewer folds"
        )
    ranks: list[list[int | None]] = [[] for _ in points]
    # Points that differ only in the linear parameters share one pass over the cases.
    groups: dict[tuple, list[int]] = {}
    for position, point in enumerate(points):
        groups.setdefault(tuple(sorted((n, v) for n, v in point.items() if n not in LINEAR)), []).append(position)
    for shared, members in progress(list(groups.items())):
        model = LikelihoodModel(knowledge, replace(base, **dict(shared), absent_weight=1.0))
        configs = [replace(base, **points[position]) for position in members]
        full_models = [LikelihoodModel(knowledge, config) for config in configs]
        for case, obs, gold in zip(cases, observations, golds, strict=True):
            if not obs:
                for position in members:
                    ranks[position].append(None)
                continue
            c = case.case
            evidence = _Evidence(model, obs, SEX_CODE.get(c.sex or "", 0))
            for position, config, full in zip(members, configs, full_models, strict=True):
                share = negative_share(config, evidence.observations)
                total = knowledge.log_priors(config, setting=c.setting, age=c.age, sex=c.sex)
                total = total + evidence.present + config.absent_weight * share * evidence.absent
                if evidence.uncertain:
                    uncertain = score_observations(
                        full, evidence.uncertain, sex=c.sex, prior=np.zeros_like(total), negatives=share
                    )
                    total = total + uncertain.total
                if c.age is not None:
                    too_young = np.nan_to_num(knowledge.onset_years, nan=-1.0) > c.age
                    total = total + np.where(too_young, np.log(config.younger_than_onset), 0.0)
                ranks[position].append(gold_rank(total, gold))
    table = [{"parameters": point, **summarise(ranks[p], keys)} for p, point in enumerate(points)]

    def mrr(values: Sequence[int | None]) -> float:
        return float(np.mean([1.0 / r if r else 0.0 for r in values])) if values else 0.0

    held: list[int | None] = [None] * len(cases)
    picks = []
    for f in range(folds):
        train = np.flatnonzero(fold != f)
        best = max(range(len(points)), key=lambda p: (mrr([ranks[p][i] for i in train]), -p))
        picks.append(points[best])
        for i in np.flatnonzero(fold == f):
            held[i] = ranks[best][i]
    chosen = max(range(len(points)), key=lambda p: (mrr(ranks[p]), -p))
    report = {
        "folds": folds,
        "grid": table,
        "picked_per_fold": picks,
        "cross_validated": summarise(held, keys),
        "chosen_on_all": points[chosen],
    }
    report["calibration"] = _calibration(knowledge, replace(base, **points[chosen]), cases, observations, golds, fold)
    return report


def _calibration(knowledge, config, cases, observations, golds, fold) -> dict:
    """Temperature and unknown share fitted on the other folds, the top probability judged on the held-out one."""
    model = LikelihoodModel(knowledge, config)
    totals = [case_totals(model, case, obs) if obs else None for case, obs in zip(cases, observations, strict=True)]
    usable = [i for i, t in enumerate(totals) if t is not None]
    before_conf, after_conf, correct = [], [], []
    fitted = []
    for f in sorted(set(fold.tolist())):
        train = [i for i in usable if fold[i] != f]
        temperature, unknown = fit([totals[i] for i in train], [golds[i] for i in train])
        fitted.append((temperature, unknown))
        for i in (i for i in usable if fold[i] == f):
            top = int(np.argmax(totals[i]))
            correct.append(top in set(golds[i].tolist()))
            before_conf.append(float(posterior(totals[i])[top]))
            after_conf.append(float(posterior(totals[i], temperature, unknown)[top]))
    temperature, unknown = fit([totals[i] for i in usable], [golds[i] for i in usable])
    return {
        "uncalibrated": reliability(before_conf, correct).to_dict(),
        "cross_validated": reliability(after_conf, correct).to_dict(),
        "fitted_per_fold": [{"temperature": round(t, 4), "unknown_log_score": round(u, 3)} for t, u in fitted],
        "fitted_on_all": {"temperature": round(temperature, 4), "unknown_log_score": round(unknown, 3)},
    }
