"""Semantic similarity of a patient's findings to every disease, as Phenomizer ranks them.

The information content of a finding is IC(t) = -ln(share of annotated
diseases that have t or a finding below it), the same `background` the
likelihood model uses. Two findings are as similar as their most informative
common ancestor (MICA):

- Resnik: sim(a, b) = IC(MICA(a, b));
- Lin: sim(a, b) = 2 IC(MICA) / (IC(a) + IC(b)).

A patient Q against a disease D (its annotated findings):

- best-match average from the patient's side (Phenomizer's asymmetric
  score): mean over q in Q of max over d in D of sim(q, d);
- funSimAvg: the mean of that and the same from the disease's side, mean
  over d in D of max over q in Q of sim(q, d).

Only present findings count; absent ones and frequencies are ignored, as in
Phenomizer. This is a baseline, not the model: it says how much a plain
similarity measure gets from the same graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ranking.closure import row
from ranking.knowledge import Knowledge

MEASURES = ("resnik", "lin")
AGGREGATES = ("funsimavg", "bma_patient")


@dataclass(frozen=True, slots=True)
class SimilaritySpec:
    measure: str = "resnik"
    aggregate: str = "funsimavg"

    @property
    def name(self) -> str:
        return f"{self.measure} {self.aggregate}"


class SimilarityModel:
    """Phenomizer-style scores of a set of findings against every disease in a `Knowledge`."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.k = knowledge
        binary = knowledge.annotations_by_disease.copy()
        binary.data = np.ones_like(binary.data)
        self.binary = binary.tocsr()
        self.binary_csc = binary.tocsc()
        self.sizes = np.maximum(np.asarray(binary.sum(axis=1)).ravel(), 1.0)

    def mica_ic(self, finding: int) -> np.ndarray:
        """For every finding f, IC of the most informative common ancestor of `finding` and f."""
        k = self.k
        out = np.zeros(len(k.finding_ids))
        ancestors, _ = row(k.ancestors, finding)
        for ancestor in ancestors[np.argsort(k.ic[ancestors])]:
            below, _ = row(k.descendants, int(ancestor))
            out[below] = np.maximum(out[below], k.ic[ancestor])
        return out

    def scores(self, findings: Sequence[int], spec: SimilaritySpec | None = None) -> np.ndarray:
        """One score per disease; diseases with no annotation score 0."""
        k = self.k
        spec = spec or SimilaritySpec()
        n = k.n_diseases
        if not findings:
            return np.zeros(n)
        patient_side = np.zeros(n)
        best_for_annotation = np.zeros(len(k.finding_ids))
        for finding in findings:
            sim = self.mica_ic(finding)
            if spec.measure == "lin":
                denominator = k.ic[finding] + k.ic
                sim = np.divide(2 * sim, denominator, out=np.zeros_like(sim), where=denominator > 0)
            best_for_annotation = np.maximum(best_for_annotation, sim)
            # max over each disease's annotations of sim: a row-wise max of the annotation matrix times sim.
            weighted = self.binary.multiply(sparse.csr_matrix(sim)).tocsr()
            patient_side += np.asarray(weighted.max(axis=1).todense()).ravel()
        patient_side /= len(findings)
        if spec.aggregate == "bma_patient":
            return patient_side
        disease_side = (self.binary @ best_for_annotation) / self.sizes
        return 0.5 * (patient_side + disease_side)
