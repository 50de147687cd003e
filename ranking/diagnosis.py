"""The differential: a naive-Bayes combination of per-finding likelihood ratios, priors, age and genotype.

    ln score(D) = ln prior(D) + sum over observations of ln LR(observation | D)
                  [+ ln LR(age | D)] [+ ln LR(genotype | D)] [+ weight * learned link score]

normalised over every disease the graph annotates. Findings are treated as
independent given the disease, as in LIRICAL; a case that repeats one finding
in several words counts it once (see `ranking.observations`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cdss.json_fields import json_fields
from ranking.calibration import posterior as calibrated
from ranking.closure import row
from ranking.config import RankingConfig
from ranking.genotype import GenotypeContribution, ResolvedGene, explain, genotype_log_lr
from ranking.knowledge import EdgeEvidence
from ranking.likelihood import LikelihoodModel, Match
from ranking.observations import Observation

SEX_CODE = {"male": 1, "female": 2}


@dataclass(slots=True)
class Scores:
    """Every disease's log score and the part each observation contributed."""

    total: np.ndarray
    prior: np.ndarray
    per_observation: np.ndarray
    """observations x diseases."""
    age: np.ndarray | None = None
    genotype: np.ndarray | None = None
    genes: Sequence[ResolvedGene] = ()
    """The reported genes the genotype term read."""
    genotype_gene: np.ndarray | None = None
    """Per disease: the position in `genes` of the gene its genotype term comes from (-1: none)."""
    learned: np.ndarray | None = None
    temperature: float = 1.0
    unknown: float | None = None
    """Log score of a disease the graph does not know; with the temperature, fitted on real cases."""

    def posterior(self) -> np.ndarray:
        """Calibrated probability of every disease (`ranking.calibration`)."""
        return calibrated(self.total, self.temperature, -np.inf if self.unknown is None else self.unknown)


@dataclass(frozen=True, slots=True)
class Contribution:
    finding: str
    finding_name: str
    origin: str
    probability: float
    log_lr: float
    match: str
    matched: str | None = None
    matched_name: str | None = None
    via: str | None = None
    evidence: tuple[EdgeEvidence, ...] = ()

    def to_dict(self) -> dict:
        out = {
            "finding": self.finding,
            "name": self.finding_name,
            "origin": self.origin,
            "observed": "present" if self.probability >= 1 else "absent" if self.probability <= 0 else "uncertain",
            "probability": round(self.probability, 4),
            "log_lr": round(self.log_lr, 4),
            "direction": "for" if self.log_lr > 0 else "against" if self.log_lr < 0 else "neutral",
            "match": self.match,
        }
        if self.matched:
            out["matched_finding"] = {"id": self.matched, "name": self.matched_name}
        if self.via:
            out["common_ancestor"] = self.via
        out["evidence"] = [e.to_dict() for e in self.evidence]
        return out


@dataclass(slots=True)
class Diagnosis:
    id: str
    name: str
    rank: int
    score: float
    probability: float
    log_score: float
    log_prior: float
    tier: str
    prior: dict = field(default_factory=dict)
    """Where the prior came from (`ranking.priors.PriorOrigin`)."""
    contributions: list[Contribution] = field(default_factory=list)
    age_log_lr: float = 0.0
    genotype: GenotypeContribution | None = None
    learned_log_lr: float = 0.0
    known_condition: bool = False
    urgent: dict[str, str] | None = None
    """Why the diagnosis must not be missed, and the citation; None for the others."""

    def to_dict(self) -> dict:
        out = {
            "id": self.id,
            "name": self.name,
            "rank": self.rank,
            "score": round(self.score, 6),
            "probability": round(self.probability, 6),
            "log_score": round(self.log_score, 4),
            "log_prior": round(self.log_prior, 4),
            "prior_tier": self.tier,
            "prior": self.prior,
            "contributions": [c.to_dict() for c in self.contributions],
        }
        if self.age_log_lr:
            out["age_log_lr"] = round(self.age_log_lr, 4)
        if self.genotype is not None:
            out["genotype"] = self.genotype.to_dict()
        if self.learned_log_lr:
            out["learned_log_lr"] = round(self.learned_log_lr, 4)
        if self.known_condition:
            out["known_condition"] = True
        if self.urgent:
            out["urgent"] = {"cant_miss": True, **self.urgent}
        return out


def score_observations(
    model: LikelihoodModel,
    observations: Sequence[Observation],
    *,
    sex: str | None = None,
    age: float | None = None,
    genes: Sequence[ResolvedGene] = (),
    learned: np.ndarray | None = None,
    prior: np.ndarray | None = None,
    negatives: float | None = None,
) -> Scores:
    """`genes`: the reported genes the graph knows (`ranking.genotype`).
    `prior`: log priors for the case's setting, age and sex; the model's default (setting unknown) otherwise.
    `negatives`: the weight of the negated observations, when the caller has already counted them."""
    k, config = model.k, model.config
    sex_code = SEX_CODE.get(sex or "", 0)
    prior = model.log_prior if prior is None else prior
    lines = []
    share = negative_share(config, observations) if negatives is None else negatives
    for observation in observations:
        finding = k.finding_index[observation.finding]
        if not config.negatives and observation.probability < 0.5:
            lines.append(np.zeros(k.n_diseases))
            continue
        line = model.observed(finding, observation.probability, reference=observation.reference, sex=sex_code)
        lines.append(line * share if observation.probability < 0.5 else line)
    per_observation = np.vstack(lines) if lines else np.zeros((0, k.n_diseases))
    total = prior + per_observation.sum(axis=0)
    age_term = None
    if age is not None:
        too_young = np.nan_to_num(k.onset_years, nan=-1.0) > age
        age_term = np.where(too_young, math.log(config.younger_than_onset), 0.0)
        total = total + age_term
    genotype_term = genotype_gene = None
    if genes:
        genotype_term, genotype_gene = genotype_log_lr(k, config, genes)
        total = total + genotype_term
    if learned is not None:
        learned = config.learned_weight * learned
        total = total + learned
    return Scores(
        total=total,
        prior=prior,
        per_observation=per_observation,
        age=age_term,
        genotype=genotype_term,
        genes=genes,
        genotype_gene=genotype_gene,
        learned=learned,
        temperature=config.posterior_temperature,
        unknown=config.unknown_log_score,
    )


def negative_share(config: RankingConfig, observations: Sequence[Observation]) -> float:
    """How much each negated observation counts: a case that lists more than `absent_budget` of them shares
    that budget among them, so a bulk list of excluded findings weighs no more than a few pertinent negatives."""
    if config.absent_budget is None:
        return 1.0
    negated = sum(1 for o in observations if o.probability < 0.5)
    return min(1.0, config.absent_budget / negated) if negated else 1.0


@dataclass(frozen=True, slots=True)
class Question:
    """A finding not yet known that would best tell the leading diagnoses apart, and where it is expected."""

    finding: str
    name: str
    information_gain: float
    expected_in: list[dict]

    def to_dict(self) -> dict:
        return json_fields(self)


def top_diseases(scores: Scores, top_k: int, *, exclude: Sequence[int] = ()) -> list[int]:
    """Disease indices by descending score (ties by index, which follows the sorted ids)."""
    total = scores.total.copy()
    total[list(exclude)] = -np.inf
    count = min(top_k, int(np.isfinite(total).sum()))
    if count <= 0:
        return []
    candidates = np.argpartition(-total, count - 1)[:count]
    return sorted(candidates.tolist(), key=lambda i: (-total[i], i))


def contributions(
    model: LikelihoodModel, observations: Sequence[Observation], scores: Scores, diseases: Sequence[int]
) -> dict[int, list[Contribution]]:
    """Each disease's contributions, one per observation, strongest first."""
    k = model.k
    out: dict[int, list[Contribution]] = {d: [] for d in diseases}
    for line, observation in enumerate(observations):
        finding = k.finding_index[observation.finding]
        explain = model.explainer(finding, present=observation.probability >= 0.5)
        for disease in diseases:
            log_lr = float(scores.per_observation[line, disease])
            match: Match = explain(disease, log_lr)
            evidence: tuple[EdgeEvidence, ...] = ()
            if match.annotation is not None:
                table = k.exclusion_edges if match.kind == "excluded" else k.annotation_edges
                evidence = table.get((disease, match.annotation), ())
            out[disease].append(
                Contribution(
                    finding=observation.finding,
                    finding_name=k.finding_names[finding],
                    origin=observation.origin,
                    probability=observation.probability,
                    log_lr=log_lr,
                    match=match.kind,
                    matched=k.finding_ids[match.annotation] if match.annotation is not None else None,
                    matched_name=k.finding_names[match.annotation] if match.annotation is not None else None,
                    via=k.finding_ids[match.via] if match.via is not None else None,
                    evidence=evidence,
                )
            )
    return {d: sorted(items, key=lambda c: (-abs(c.log_lr), c.finding)) for d, items in out.items()}


def genotype_part(model: LikelihoodModel, scores: Scores, disease: int) -> GenotypeContribution | None:
    """The genotype's part in a disease's score; None for a disease tied to no reported gene."""
    if scores.genotype is None or scores.genotype_gene is None or scores.genotype_gene[disease] < 0:
        return None
    gene = scores.genes[int(scores.genotype_gene[disease])]
    return explain(model.k, model.config, gene, disease, float(scores.genotype[disease]))


def _entropy(p: np.ndarray) -> np.ndarray:
    """Entropy of each row of a matrix of distributions."""
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log(safe)).sum(axis=-1)


def next_questions(
    model: LikelihoodModel,
    candidates: Sequence[int],
    weights: np.ndarray,
    known: set[str],
    *,
    limit: int = 5,
) -> list[Question]:
    """The unknown findings whose answer would best tell the candidates apart (expected information gain)."""
    k = model.k
    if len(candidates) < 2:
        return []
    weights = weights / weights.sum()
    known_index = {k.finding_index[f] for f in known if f in k.finding_index}
    related_to_known = set(known_index)
    for finding in known_index:
        related_to_known.update(row(k.ancestors, finding)[0].tolist())
        related_to_known.update(row(k.descendants, finding)[0].tolist())
    frequency: dict[int, np.ndarray] = {}
    for position, disease in enumerate(candidates):
        findings, freq = k.disease_findings(disease)
        for finding, f in zip(findings.tolist(), freq.tolist(), strict=True):
            if finding in related_to_known or not k.askable[finding]:
                continue
            column = frequency.setdefault(finding, np.zeros(len(candidates)))
            column[position] = max(column[position], f)
    if not frequency:
        return []
    findings = np.array(list(frequency))
    table = np.vstack(list(frequency.values()))
    # A candidate without the annotation still shows the finding now and then.
    p_given = np.where(table > 0, table, np.minimum(k.background[findings], 0.05)[:, None])
    p_yes = p_given @ weights
    usable = (p_yes > 0) & (p_yes < 1)
    findings, table, p_given, p_yes = findings[usable], table[usable], p_given[usable], p_yes[usable]
    after_yes = weights * p_given / p_yes[:, None]
    after_no = weights * (1 - p_given) / (1 - p_yes)[:, None]
    gain = _entropy(weights) - p_yes * _entropy(after_yes) - (1 - p_yes) * _entropy(after_no)
    ids = [k.finding_ids[f] for f in findings.tolist()]
    order = sorted(range(len(ids)), key=lambda i: (-gain[i], ids[i]))[:limit]
    return [
        Question(
            finding=ids[i],
            name=k.finding_names[int(findings[i])],
            information_gain=round(float(gain[i]), 4),
            expected_in=[
                {"disease": k.disease_ids[d], "frequency": round(float(f), 4)}
                for d, f in zip(candidates, table[i].tolist(), strict=True)
                if f > 0
            ],
        )
        for i in order
    ]
