"""Simulated patients drawn from the graph's own annotations, for `cdss eval diagnosis`.

Rare diseases follow the Phenomizer / LIRICAL protocol: k findings sampled
from a disease's annotations in proportion to their frequency, some replaced
by a parent term (imprecision), plus findings drawn at random from the whole
annotated vocabulary (noise). Common cases come from the DDXPlus conditions
and their evidences. Every draw comes from one seeded generator, so a run is
reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ranking.closure import row
from ranking.config import DDXPLUS, RARE
from ranking.knowledge import IDENTITY, Knowledge
from ranking.observations import IMAGE, STATED, Observation


@dataclass(frozen=True, slots=True)
class SimulatedCase:
    disease: int
    observations: tuple[Observation, ...]
    setting: dict = field(default_factory=dict)

    def without(self, origin: str) -> SimulatedCase:
        return SimulatedCase(self.disease, tuple(o for o in self.observations if o.origin != origin), self.setting)


class Simulator:
    def __init__(self, knowledge: Knowledge, *, seed: int = 0, max_parent_background: float = 0.5) -> None:
        self.k = knowledge
        self.seed = seed
        self.max_parent_background = max_parent_background
        self._sampleable: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.noise_pool = np.flatnonzero(
            (knowledge.background > 0.5 / max(knowledge.n_diseases, 1) * 1.01)
            & np.array([f.startswith("HP:") for f in knowledge.finding_ids])
        )

    def _annotations(self, disease: int) -> tuple[np.ndarray, np.ndarray]:
        """A disease's sampleable annotations: curated ones, not the same-condition links."""
        if disease not in self._sampleable:
            findings, freq = self.k.disease_findings(disease)
            keep = np.array(
                [
                    not any(e.type == IDENTITY for e in self.k.annotation_edges.get((disease, int(f)), ()))
                    for f in findings
                ],
                dtype=bool,
            )
            self._sampleable[disease] = (findings[keep], freq[keep])
        return self._sampleable[disease]

    def eligible(self, tier: str, minimum: int) -> list[int]:
        return [
            d for d in range(self.k.n_diseases) if self.k.tiers[d] == tier and len(self._annotations(d)[0]) >= minimum
        ]

    def _parent(self, finding: int, rng: np.random.Generator) -> int:
        ancestors, distance = row(self.k.ancestors, finding)
        parents = ancestors[(distance == 2) & (self.k.background[ancestors] <= self.max_parent_background)]
        return int(rng.choice(parents)) if len(parents) else finding

    def _negatives(self, disease: int, count: int, rng: np.random.Generator) -> list[int]:
        """Findings the disease does not have (nor anything above or below them), common ones first."""
        if count == 0:
            return []
        findings, _ = self._annotations(disease)
        related: set[int] = set()
        for finding in findings.tolist():
            related.update(row(self.k.ancestors, finding)[0].tolist())
            related.update(row(self.k.descendants, finding)[0].tolist())
        pool = np.array([f for f in self.noise_pool.tolist() if f not in related])
        weights = self.k.background[pool]
        return rng.choice(pool, size=min(count, len(pool)), replace=False, p=weights / weights.sum()).tolist()

    def case(
        self,
        disease: int,
        rng: np.random.Generator,
        *,
        k: int,
        noise: int = 0,
        imprecision: float = 0.0,
        negatives: int = 0,
    ) -> SimulatedCase:
        findings, freq = self._annotations(disease)
        take = min(k, len(findings))
        chosen = rng.choice(findings, size=take, replace=False, p=freq / freq.sum()).tolist()
        chosen = [self._parent(f, rng) if rng.random() < imprecision else f for f in chosen]
        chosen += rng.choice(self.noise_pool, size=noise, replace=False).tolist() if noise else []
        ids = self.k.finding_ids
        observations = [Observation(ids[f], 1.0, STATED) for f in dict.fromkeys(chosen)]
        observations += [Observation(ids[f], 0.0, STATED) for f in self._negatives(disease, negatives, rng)]
        setting = {"k": k, "noise": noise, "imprecision": imprecision, "negatives": negatives}
        return SimulatedCase(disease, tuple(observations), setting)

    def rare_cases(
        self, *, diseases: int, k: int, noise: int, imprecision: float, negatives: int = 0
    ) -> list[SimulatedCase]:
        rng = np.random.default_rng([self.seed, k, noise, int(imprecision * 100), negatives])
        pool = self.eligible(RARE, k)
        picked = rng.choice(pool, size=min(diseases, len(pool)), replace=False)
        return [
            self.case(int(d), rng, k=k, noise=noise, imprecision=imprecision, negatives=negatives)
            for d in sorted(picked.tolist())
        ]

    def common_cases(self, *, per_condition: int, k: int, negatives: int = 0) -> list[SimulatedCase]:
        rng = np.random.default_rng([self.seed, 7, k, negatives])
        return [
            self.case(d, rng, k=k, negatives=negatives) for d in self.eligible(DDXPLUS, 1) for _ in range(per_condition)
        ]

    def image_cases(
        self, image_findings: set[str], *, diseases: int, k: int, noise: int, image_reference: float
    ) -> list[SimulatedCase]:
        """Cases whose disease has an image-visible finding, given as an image model's output."""
        rng = np.random.default_rng([self.seed, 11, k, noise])
        visible = {self.k.finding_index[f] for f in image_findings if f in self.k.finding_index}
        pool = [d for d in range(self.k.n_diseases) if visible & set(self._annotations(d)[0].tolist())]
        pool = [d for d in pool if len(self._annotations(d)[0]) > k]
        picked = sorted(rng.choice(pool, size=min(diseases, len(pool)), replace=False).tolist()) if pool else []
        cases = []
        for disease in picked:
            findings, freq = self._annotations(disease)
            seen = [f for f in findings.tolist() if f in visible]
            image = int(rng.choice(seen))
            others = np.array([f for f in findings.tolist() if f != image])
            weights = np.array([q for f, q in zip(findings.tolist(), freq.tolist(), strict=True) if f != image])
            chosen = rng.choice(others, size=min(k, len(others)), replace=False, p=weights / weights.sum()).tolist()
            chosen += rng.choice(self.noise_pool, size=noise, replace=False).tolist() if noise else []
            ids = self.k.finding_ids
            observations = [Observation(ids[f], 1.0, STATED) for f in dict.fromkeys(chosen) if f != image]
            probability = round(float(rng.uniform(0.6, 0.95)), 3)
            observations.append(Observation(ids[image], probability, IMAGE, {}, image_reference))
            cases.append(SimulatedCase(disease, tuple(observations), {"k": k, "noise": noise}))
        return cases
