"""Ranking a batch of cases given as JSON lines: one line in, one line out, the same in one process
(`cdss rank`) and on Spark executors (cluster/rank.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from cdss.errors import CdssError, InputError
from cdss.progress import progress
from ranking import Case, RankResult, parse_case
from ranking.engine import Engine

BATCH = 64
"""Cases ranked together (`Engine.rank_many`)."""


def case_line(number: int, raw: bytes) -> tuple[object, Case | None, CdssError | None]:
    """(case id, case, error) for one line of the file: exactly one of case and error is set."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, None, InputError(f"line {number} is not UTF-8 (invalid byte at offset {exc.start})")
    except json.JSONDecodeError as exc:
        return None, None, InputError(f"line {number} is not JSON: {exc.msg} at column {exc.colno}")
    case_id = data.get("id") if isinstance(data, dict) else None
    try:
        return case_id, parse_case(data), None
    except InputError as error:
        return case_id, None, InputError(f"line {number}: {error}")


def brief(result: dict) -> dict:
    """Only ids, names, scores and ranks, without the evidence."""
    return {
        "id": result["id"],
        "diagnoses": [{k: d[k] for k in ("id", "name", "score", "rank")} for d in result["diagnoses"]],
        "treatments": [
            {"drug": t["drug"], "name": t["name"], "for": t["for"]["id"], "score": t["score"]}
            for t in result["treatments"]
        ],
        "versions": result["versions"],
        "notice": result["notice"],
    }


def answer_line(case_id: object, result: RankResult | CdssError, *, brief_only: bool) -> dict:
    """The output line of one case: its ranking, or the error that kept it from being ranked."""
    if isinstance(result, RankResult):
        return brief(result.to_dict()) if brief_only else result.to_dict()
    return {"id": case_id, "error": {"code": result.code, "message": str(result)}}


def rank_lines(
    engine: Engine,
    items: Iterable[tuple[int, object, Case | None, CdssError | None]],
    *,
    top_k: int,
    brief_only: bool,
    show_progress: bool | None = False,
) -> Iterator[tuple[int, dict]]:
    """(line number, output line) for each (line number, case id, case, error), in the order given."""
    items = list(items)
    valid = [(number, case) for number, _, case, _ in items if case is not None]
    results: dict[int, RankResult] = {}
    batches = progress(range(0, len(valid), BATCH), desc="ranking", enabled=show_progress, unit="batch")
    for start in batches:
        batch = valid[start : start + BATCH]
        for (number, _), result in zip(batch, engine.rank_many([c for _, c in batch], top_k=top_k), strict=True):
            results[number] = result
    for number, case_id, _, error in items:
        yield number, answer_line(case_id, results.get(number, error), brief_only=brief_only)
