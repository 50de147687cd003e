"""`cdss eval ...`: the ranking measured on simulated patients and on cases somebody else wrote, and tuned."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from cdss.errors import InputError
from cdss.settings import load_settings
from cli.rank import STORE_HELP, engine_from_settings


@click.group("eval")
def evaluate() -> None:
    """Measure the ranking: on published vignettes, and on simulated cases."""


def _case_file_options(command: Callable) -> Callable:
    """`--format` and `--file`: which published cases to read, shared by `cdss eval cases` and `cdss eval tune`."""
    command = click.option(
        "--file",
        "path",
        type=click.Path(path_type=Path, exists=True, dir_okay=False),
        help="JSON lines (default: the development set for the format, from `cdss data fetch`).",
    )(command)
    choice = click.Choice(list(CASE_FILES))
    return click.option("--format", "fmt", required=True, type=choice, help="How the file states cases.")(command)


@evaluate.command("diagnosis")
@click.option("--diseases", default=500, show_default=True, type=click.IntRange(1), help="Rare diseases per setting.")
@click.option(
    "--per-condition", default=20, show_default=True, type=click.IntRange(1), help="Cases per DDXPlus condition."
)
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON and PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--store", "store_url", help=STORE_HELP)
@click.option(
    "--hosted-images/--no-hosted-images",
    default=True,
    show_default=True,
    help="Also rank the image cases with real test images read by the hosted image models (when trained).",
)
def diagnosis_command(
    diseases: int,
    per_condition: int,
    seed: int,
    out: Path | None,
    as_json: bool,
    store_url: str | None,
    hosted_images: bool,
) -> None:
    """Simulated rare-disease patients (k findings, noise, imprecision), DDXPlus cases and ablations."""
    from ontologies.cxr import cxr_label_map
    from ranking.study.evaluate import evaluate_diagnosis, plot_ranks
    from runtime import load_image_models

    settings, engine = engine_from_settings(store_url)
    image_findings = {f for label in cxr_label_map().values() if label.clinical for f in label.findings}
    models = load_image_models(settings) if hosted_images else {}
    reader = None
    if models:
        from imaging.hosted_reader import hosted_reader

        reader = hosted_reader(models, settings.sources_dir, seed=seed)
    report = evaluate_diagnosis(
        engine.knowledge,
        engine.config,
        diseases=diseases,
        per_condition=per_condition,
        seed=seed,
        image_findings=image_findings,
        hosted_image=reader,
        show_progress=settings.progress,
    )
    report["versions"] = engine.versions
    target = out or settings.data_dir / "eval" / "diagnosis"
    target.mkdir(parents=True, exist_ok=True)
    plot_ranks(report, target / "diagnosis_ranks.png")
    ranks = report.pop("_ranks")
    (target / "diagnosis_eval.json").write_text(json.dumps({**report, "ranks": ranks}, indent=2))
    _show(report, as_json, _table, f"wrote {target / 'diagnosis_eval.json'} and {target / 'diagnosis_ranks.png'}")


def _show(report: dict, as_json: bool, table, wrote: str) -> None:
    """The report as JSON, or as a table with where the files went (on standard error)."""
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(table(report))
    click.echo(wrote, err=True)


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
    hosted = report.get("hosted_image_model")
    if hosted:
        lines.append(f"hosted image models, real test images ({hosted['cases']} cases)")
        for name in ("without image", "with an image showing it", "with a normal image"):
            if hosted[name]:
                lines.append(f"  {name:<48} {cells(hosted[name])}")
    versions = report["versions"]
    lines.append(f"{report['seconds']:.0f} s, ranking {versions['ranking']}, graph {versions['graph']}")
    return "\n".join(lines)


CASE_FILES = {
    "phenopacket": Path("phenopackets-dev") / "phenopackets_dev.jsonl",
    "vignette": Path("clinical-vignettes-craftmd") / "craftmd_vignettes.jsonl",
}
METHODS = ("cdss", "phenomizer", "funsimavg", "prior")
OPTIONAL_METHODS = ("cdss+predicted",)
"""Asked for by name: the engine with the link model's predicted links (`--predicted-links`)."""


def _eval_cases(fmt: str, path: Path | None, limit: int | None, store_url: str | None):
    """Settings, the case file, the engine (with NLP for vignettes) and the cases it holds, gold resolved."""
    from ranking.study.real_cases import GoldIndex, read_phenopackets, read_vignettes

    settings = load_settings()
    path = path or settings.sources_dir / CASE_FILES[fmt]
    if not path.is_file():
        raise InputError(f"no cases at {path}: run `cdss data fetch` or pass --file")
    _, engine = engine_from_settings(store_url, with_nlp=fmt == "vignette")
    index = GoldIndex.from_store(engine.store)
    if fmt == "vignette":
        cases = read_vignettes(path, index)[:limit]
    else:
        cases = read_phenopackets(path, engine.store, set(engine.knowledge.finding_ids), index)[:limit]
    return settings, path, engine, cases


@evaluate.command("cases")
@_case_file_options
@click.option(
    "--methods",
    default=",".join(METHODS),
    show_default=True,
    help="Comma-separated: cdss, phenomizer (Resnik, patient-side best match), funsimavg (Resnik), prior, and "
    "cdss+predicted (cdss with the GNN's predicted links for sparsely annotated diseases).",
)
@click.option(
    "--predicted-links",
    default="10,5,0.9,0.25",
    show_default=True,
    help="For cdss+predicted: at most N curated findings, links per disease, minimum probability, frequency scale.",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N cases.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON, misses and PNGs.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--store", "store_url", help=STORE_HELP)
def cases_command(
    fmt: str,
    path: Path | None,
    methods: str,
    predicted_links: str,
    limit: int | None,
    out: Path | None,
    as_json: bool,
    store_url: str | None,
) -> None:
    """Cases somebody else wrote (phenopackets, vignettes), ranked by cdss and by baselines from the same
    observations: top-1, top-3, top-10 and MRR, micro and macro, calibration, misses."""
    from cdss.progress import progress
    from ranking.calibration import plot_reliability
    from ranking.config import PredictionPolicy
    from ranking.study.baselines import engine_ranker, prior_ranker, similarity_ranker
    from ranking.study.real_cases import GOLD_MATCHING_RULES, calibration_of, evaluate_cases, plot_rank_histogram
    from ranking.study.similarity import SimilaritySpec

    chosen = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(METHODS) - set(OPTIONAL_METHODS))
    if unknown or not chosen:
        listed = ", ".join(METHODS + OPTIONAL_METHODS)
        raise InputError(f"unknown method(s) {', '.join(unknown) or '(none)'}; expected some of {listed}")
    policy = PredictionPolicy.parse(predicted_links) if "cdss+predicted" in chosen else None
    settings, path, engine, cases = _eval_cases(fmt, path, limit, store_url)
    if policy is not None and engine.link_scorer is None:
        raise InputError("cdss+predicted needs a trained link model for this graph: run `cdss gnn train`")
    k = engine.knowledge
    builders = {
        "cdss+predicted": lambda e: engine_ranker(e.with_config(replace(e.config, predicted_links=policy))),
        "cdss": engine_ranker,
        "phenomizer": lambda e: similarity_ranker(e, SimilaritySpec("resnik", "bma_patient")),
        "funsimavg": lambda e: similarity_ranker(e, SimilaritySpec("resnik", "funsimavg")),
        "prior": prior_ranker,
    }
    rankers = {name: builders[name](engine) for name in chosen}
    report, results = evaluate_cases(
        cases,
        rankers,
        mentions=(lambda batch: list(engine.mentions([c.case.text for c in batch])))
        if fmt == "vignette"
        else (lambda batch: [None] * len(batch)),
        known_diseases=set(k.disease_ids),
        progress=lambda items: progress(items, desc="cases", enabled=settings.progress, unit="batch"),
        groups={
            "gold seen in the visit surveys": lambda c: any(
                d in k.disease_index and k.priors.has_own[k.disease_index[d]] for d in c.gold
            )
        },
    )
    report.update(file=str(path), format=fmt, versions=engine.versions, gold_matching=GOLD_MATCHING_RULES)
    target = out or settings.data_dir / "eval" / "cases" / path.stem
    target.mkdir(parents=True, exist_ok=True)
    if "cdss" in rankers:
        curve = calibration_of(results, "cdss")
        report["calibration"] = curve.to_dict()
        plot_reliability({"cdss": curve}, target / "cases_reliability.png", f"{path.stem}: top diagnosis")
    (target / "cases_eval.json").write_text(json.dumps(report, indent=2))
    lead = chosen[0]
    with (target / "cases_misses.jsonl").open("w", encoding="utf-8") as sink:
        for result in results:
            if result.rank(lead) != 1:
                line = result.to_dict(lead) | {"ranks": {m: result.rank(m) for m in chosen}}
                sink.write(json.dumps(line, ensure_ascii=False) + "\n")
    plot_rank_histogram(results, chosen, target / "cases_ranks.png", f"{path.stem} ({len(results)} cases)")
    _show(report, as_json, _cases_table, f"wrote cases_eval.json, cases_misses.jsonl and the PNGs to {target}")


def _cases_table(report: dict) -> str:
    def cells(m: dict) -> str:
        macro = m.get("macro", {})
        return (
            f"{m['cases']:>6} {m['top1']:>6.3f} {m['top3']:>6.3f} {m['top10']:>6.3f} {m['mrr']:>6.3f}"
            f"   macro {macro.get('top1', 0):.3f} {macro.get('top10', 0):.3f}"
        )

    lines = [f"{'':<44} {'cases':>6} {'top1':>6} {'top3':>6} {'top10':>6} {'MRR':>6}   macro top1 top10"]
    for method, metrics in report["methods"].items():
        lines.append(f"{method:<44} {cells(metrics['all'])}")
        for name, group in metrics["groups"].items():
            if group["cases"]:
                lines.append(f"  {name:<42} {cells(group)}")
    lines.append(f"gold matching: {report['gold_matching']}")
    lines.append(
        f"gold absent from the graph: {report['gold_absent_from_graph']:.1%}; "
        f"unknown to the ranking (no findings): {report.get('gold_unknown_to_ranking', 0):.1%}"
    )
    if "calibration" in report:
        lines.append(f"calibration of the top diagnosis's probability: ECE {report['calibration']['ece']:.3f}")
    versions = report["versions"]
    lines.append(
        f"{report['seconds']:.0f} s, ranking {versions['ranking']}, graph {versions['graph']}, nlp {versions['nlp']}"
    )
    return "\n".join(lines)


DEFAULT_GRID = (
    '{"absent_weight": [0.0, 0.25, 1.0], "distance_discount": [0.25, 0.4], '
    '"unexplained_exponent": [0.0, 1.0], "prior_temperature": [0.25, 0.5]}'
)


@evaluate.command("tune")
@_case_file_options
@click.option("--grid", default=DEFAULT_GRID, show_default=True, help="JSON: ranking parameter -> values to try.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="Folds, by diagnosis.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N cases.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON report.")
@click.option("--store", "store_url", help=STORE_HELP)
def tune_command(
    fmt: str, path: Path | None, grid: str, folds: int, limit: int | None, out: Path | None, store_url: str | None
) -> None:
    """Try ranking parameters on real cases, cross-validated by diagnosis, and fit the posterior's calibration."""
    from cdss.progress import progress
    from ranking.study.tuning import tune

    try:
        parsed = json.loads(grid)
    except json.JSONDecodeError as exc:
        raise InputError(f"--grid is not JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise InputError("--grid must be a JSON object of parameter -> list of values")
    settings, path, engine, cases = _eval_cases(fmt, path, limit, store_url)
    k = engine.knowledge
    found = list(engine.mentions([c.case.text for c in cases])) if fmt == "vignette" else [None] * len(cases)
    observations = []
    for case, mentions in zip(cases, found, strict=True):
        try:
            observations.append(engine.observe(case.case, mentions=mentions).observations)
        except InputError:
            observations.append([])
    report = tune(
        k,
        engine.config,
        cases,
        observations,
        parsed,
        folds=folds,
        progress=lambda items: progress(items, desc="grid", enabled=settings.progress, unit="point"),
    )
    report.update(file=str(path), format=fmt, base=engine.versions)
    target = out or settings.data_dir / "eval" / "tune" / path.stem
    target.mkdir(parents=True, exist_ok=True)
    (target / "tune.json").write_text(json.dumps(report, indent=2))
    for row in report["grid"]:
        click.echo(
            f"{json.dumps(row['parameters'], sort_keys=True):<100} top1 {row['top1']:.3f} top3 {row['top3']:.3f} "
            f"top10 {row['top10']:.3f} MRR {row['mrr']:.3f}"
        )
    cv = report["cross_validated"]
    click.echo(
        f"cross-validated by diagnosis ({folds} folds): top1 {cv['top1']:.3f} top3 {cv['top3']:.3f} "
        f"top10 {cv['top10']:.3f} MRR {cv['mrr']:.3f}; "
        f"macro top1 {cv['macro']['top1']:.3f} top10 {cv['macro']['top10']:.3f}"
    )
    click.echo(f"picked per fold: {report['picked_per_fold']}")
    calibration = report["calibration"]
    click.echo(
        f"calibration of the top probability: ECE {calibration['uncalibrated']['ece']:.3f} uncalibrated, "
        f"{calibration['cross_validated']['ece']:.3f} cross-validated; fitted on all: {calibration['fitted_on_all']}"
    )
    click.echo(f"wrote {target / 'tune.json'}", err=True)


@evaluate.command("fhir")
@click.option(
    "--corpus",
    type=click.Choice(["vignette", "aci-bench"]),
    default="vignette",
    show_default=True,
    help="CRAFT-MD vignettes, or ACI-bench visit notes (which state vital signs and labs), from `cdss data fetch`.",
)
@click.option(
    "--file",
    "path",
    type=click.Path(path_type=Path, exists=True),
    help="Vignettes as JSON lines with 'id' and 'text', or the ACI-bench CSV folder (default: the fetched copy).",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N vignettes.")
@click.option("--top", default=5, show_default=True, type=click.IntRange(1, 100), help="How many diagnoses to compare.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the report and one Bundle.")
@click.option("--store", "store_url", help=STORE_HELP)
def fhir_command(
    corpus: str, path: Path | None, limit: int | None, top: int, out: Path | None, store_url: str | None
) -> None:
    """Each case sent as text plus HPO findings and as a FHIR Bundle coded in SNOMED CT and LOINC: how often
    the two give the same top diagnoses (the FHIR path should lose nothing)."""
    from datetime import UTC, datetime

    from interop.study import compare_paths
    from nlp.temporality import read_notes
    from ranking.study.real_cases import json_lines

    settings = load_settings()
    default = CASE_FILES["vignette"] if corpus == "vignette" else Path("clinical-text-aci-bench")
    path = path or settings.sources_dir / default
    if not path.exists():
        raise InputError(f"no {corpus} cases at {path}: run `cdss data fetch` or pass --file")
    _, engine = engine_from_settings(store_url, with_nlp=True)
    if corpus == "vignette":
        rows = json_lines(path)
        vignettes = [(str(d.get("id", n)), d["text"]) for n, d in rows if isinstance(d, dict) and d.get("text")]
    else:
        notes = read_notes(path, {"valid.csv", "clinicalnlp_taskB_test1.csv"})
        vignettes = [(f"{name}/{encounter}", text) for (name, encounter), text in sorted(notes.items())]
    kept: dict[str, dict] = {}
    report = compare_paths(
        engine,
        vignettes[:limit],
        terms=engine.reader.measurement_terms,
        today=datetime.now(UTC).date(),
        top_k=top,
        show_progress=settings.progress,
        keep=lambda case_id, bundle: kept.setdefault("first", {"id": case_id, "bundle": bundle}),
    ).to_dict()
    text = json.dumps(report, indent=2)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "fhir_vs_json.json").write_text(text + "\n")
        (out / "example_bundle.json").write_text(json.dumps(kept.get("first"), indent=1) + "\n")
        click.echo(f"wrote {out / 'fhir_vs_json.json'} and {out / 'example_bundle.json'}", err=True)
    click.echo(text)
