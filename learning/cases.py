"""Labelled cases for learning: the cases behind answers that got a confirmed or final diagnosis, and
ingested records given a final diagnosis. Pure functions over the feedback rows and what they point at."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from learning.feedback_store import LABEL_VERDICTS, FeedbackRow

PRESENT = 0.5


@dataclass(frozen=True, slots=True)
class LabelledCase:
    id: str
    observations: tuple[tuple[str, float], ...]
    """(finding id, probability present)."""
    diseases: frozenset[str]
    age: float | None = None
    sex: str | None = None
    setting: str = "unknown"

    @property
    def present(self) -> frozenset[str]:
        return frozenset(f for f, p in self.observations if p >= PRESENT)


def labels(rows: Iterable[FeedbackRow]) -> dict[str, frozenset[str]]:
    """Per answer or record: the diseases its latest verdicts say the patient has (a later rejection undoes
    an earlier confirmation of the same disease)."""
    latest: dict[tuple[str, str], str] = {}
    for row in rows:
        if row.target_kind == "diagnosis":
            subject = f"answer:{row.request_id}" if row.request_id else f"record:{row.record_node}"
            latest[(subject, row.target)] = row.verdict
    found: dict[str, set[str]] = {}
    for (subject, target), verdict in sorted(latest.items()):
        if verdict in LABEL_VERDICTS:
            found.setdefault(subject, set()).add(target)
    return {subject: frozenset(d) for subject, d in found.items()}


def labelled_cases(
    rows: Iterable[FeedbackRow],
    *,
    answer_case: Callable[[str], dict],
    record_observations: Callable[[str], list[tuple[str, float]]],
) -> list[LabelledCase]:
    """Each labelled answer's stored case, and each labelled record's present and negated mentions."""
    cases = []
    for subject, diseases in sorted(labels(rows).items()):
        kind, _, ref = subject.partition(":")
        if kind == "answer":
            case = answer_case(ref)
            observations = tuple((o["finding"], float(o["probability"])) for o in case.get("observations", []))
            cases.append(
                LabelledCase(
                    subject, observations, diseases, case.get("age"), case.get("sex"), case.get("setting") or "unknown"
                )
            )
        else:
            cases.append(LabelledCase(subject, tuple(record_observations(ref)), diseases))
    return cases


def in_validation(case_id: str, share: float) -> bool:
    """A fixed split by a hash of the case id: the same case is always on the same side."""
    return int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % 10_000 < share * 10_000


def split(cases: list[LabelledCase], share: float) -> tuple[list[LabelledCase], list[LabelledCase]]:
    learn = [c for c in cases if not in_validation(c.id, share)]
    held = [c for c in cases if in_validation(c.id, share)]
    return learn, held
