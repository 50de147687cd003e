"""Batch ranking on Spark: a cohort's cases (JSON lines, any path Spark reads) ranked in partitions.

Each Python worker loads the ranking engine once (the graph from `store`, and the NLP pipeline when any case of
the job has text, as `cdss rank` does) and ranks its lines with the code `cdss rank` uses (`runtime.batch`), so
every output line is the one the single-process command writes for that input line. The store must be readable
by every executor at the same URL: a path on shared storage, or Neo4j. Executors rank with the driver's
settings: its CDSS_* variables travel with the job (not those naming keys), since an executor's own environment
is the one its cluster manager, or in local mode the first Spark session of the process, started it with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from runtime.batch import case_line, rank_lines

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import SparkSession

    from ranking.engine import Engine

_ENGINES: dict[tuple, Engine] = {}


@dataclass(frozen=True, slots=True)
class RankPlan:
    store: str
    top_k: int
    brief: bool
    env: tuple[tuple[str, str], ...] = ()
    """The driver's CDSS_* settings, sorted."""
    with_nlp: bool = False
    """Whether any case of the job has text: then every partition ranks with the NLP pipeline, as one process
    does, so that every answer names the same versions."""


def driver_settings(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The CDSS_* variables that shape a ranking, without those that name a key (they stay on the driver)."""
    return tuple(sorted((k, v) for k, v in environ.items() if k.startswith("CDSS_") and "KEY" not in k))


def executor_engine(plan: RankPlan) -> Engine:
    """The engine for the plan, loaded once per Python worker."""
    key = (plan.store, plan.env, plan.with_nlp)
    if key not in _ENGINES:
        from cdss.settings import load_settings
        from runtime import load_engine, open_graph

        settings = load_settings(dict(plan.env))
        _ENGINES[key] = load_engine(open_graph(settings, plan.store), settings, with_nlp=plan.with_nlp)
    return _ENGINES[key]


def has_text(line: str) -> bool:
    """Whether the line is a case with text (the single-process command loads the NLP when any case has)."""
    _, case, _ = case_line(0, line.encode("utf-8")) if line.strip() else (None, None, None)
    return case is not None and bool(case.text)


def rank_partition(plan: RankPlan, rows: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, bool]]:
    """(line number, output JSON line, whether the case was refused) for each (line number, input line)."""
    items = [(number, *case_line(number, raw.encode("utf-8"))) for number, raw in rows if raw.strip()]
    if not items:
        return
    engine = executor_engine(plan)
    for number, line in rank_lines(engine, items, top_k=plan.top_k, brief_only=plan.brief):
        yield number, json.dumps(line, ensure_ascii=False), "error" in line


def rank_on_spark(
    session: SparkSession,
    cases: str,
    *,
    store: str,
    top_k: int,
    brief: bool,
    env: tuple[tuple[str, str], ...] = (),
    partitions: int | None = None,
) -> RDD:
    """An RDD of (line number, output line, refused), in the input's order, for the cases at `cases`."""
    lines = session.sparkContext.textFile(cases)
    partitions = partitions or 2 * session.sparkContext.defaultParallelism
    numbered = lines.zipWithIndex().map(lambda pair: (pair[1] + 1, pair[0])).repartition(partitions)
    plan = RankPlan(store=store, top_k=top_k, brief=brief, env=env, with_nlp=not lines.filter(has_text).isEmpty())
    ranked = numbered.mapPartitions(partial(rank_partition, plan))
    return ranked.sortBy(lambda answer: answer[0])
