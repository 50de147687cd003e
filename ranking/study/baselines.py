"""The methods `cdss eval cases` ranks with: the engine itself and two baselines, from the same observations.

- `cdss`: the ranking engine's differential (likelihood ratios and priors).
- `prior only`: diseases by their prior alone (visit shares, the tier rule); a
  floor any method that reads the findings must clear.
- `phenomizer` and `funsimavg`: semantic similarity (Resnik) of the present
  findings, over the same graph and IS_A closure (`ranking.study.similarity`): the
  patient-side best-match average Phenomizer ranks by, and funSimAvg.
"""

from __future__ import annotations

import numpy as np

from cdss.errors import InputError
from cdss.types import Mention
from ranking.engine import Engine
from ranking.study.real_cases import DEPTH, EvalCase, Ranked, Ranker
from ranking.study.similarity import SimilarityModel, SimilaritySpec


def _ordered(ids: list[str], scores: np.ndarray, depth: int) -> Ranked:
    """The `depth` best scores, ties broken by index (which follows the sorted disease ids)."""
    count = min(depth, len(scores))
    best = np.argpartition(-scores, count - 1)[:count] if count else np.zeros(0, dtype=np.int64)
    order = sorted(best.tolist(), key=lambda i: (-scores[i], i))
    return Ranked(tuple((ids[i], rank, float(scores[i])) for rank, i in enumerate(order, start=1)))


def engine_ranker(engine: Engine, *, depth: int = DEPTH) -> Ranker:
    def rank(case: EvalCase, mentions: list[Mention] | None) -> Ranked:
        try:
            result = engine.rank(case.case, top_k=depth, mentions=mentions)
        except InputError as error:
            return Ranked((), str(error))
        return Ranked(tuple((d.id, d.rank, d.probability) for d in result.diagnoses))

    return rank


def prior_ranker(engine: Engine, *, depth: int = DEPTH) -> Ranker:
    k = engine.knowledge

    def rank(case: EvalCase, mentions: list[Mention] | None) -> Ranked:
        c = case.case
        priors = k.log_priors(engine.config, setting=c.setting, age=c.age, sex=c.sex)
        return _ordered(k.disease_ids, priors, depth)

    return rank


def similarity_ranker(engine: Engine, spec: SimilaritySpec | None = None, *, depth: int = DEPTH) -> Ranker:
    k = engine.knowledge
    model = SimilarityModel(k)

    def rank(case: EvalCase, mentions: list[Mention] | None) -> Ranked:
        try:
            resolved = engine.observe(case.case, mentions=mentions)
        except InputError as error:
            return Ranked((), str(error))
        present = [k.finding_index[o.finding] for o in resolved.observations if o.probability >= 0.5]
        if not present:
            return Ranked((), "no present finding: similarity has nothing to compare")
        return _ordered(k.disease_ids, model.scores(present, spec or SimilaritySpec()), depth)

    return rank
