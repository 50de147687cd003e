"""`cdss rank` and `cdss related`: the ranking engine from the command line (`cdss eval` is in cli/evaluate.py)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from cdss.errors import CdssError, InputError
from cdss.settings import load_settings

STORE_HELP = "Graph store URL or file path (default: CDSS_STORE)."
BATCH = 64


def engine_from_settings(store_url: str | None, *, with_nlp: bool = False):
    from runtime import load_engine, open_graph

    settings = load_settings()
    store = open_graph(settings, store_url)
    return settings, load_engine(store, settings, with_nlp=with_nlp)


def _read_cases(path: Path):
    """(line number, case id, case or None, error or None) for every non-blank line."""
    from ranking import parse_case

    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield number, None, None, InputError(f"line {number} is not UTF-8 (invalid byte at offset {exc.start})")
                continue
            except json.JSONDecodeError as exc:
                yield number, None, None, InputError(f"line {number} is not JSON: {exc.msg} at column {exc.colno}")
                continue
            case_id = data.get("id") if isinstance(data, dict) else None
            try:
                yield number, case_id, parse_case(data), None
            except InputError as error:
                yield number, case_id, None, InputError(f"line {number}: {error}")


def _brief(result: dict) -> dict:
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


def _error_line(case_id, error: CdssError) -> dict:
    return {"id": case_id, "error": {"code": error.code, "message": str(error)}}


@click.command("rank")
@click.option("--cases", "cases_path", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--top", "top_k", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write JSON lines here (default: stdout).")
@click.option("--brief", is_flag=True, help="Only ids, names, scores and ranks (no evidence).")
@click.option("--store", "store_url", help=STORE_HELP)
def rank_command(cases_path: Path, top_k: int, out: Path | None, brief: bool, store_url: str | None) -> None:
    """Rank a batch of cases (JSON lines) into differentials and treatment options.

    Each line: {"id", "present": [...], "absent": [...], "text"?, "image_findings"?, "medications"?,
    "genes"?, "age"?, "sex"?}. A line that cannot be ranked gets an "error" line; the others go on.
    """
    from cdss.progress import progress
    from ranking import RankResult

    items = list(_read_cases(cases_path))
    with_nlp = any(case is not None and case.text for _, _, case, _ in items)
    settings, engine = engine_from_settings(store_url, with_nlp=with_nlp)
    sink = out.open("w", encoding="utf-8") if out else sys.stdout
    started, ranked, failed = time.perf_counter(), 0, 0
    try:
        valid = [(number, case) for number, _, case, _ in items if case is not None]
        results = {}
        for start in progress(range(0, len(valid), BATCH), desc="ranking", enabled=settings.progress, unit="batch"):
            batch = valid[start : start + BATCH]
            for (number, _), result in zip(batch, engine.rank_many([c for _, c in batch], top_k=top_k), strict=True):
                results[number] = result
        for number, case_id, _, error in items:
            result = results.get(number, error)
            if isinstance(result, RankResult):
                line = _brief(result.to_dict()) if brief else result.to_dict()
                ranked += 1
            else:
                line = _error_line(case_id, result)
                failed += 1
            sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            sink.close()
    seconds = time.perf_counter() - started
    click.echo(
        f"ranked {ranked} cases, {failed} refused, in {seconds:.1f} s ({ranked / max(seconds, 1e-9):.0f} cases/s)",
        err=True,
    )


@click.command("related")
@click.argument("curie")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@click.option("--store", "store_url", help=STORE_HELP)
def related_command(curie: str, limit: int, as_json: bool, store_url: str | None) -> None:
    """Diseases related to a disease, by shared findings, shared treatments and the hierarchy."""
    _, engine = engine_from_settings(store_url)
    result = engine.related(curie, limit=limit)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    disease = result["disease"]
    click.echo(f"related to {disease['id']} {disease['name']}:")
    for item in result["related"]:
        click.echo(f"  {item['score']:.3f}  {item['id']:<16} {item['name']}")
        click.echo(f"         {item['why']}")
