"""`cdss rank`, `cdss related` and `cdss eval diagnosis`: the ranking engine from the command line."""

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


def _engine(store_url: str | None, *, with_nlp: bool = False):
    from kg import open_store
    from ranking import Engine

    settings = load_settings()
    store = open_store(store_url or settings.store)
    return settings, Engine.load(store, settings, with_nlp=with_nlp)


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
    "age"?, "sex"?}. A line that cannot be ranked gets an "error" line; the others go on.
    """
    from cdss.progress import progress
    from ranking import RankResult

    items = list(_read_cases(cases_path))
    with_nlp = any(case is not None and case.text for _, _, case, _ in items)
    settings, engine = _engine(store_url, with_nlp=with_nlp)
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
    _, engine = _engine(store_url)
    result = engine.related(curie, limit=limit)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    disease = result["disease"]
    click.echo(f"related to {disease['id']} {disease['name']}:")
    for item in result["related"]:
        click.echo(f"  {item['score']:.3f}  {item['id']:<16} {item['name']}")
        click.echo(f"         {item['why']}")


@click.group("eval")
def evaluate() -> None:
    """Measure the ranking: on published vignettes, and on simulated cases."""


@evaluate.command("diagnosis")
@click.option("--diseases", default=500, show_default=True, type=click.IntRange(1), help="Rare diseases per setting.")
@click.option(
    "--per-condition", default=20, show_default=True, type=click.IntRange(1), help="Cases per DDXPlus condition."
)
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON and PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--store", "store_url", help=STORE_HELP)
def diagnosis_command(
    diseases: int, per_condition: int, seed: int, out: Path | None, as_json: bool, store_url: str | None
) -> None:
    """Simulated rare-disease patients (k findings, noise, imprecision), DDXPlus cases and ablations."""
    from ontologies.cxr import cxr_label_map
    from ranking.evaluate import evaluate_diagnosis, plot_ranks

    settings, engine = _engine(store_url)
    image_findings = {f for label in cxr_label_map().values() if label.clinical for f in label.findings}
    report = evaluate_diagnosis(
        engine.knowledge,
        engine.config,
        diseases=diseases,
        per_condition=per_condition,
        seed=seed,
        image_findings=image_findings,
        show_progress=settings.progress,
    )
    report["versions"] = engine.versions
    target = out or settings.data_dir / "eval" / "diagnosis"
    target.mkdir(parents=True, exist_ok=True)
    plot_ranks(report, target / "diagnosis_ranks.png")
    ranks = report.pop("_ranks")
    (target / "diagnosis_eval.json").write_text(json.dumps({**report, "ranks": ranks}, indent=2))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(_table(report))
    click.echo(f"wrote {target / 'diagnosis_eval.json'} and {target / 'diagnosis_ranks.png'}", err=True)


def _table(report: dict) -> str:
    def cells(metrics: dict) -> str:
        m = metrics["micro"]
        macro = metrics["macro"]["top10"]
        return f"{m['top1']:>6.3f} {m['top3']:>6.3f} {m['top10']:>6.3f} {m['mrr']:>6.3f}   macro top10 {macro:.3f}"

    lines = ["simulated rare-disease patients", f"{'k':>3} {'noise':>5} {'impr.':>5}   top1   top3  top10    MRR"]
    for row in report["rare"]:
        lines.append(f"{row['k']:>3} {row['noise']:>5} {row['imprecision']:>5}  {cells(row)}")
    lines.append(f"ablations ({report['ablations']['setting']})")
    for name, metrics in report["ablations"]["results"].items():
        lines.append(f"  {name:<48} {cells(metrics)}")
    lines.append("DDXPlus conditions")
    for row in report["common"]:
        lines.append(f"  k={row['k']} negatives={row['negatives']:<2}{'':<32} {cells(row)}")
    lines.append(f"image ablation ({report['image_ablation']['setting']})")
    for name in ("with image evidence", "without image evidence"):
        lines.append(f"  {name:<48} {cells(report['image_ablation'][name])}")
    versions = report["versions"]
    lines.append(f"{report['seconds']:.0f} s, ranking {versions['ranking']}, graph {versions['graph']}")
    return "\n".join(lines)


VIGNETTES = Path("clinical-vignettes-craftmd") / "craftmd_vignettes.jsonl"


@evaluate.command("vignettes")
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help=f"JSON lines with id, text and gold (default: <sources>/{VIGNETTES}, from `cdss data fetch`).",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N vignettes.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON, cases and PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--store", "store_url", help=STORE_HELP)
def vignettes_command(
    path: Path | None, limit: int | None, out: Path | None, as_json: bool, store_url: str | None
) -> None:
    """Published vignettes ranked end to end from their text: top-1, top-3 and top-10 of the gold diagnosis."""
    from cdss.progress import progress
    from ranking.vignettes import (
        DEPTH,
        GOLD_IN_GRAPH,
        GoldIndex,
        evaluate_vignettes,
        plot_vignette_ranks,
        read_vignettes,
    )

    settings = load_settings()
    path = path or settings.sources_dir / VIGNETTES
    if not path.is_file():
        raise InputError(f"no vignettes at {path}: run `cdss data fetch` or pass --file")
    vignettes = read_vignettes(path)[:limit]
    _, engine = _engine(store_url, with_nlp=True)
    index = GoldIndex.from_store(engine.store)
    k = engine.knowledge
    groups = {
        "gold seen in the visit surveys": lambda gold: any(
            d in k.disease_index and k.priors.has_own[k.disease_index[d]] for d in gold
        ),
    }
    report, results = evaluate_vignettes(
        vignettes,
        lambda cases: engine.rank_many(cases, top_k=DEPTH),
        index,
        progress=lambda items: progress(items, desc="vignettes", enabled=settings.progress, unit="batch"),
        groups=groups,
    )
    report["file"] = str(path)
    report["versions"] = engine.versions
    target = out or settings.data_dir / "eval" / "vignettes"
    target.mkdir(parents=True, exist_ok=True)
    (target / "vignettes_eval.json").write_text(json.dumps(report, indent=2))
    with (target / "vignettes_cases.jsonl").open("w", encoding="utf-8") as sink:
        for result in results:
            sink.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    runs = {"all vignettes": [r.rank for r in results]}
    runs.update(
        {
            name: [r.rank for r in results if test(set(r.gold_ids))]
            for name, test in {GOLD_IN_GRAPH: bool, **groups}.items()
        }
    )
    plot_vignette_ranks(runs, target / "vignettes_ranks.png")
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(_vignette_table(report))
    click.echo(f"wrote {target / 'vignettes_eval.json'}, vignettes_cases.jsonl and vignettes_ranks.png", err=True)


def _vignette_table(report: dict) -> str:
    def cells(m: dict) -> str:
        return f"{m['cases']:>6} {m['top1']:>6.3f} {m['top3']:>6.3f} {m['top10']:>6.3f} {m['mrr']:>6.3f}"

    lines = [f"{'':<32} {'cases':>6} {'top1':>6} {'top3':>6} {'top10':>6} {'MRR':>6}"]
    lines.append(f"{'all vignettes':<32} {cells(report['all'])}")
    for name, metrics in report["subsets"].items():
        lines.append(f"  {name:<30} {cells(metrics)}")
    for name, metrics in report["groups"].items():
        lines.append(f"{name:<32} {cells(metrics)}")
    lines.append(
        f"gold names no graph disease: {report['gold_not_in_graph']}; refused (nothing to rank): {report['refused']}"
    )
    versions = report["versions"]
    lines.append(
        f"{report['seconds']:.0f} s, ranking {versions['ranking']}, graph {versions['graph']}, nlp {versions['nlp']}"
    )
    return "\n".join(lines)
