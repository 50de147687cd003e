"""`learn`: build a candidate update from labelled cases, check it on held-out ones, promote it only if
it is no worse than the version in use. Engines come from the caller, so this module reads no settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from cdss.errors import CdssError, InputError
from learning.cases import PRESENT, LabelledCase, split
from learning.update import build_update
from learning.versions import VersionStore
from ranking import Engine
from ranking.case import Case, StatedFinding
from ranking.learned import LearnedUpdate

log = logging.getLogger(__name__)

ABSENT = 0.05
RANKS_READ = 100
GNN_NOTE = (
    "not retrained: the link model's scores carry weight 0 in the ranking (issue 18 measured that they hurt "
    "real cases), so a retrained model could not change an answer"
)


def as_case(case: LabelledCase) -> Case:
    present = tuple(StatedFinding(f, p) for f, p in case.observations if p >= PRESENT)
    absent = tuple(StatedFinding(f) for f, p in case.observations if p <= ABSENT)
    return Case(id=case.id, present=present, absent=absent, age=case.age, sex=case.sex, setting=case.setting)


def rank_metrics(engine: Engine, cases: list[LabelledCase]) -> dict:
    """Top-1, 3 and 10 and mean reciprocal rank of the labelled diseases, over cases the engine can rank."""
    hits = {1: 0, 3: 0, 10: 0}
    reciprocal, ranked = 0.0, 0
    for case in cases:
        try:
            result = engine.rank(as_case(case), top_k=RANKS_READ)
        except CdssError as error:
            log.info("case %s not ranked: %s", case.id, error.code)
            continue
        ranked += 1
        ids = [d.id for d in result.diagnoses]
        rank = next((i + 1 for i, d in enumerate(ids) if d in case.diseases), None)
        if rank is not None:
            reciprocal += 1 / rank
            for k in hits:
                hits[k] += rank <= k
    n = max(ranked, 1)
    return {
        "cases": len(cases),
        "ranked": ranked,
        **{f"top{k}": round(v / n, 4) for k, v in hits.items()},
        "mrr": round(reciprocal / n, 4),
    }


def no_worse(candidate: dict, current: dict) -> bool:
    return candidate["top10"] >= current["top10"] and candidate["mrr"] >= current["mrr"]


def learn(
    cases: list[LabelledCase],
    *,
    versions: VersionStore,
    current_engine: Engine,
    engine_with: Callable[[LearnedUpdate], Engine],
    graph_version: str,
    known_findings: set[str],
    known_diseases: set[str],
    validation_share: float = 0.2,
    min_support: int = 1,
    prior_strength: float = 100.0,
    dry_run: bool = False,
) -> dict:
    """Build, check and maybe promote one candidate; it is kept either way, so every version stays on disk."""
    learn_cases, held_out = split(cases, validation_share)
    if not learn_cases:
        raise InputError("no labelled cases to learn from: give confirmed or final diagnoses as feedback first")
    candidate = build_update(
        learn_cases,
        graph_version=graph_version,
        known_findings=known_findings,
        known_diseases=known_diseases,
        sequence=versions.next_sequence(),
        parent=versions.current_version(),
        min_support=min_support,
        prior_strength=prior_strength,
    )
    current = rank_metrics(current_engine, held_out)
    checked = rank_metrics(engine_with(candidate), held_out)
    promoted = bool(held_out) and no_worse(checked, current) and not dry_run
    evaluation = {
        "held_out_cases": len(held_out),
        "current": {"version": versions.current_version(), **current},
        "candidate": checked,
        "no_worse": no_worse(checked, current),
    }
    candidate = replace(candidate, evaluation=evaluation)
    if not dry_run:
        versions.promote(candidate) if promoted else versions.save(candidate)
    reason = (
        "promoted: no worse than the version in use on the held-out cases"
        if promoted
        else "dry run: nothing written"
        if dry_run
        else "kept, not promoted: "
        + (
            "no held-out cases to check it on"
            if not held_out
            else "worse than the version in use on the held-out cases"
        )
    )
    return {
        "candidate": candidate.version,
        "learned_from": len(learn_cases),
        "annotations": len(candidate.annotations),
        "diseases": len(candidate.disease_counts),
        "prior_weight": round(candidate.prior_weight(), 4),
        "evaluation": evaluation,
        "promoted": promoted,
        "outcome": reason,
        "in_use": versions.current_version(),
        "gnn": GNN_NOTE,
    }
