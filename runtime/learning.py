"""Wiring for `cdss learn` and its demonstration: the feedback store, the versions and the engines."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cdss.errors import CdssError
from cdss.sealing import load_keyring
from cdss.settings import Settings
from cdss.types import EdgeType, NodeLabel
from kg.store import Direction, GraphStore
from learning.cases import LabelledCase, labelled_cases
from learning.feedback_store import FeedbackItem, FeedbackStore
from learning.loop import learn, rank_metrics
from learning.versions import VersionStore
from ranking import Engine
from ranking.learned import LearnedUpdate
from runtime import load_engine


def record_observations(store: GraphStore, record_node: str) -> list[tuple[str, float]]:
    """A record's findings: mentioned as present (1.0) or negated (0.0); hedged and family mentions left out."""
    found = []
    for edge in store.neighbours(record_node, edge_types=[EdgeType.MENTIONS], direction=Direction.OUT):
        if edge.attributes.get("concept_type") != NodeLabel.FINDING.value:
            continue
        if edge.attributes.get("present"):
            found.append((edge.end, 1.0))
        elif edge.attributes.get("assertion") == "negated":
            found.append((edge.end, 0.0))
    return found


def feedback_cases(feedback: FeedbackStore, store: GraphStore) -> list[LabelledCase]:
    return labelled_cases(
        feedback.rows(),
        answer_case=lambda request_id: feedback.answer(request_id).case,
        record_observations=lambda node: record_observations(store, node),
    )


def _engines(store: GraphStore, settings: Settings, versions: VersionStore):
    current = load_engine(store, settings, with_links=False, learned=versions.current() or False)

    def engine_with(update: LearnedUpdate) -> Engine:
        return load_engine(store, settings, with_links=False, learned=update)

    return current, engine_with


def learn_once(
    store: GraphStore,
    settings: Settings,
    cases: list[LabelledCase],
    *,
    versions: VersionStore,
    **options,
) -> dict:
    """One `cdss learn` over these cases with the deployment's engines."""
    current, engine_with = _engines(store, settings, versions)
    return learn(
        cases,
        versions=versions,
        current_engine=current,
        engine_with=engine_with,
        graph_version=store.graph_version,
        known_findings=set(current.curated.finding_ids),
        known_diseases={c.id for c in store.iter_nodes(label=NodeLabel.DISEASE)},
        **options,
    )


def learn_from_feedback(store: GraphStore, settings: Settings, **options) -> dict:
    """Learn from the deployment's accumulated feedback, into its versions folder."""
    feedback = FeedbackStore(settings.feedback_db, keyring=load_keyring(settings.data_key_file))
    try:
        cases = feedback_cases(feedback, store)
    finally:
        feedback.close()
    return learn_once(store, settings, cases, versions=VersionStore(settings.learned_dir), **options)


def in_test_split(case_id: str, share: float) -> bool:
    """The demonstration's fixed split, apart from the learning gate's own (another salt)."""
    return int(hashlib.sha256(b"test split\x00" + case_id.encode()).hexdigest()[:8], 16) % 10_000 < share * 10_000


def replay_vignettes(
    store: GraphStore, settings: Settings, vignettes: list, *, workdir: Path, test_share: float = 0.2, **options
) -> dict:
    """The simulated stream: every vignette outside the fixed test split is ranked (as the API would), its
    answer kept and its gold diagnosis given as final-diagnosis feedback; `cdss learn` then runs on that
    feedback alone; top-k on the test split is measured before and after. Nothing learned is tested on."""
    engine = load_engine(store, settings, with_nlp=True, with_links=False, learned=False)
    keyring = load_keyring(workdir / "data-keys.json")
    feedback = FeedbackStore(workdir / "feedback.sqlite", keyring=keyring)
    versions = VersionStore(workdir / "learned")
    stream = [v for v in vignettes if not in_test_split(v.id, test_share)]
    test = [v for v in vignettes if in_test_split(v.id, test_share)]
    observed = {}
    for vignette in vignettes:
        try:
            resolved = engine.observe(vignette.case)
        except CdssError:
            continue  # nothing to rank on, as in `cdss eval cases`
        observed[vignette.id] = tuple((o.finding, o.probability) for o in resolved.observations)
    for vignette in stream:
        gold = sorted(d for d in vignette.gold if d in engine.curated.disease_index) or sorted(vignette.gold)
        if vignette.id not in observed or not gold:
            continue
        request_id = hashlib.sha256(b"replay\x00" + vignette.id.encode()).hexdigest()[:32]
        case = {"observations": [{"finding": f, "probability": p} for f, p in observed[vignette.id]]}
        feedback.record_answer(request_id=request_id, key_id="replay", result={"versions": engine.versions}, case=case)
        label = FeedbackItem(gold[0], "diagnosis", "final_diagnosis")
        feedback.add([label], key_id="replay", versions=engine.versions, request_id=request_id)
    cases = feedback_cases(feedback, store)
    feedback.close()
    report = learn_once(store, settings, cases, versions=versions, **options)
    test_cases = [LabelledCase(v.id, observed[v.id], frozenset(v.gold)) for v in test if v.id in observed and v.gold]
    learned_diseases = {d for case in cases for d in case.diseases}
    seen = [c for c in test_cases if c.diseases & learned_diseases]
    unseen = [c for c in test_cases if not c.diseases & learned_diseases]
    promoted = versions.current()
    engines = {
        "before": load_engine(store, settings, with_links=False, learned=False),
        "after": load_engine(store, settings, with_links=False, learned=promoted or False),
    }
    return {
        "vignettes": len(vignettes),
        "stream": len(stream),
        "test": len(test),
        "test_ranked": sum(1 for v in test if v.id in observed and v.gold),
        "learn": report,
        "test_version_after": promoted.version if promoted else None,
        **{f"test_{when}": rank_metrics(engine, test_cases) for when, engine in engines.items()},
        "test_gold_confirmed_in_stream": {when: rank_metrics(engine, seen) for when, engine in engines.items()},
        "test_gold_never_confirmed": {when: rank_metrics(engine, unseen) for when, engine in engines.items()},
    }
