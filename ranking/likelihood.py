"""Per-finding likelihood ratios over every disease at once, in the manner of LIRICAL.

For a finding h the patient has and a disease D annotated with finding a at
frequency f, take c, the most informative common ancestor of h and a (h
itself when they are equal). Then

    LR(h | D) = f / background(c) * discount ** (IS_A steps from h to a through c)

- an exact match gives f / background(h);
- a patient more specific than the disease ("focal seizure" against "seizure")
  gives f / background(seizure): as specific as the disease's own annotation;
- a patient less specific ("seizure" against "focal seizure") gives
  f / background(seizure): a general finding says less. When the disease has
  several findings below the patient's, any of them would show it, so their
  frequencies combine by noisy-OR: 1 - prod(1 - f * discount ** steps);
- findings related only through a common ancestor that most diseases share
  (background above `max_related_background`) do not relate at all.

D takes its best annotation; if none relates, LR = `unexplained`, scaled by
how completely D is annotated: unexplained x (`unexplained_reference` / the
number of D's annotations) ** `unexplained_exponent`, kept within 0.05-0.9.
A sparsely annotated disease is more likely to have a finding nobody wrote
down than one whose annotations run to hundreds. A disease that excludes h or
an ancestor of h gets `excluded`.

For a finding the patient does not have: LR = P(absent | D) / P(absent),
with P(absent | D) = 1 - the highest frequency among D's annotations at or
below h (at least `absent_floor`), and 1 for diseases without one; its log
is weighted by `absent_weight`.

An uncertain observation (a confidence, an image model's probability p) is
virtual evidence whose strength is p read against r, what the source says
without looking (0.5 for a person, a label's typical rate for an image model):

    P(obs | D) ~ P(h | D) * p / r + P(not h | D) * (1 - p) / (1 - r)

so for a person p = 0.5 says almost nothing and p = 0.95 nearly as much as a
certain finding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ranking.closure import gather_columns, row
from ranking.config import RankingConfig
from ranking.knowledge import Knowledge

RELATED_CACHE = 1024
UNEXPLAINED_MIN, UNEXPLAINED_MAX = 0.05, 0.9
EXACT, MORE_SPECIFIC, MORE_GENERAL, RELATED, UNEXPLAINED, EXCLUDED, ABSENT, NOT_ANNOTATED = (
    "exact",
    "patient_more_specific",
    "patient_more_general",
    "related",
    "unexplained",
    "excluded",
    "annotated_absent",
    "not_annotated",
)


@dataclass(frozen=True, slots=True)
class Match:
    """Why one disease got its likelihood ratio for one finding."""

    kind: str
    annotation: int | None
    """The disease's finding the patient's finding was matched to."""
    via: int | None
    """Their most informative common ancestor."""
    log_lr: float


class LikelihoodModel:
    """Likelihood ratios of findings against every disease in a `Knowledge`."""

    def __init__(self, knowledge: Knowledge, config: RankingConfig) -> None:
        self.k = knowledge
        self.config = config
        self.log_discount = math.log(config.distance_discount)
        annotated = np.maximum(np.diff(knowledge.annotations_by_disease.indptr), 1).astype(float)
        scale = (config.unexplained_reference / annotated) ** config.unexplained_exponent
        self.log_unexplained = np.log(np.clip(config.unexplained * scale, UNEXPLAINED_MIN, UNEXPLAINED_MAX))
        """Per disease: ln LR of a present finding the disease neither has nor relates to."""
        self.log_excluded = math.log(config.excluded)
        self.log_prior = knowledge.log_priors(config)
        # Which findings relate to a finding, and how, depends on the ontology alone: worth keeping.
        self._related = lru_cache(maxsize=RELATED_CACHE)(self._relate)
        self._below = lru_cache(maxsize=RELATED_CACHE)(self._descendant_mask)

    def _descendant_mask(self, finding: int) -> np.ndarray:
        mask = np.zeros(len(self.k.finding_ids), dtype=bool)
        mask[row(self.k.descendants, finding)[0] if self.config.ontology else [finding]] = True
        return mask

    def _relate(self, finding: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every finding related to `finding`: (findings, IC of the common ancestor, IS_A steps).

        The finding's own ancestors always relate (the patient is more specific than the
        disease's annotation); anything else relates through a common ancestor that at most
        `max_related_background` of the diseases share.
        """
        k = self.k
        anc, anc_dist = row(k.ancestors, finding)
        if not self.config.ontology:
            return np.array([finding]), np.array([k.ic[finding]]), np.array([0])
        anc_dist = anc_dist - 1
        ic_of = np.full(len(k.finding_ids), -1.0)
        steps = np.zeros(len(k.finding_ids), dtype=np.int32)
        ic_of[anc], steps[anc] = k.ic[anc], anc_dist
        keep = (k.background[anc] <= self.config.max_related_background) | (anc == finding)
        order = np.lexsort((anc_dist[keep], -k.ic[anc[keep]]))
        for ancestor, up in zip(anc[keep][order], anc_dist[keep][order], strict=True):
            below, down = row(k.descendants, int(ancestor))
            fresh = ic_of[below] < 0
            ic_of[below[fresh]] = k.ic[ancestor]
            steps[below[fresh]] = up + down[fresh] - 1
        related = np.flatnonzero(ic_of >= 0)
        return related, ic_of[related], steps[related]

    def present(self, finding: int, *, sex: int = 0) -> np.ndarray:
        """ln LR of the finding being present, for every disease."""
        k = self.k
        related, ic_of, steps = self._related(finding)
        best = self.log_unexplained.copy()
        diseases, freq, columns = gather_columns(k.annotations, related)
        if len(diseases):
            position = np.searchsorted(related, columns)
            value = np.log(freq) + ic_of[position] + steps[position] * self.log_discount
            usable = np.ones(len(value), dtype=bool)
            if sex:
                _, sexes, _ = gather_columns(k.annotation_sex, related)
                usable = (sexes == 0) | (sexes == sex)
                value[~usable] = -np.inf
            np.maximum.at(best, diseases, value)
            below = usable & self._below(finding)[columns]
            if below.any():
                chance = np.minimum(freq[below] * np.exp(steps[position[below]] * self.log_discount), 1 - 1e-9)
                missed = np.zeros(k.n_diseases)
                np.add.at(missed, diseases[below], np.log1p(-chance))
                has = missed < 0
                combined = np.log(-np.expm1(missed[has])) + k.ic[finding]
                best[has] = np.maximum(best[has], combined)
        if self.config.negatives:
            anc, _ = row(k.ancestors, finding)
            excluded, _, _ = gather_columns(k.exclusions, anc)
            best[excluded] = self.log_excluded
        return best

    def absent(self, finding: int, *, sex: int = 0) -> np.ndarray:
        """ln LR of the finding being absent, for every disease."""
        k = self.k
        p_absent = 1.0 - min(k.background[finding], 0.99)
        out = np.full(k.n_diseases, -math.log(p_absent))
        below, _ = row(k.descendants, finding)
        if not self.config.ontology:
            below = np.array([finding])
        diseases, freq, _ = gather_columns(k.annotations, below)
        if len(diseases):
            if sex:
                _, sexes, _ = gather_columns(k.annotation_sex, below)
                freq = np.where((sexes != 0) & (sexes != sex), 0.0, freq)
            highest = np.zeros(k.n_diseases)
            np.maximum.at(highest, diseases, freq)
            has = highest > 0
            out[has] = np.log(np.maximum(1.0 - highest[has], self.config.absent_floor)) - math.log(p_absent)
        return self.config.absent_weight * out

    def observed(self, finding: int, probability: float, *, reference: float = 0.5, sex: int = 0) -> np.ndarray:
        """ln LR of an observation that the finding is present with `probability` (virtual evidence)."""
        if probability >= 1.0:
            return self.present(finding, sex=sex)
        if probability <= 0.0:
            return self.absent(finding, sex=sex)
        background = min(self.k.background[finding], 0.99)
        for_present, for_absent = probability / reference, (1 - probability) / (1 - reference)
        lr_present = np.exp(self.present(finding, sex=sex))
        lr_absent = np.exp(self.absent(finding, sex=sex)) if self.config.negatives else 1.0
        given_disease = for_present * background * lr_present + for_absent * (1 - background) * lr_absent
        marginal = for_present * background + for_absent * (1 - background)
        return np.log(given_disease / marginal)

    def explainer(self, finding: int, *, present: bool):
        """A function (disease, log_lr) -> `Match` for one finding, with the per-finding work done once."""
        k = self.k
        if not present:
            below = np.sort(row(k.descendants, finding)[0])

            def absent_match(disease: int, log_lr: float) -> Match:
                annotated, freq = k.disease_findings(disease)
                # A sorted search, not np.isin: this runs for every (observation, listed disease) pair.
                position = np.minimum(np.searchsorted(below, annotated), len(below) - 1)
                hit = below[position] == annotated if len(below) else np.zeros(len(annotated), dtype=bool)
                if not hit.any():
                    return Match(NOT_ANNOTATED, None, None, log_lr)
                best = int(np.argmax(np.where(hit, freq, -1.0)))
                return Match(ABSENT, int(annotated[best]), None, log_lr)

            return absent_match
        related, ic_of, steps = self._related(finding)
        excluded: dict[int, int] = {}
        if self.config.negatives:
            anc, _ = row(k.ancestors, finding)
            rows, _, cols = gather_columns(k.exclusions, anc)
            excluded = dict(zip(rows.tolist(), cols.tolist(), strict=True))
        ancestors = set(row(k.ancestors, finding)[0].tolist())

        def present_match(disease: int, log_lr: float) -> Match:
            if disease in excluded:
                return Match(EXCLUDED, excluded[disease], None, log_lr)
            annotated, freq = k.disease_findings(disease)
            position = np.minimum(np.searchsorted(related, annotated), len(related) - 1)
            hit = related[position] == annotated
            if not hit.any():
                return Match(UNEXPLAINED, None, None, log_lr)
            at = position[hit]
            values = np.log(freq[hit]) + ic_of[at] + steps[at] * self.log_discount
            best = int(np.argmax(values))
            if values[best] < self.log_unexplained[disease]:
                return Match(UNEXPLAINED, None, None, log_lr)
            annotation = int(annotated[hit][best])
            if annotation == finding:
                return Match(EXACT, annotation, None, log_lr)
            if annotation in ancestors:
                return Match(MORE_SPECIFIC, annotation, None, log_lr)
            if finding in set(row(k.ancestors, annotation)[0].tolist()):
                return Match(MORE_GENERAL, annotation, None, log_lr)
            return Match(RELATED, annotation, self._via(finding, annotation), log_lr)

        return present_match

    def explain(self, finding: int, disease: int, *, present: bool, log_lr: float) -> Match:
        """The annotation and ancestor behind one disease's ratio (`log_lr`) for one finding."""
        return self.explainer(finding, present=present)(disease, log_lr)

    def _via(self, finding: int, annotation: int) -> int | None:
        shared = np.intersect1d(row(self.k.ancestors, finding)[0], row(self.k.ancestors, annotation)[0])
        return int(shared[np.argmax(self.k.ic[shared])]) if len(shared) else None
