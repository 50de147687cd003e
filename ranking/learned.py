"""A knowledge update learned from this deployment's confirmed diagnoses, as the ranking applies it.

Two parts, both small next to the curated graph: disease-finding annotations estimated from
confirmed cases (a noisy-OR weight per Rotmensch et al. 2017, Sci Rep 7:5994), and the share
of each confirmed disease, mixed into the prior. The mix weighs the confirmed shares by the
probability that the next case is a disease seen before, 1 - N1/N (Good 1953: N1 diseases
seen once among N cases estimate the mass of the unseen), and by N / (N + pseudo-cases), so a
handful of cases, or a stream of ever-new diagnoses, barely moves the survey-based prior. `learning/` builds updates;
the ranking reads them; every answer names the update's version.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from cdss.errors import ConfigError
from cdss.types import Edge, EdgeType, Provenance

SOURCE = "cdss feedback"
LICENSE = "Derived from this deployment's clinician feedback and records; not for redistribution"


@dataclass(frozen=True, slots=True)
class LearnedAnnotation:
    disease: str
    finding: str
    frequency: float
    """The weight the ranking uses as the finding's frequency in the disease: the noisy-OR weight."""
    n_both: int
    n_disease: int
    n_finding: int


@dataclass(frozen=True, slots=True)
class LearnedUpdate:
    version: str
    graph_version: str
    created: str
    n_cases: int
    annotations: tuple[LearnedAnnotation, ...] = ()
    disease_counts: dict[str, int] = field(default_factory=dict)
    """Confirmed cases per disease, for the prior."""
    prior_strength: float = 100.0
    """Pseudo-cases behind the survey prior: the learned shares weigh at most N / (N + this)."""
    parent: str | None = None
    evaluation: dict = field(default_factory=dict)
    """How the update did against its parent on held-out cases when it was promoted."""

    @property
    def provenance(self) -> Provenance:
        return Provenance(source=SOURCE, version=self.version, license=LICENSE)

    def edges(self) -> list[Edge]:
        """The learned annotations as `HAS_FINDING` edges, each citing this update."""
        return [
            Edge(
                EdgeType.HAS_FINDING,
                a.disease,
                a.finding,
                self.provenance,
                {"frequency": a.frequency, "n_both": a.n_both, "n_disease": a.n_disease, "n_finding": a.n_finding},
            )
            for a in self.annotations
        ]

    def prior_weight(self) -> float:
        total = sum(self.disease_counts.values())
        if not total:
            return 0.0
        seen_once = sum(1 for n in self.disease_counts.values() if n == 1)
        return (1.0 - seen_once / total) * total / (total + self.prior_strength)

    def learned_shares(self, disease_ids: list[str]) -> np.ndarray:
        """Each disease's share of the confirmed cases (zero for those never confirmed)."""
        total = sum(self.disease_counts.values())
        shares = np.zeros(len(disease_ids))
        if total:
            index = {d: i for i, d in enumerate(disease_ids)}
            for disease, n in self.disease_counts.items():
                if disease in index:
                    shares[index[disease]] = n / total
        return shares

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LearnedUpdate:
        try:
            annotations = tuple(LearnedAnnotation(**a) for a in data.get("annotations", ()))
            return cls(**{**data, "annotations": annotations})
        except TypeError as error:
            raise ConfigError(f"a learned update file does not read as one: {error}") from None


def mix_log_prior(log_prior: np.ndarray, shares: np.ndarray, weight: float) -> np.ndarray:
    """log((1 - w) * prior + w * learned shares): a normalised prior that keeps every disease possible."""
    if weight <= 0:
        return log_prior
    mixed = (1.0 - weight) * np.exp(log_prior) + weight * shares
    return np.log(np.maximum(mixed, np.finfo(float).tiny))
