"""`cdss gnn train|eval|score`: learned link scores for diagnoses and treatments."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdss.settings import load_settings

STORE_HELP = "Graph store URL or file path (default: CDSS_STORE)."
SUPERVISED_HELP = "Share of training links scored each epoch unseen by the encoder (0: all seen)."
UNSEEN_HELP = "Share of training diseases each epoch whose links are all scored unseen."
SHARE = click.FloatRange(0, 0.9)
TEXT_HELP = "Add sentence embeddings of disease and finding names to the node features (all-MiniLM-L6-v2)."
BATCH_HELP = "Train on mini-batches of this many links, each on its sampled subgraph (default: full batch)."
FANOUT_HELP = "Mini-batches: neighbours sampled per node, relation and hop, comma-separated (-1: all)."
NPROC_HELP = (
    "Train on this many processes on this host with DistributedDataParallel (gloo on the CPU, nccl with one "
    "GPU each); needs --batch-size, which stays the links per step, shared between the processes."
)


def _fanout(ctx: click.Context, param: click.Parameter, value: str) -> tuple[int, ...]:
    """The option's text as one count per hop, e.g. 10,5 -> (10, 5); each count at least -1."""
    try:
        counts = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers such as 10,5; got {value!r}") from None
    if any(k < -1 for k in counts):
        raise click.BadParameter(f"each count must be -1 (all) or more; got {value!r}")
    return counts


def _export(store_url: str | None, *, text: bool = False):
    from gnn.data import cached_export
    from runtime import open_graph

    settings = load_settings()
    store = open_graph(settings, store_url)
    return settings, cached_export(store, settings.data_dir / "gnn", text=text)


def _training_options(command):
    """The training options `train` and `eval` share (seed, links scored unseen, mini-batches)."""
    options = (
        click.option("--seed", default=0, show_default=True),
        click.option("--supervised-share", default=0.3, show_default=True, type=SHARE, help=SUPERVISED_HELP),
        click.option("--unseen-diseases", default=0.3, show_default=True, type=SHARE, help=UNSEEN_HELP),
        click.option("--batch-size", type=click.IntRange(1), help=BATCH_HELP),
        click.option("--fanout", default="10,5", show_default=True, callback=_fanout, help=FANOUT_HELP),
    )
    for option in reversed(options):
        command = option(command)
    return command


def _train_config(training: dict, **fixed):
    """A `TrainConfig` from the shared training options and a command's own settings."""
    from gnn.train import TrainConfig

    options = dict(training)
    options["unseen_disease_share"] = options.pop("unseen_diseases")
    return TrainConfig(**options, **fixed)


@click.group()
def gnn() -> None:
    """Graph neural network link scores (PyTorch Geometric)."""


@gnn.command("train")
@click.option("--encoder", type=click.Choice(["sage", "gat", "hgt", "shallow"]), default="sage", show_default=True)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="Checkpoint path (default: CDSS_GNN_MODEL)."
)
@click.option("--max-epochs", default=300, show_default=True, type=click.IntRange(1))
@click.option("--patience", default=20, show_default=True, type=click.IntRange(1))
@click.option("--hidden", default=64, show_default=True, type=click.IntRange(4))
@_training_options
@click.option("--text-features", is_flag=True, help=TEXT_HELP)
@click.option("--device", help="cpu or cuda (default: cuda when available).")
@click.option("--nproc", default=1, show_default=True, type=click.IntRange(1), help=NPROC_HELP)
@click.option("--store", "store_url", help=STORE_HELP)
def train_command(
    encoder: str,
    out: Path | None,
    max_epochs: int,
    patience: int,
    hidden: int,
    text_features: bool,
    device: str | None,
    nproc: int,
    store_url: str | None,
    **training,
) -> None:
    """Train the link model on the whole graph (5% of edges held back to stop early) and save it."""
    from gnn.study.experiments import train_deployed
    from gnn.train import pick_device

    config = _train_config(training, encoder=encoder, max_epochs=max_epochs, patience=patience, hidden=hidden)
    chosen = pick_device(device)
    if nproc > 1:
        from gnn.distributed import check_launch

        check_launch(config, nproc=nproc, device_type=chosen.type)  # before the export, which can take minutes
    settings, export = _export(store_url, text=text_features)
    target = out or settings.gnn_model
    where = f"{nproc} processes on {chosen.type}" if nproc > 1 else str(chosen)
    click.echo(f"training {encoder} on {where} for graph {export.graph_version}", err=True)
    checkpoint = train_deployed(
        export,
        target,
        config,
        show_progress=settings.progress,
        log=lambda line: click.echo(line, err=True),
        device=chosen,
        nproc=nproc,
    )
    summary = checkpoint["metrics"]["training"]
    click.echo(
        f"trained {summary['encoder']}: best validation AUROC {summary['best_valid_auroc']:.4f} at epoch "
        f"{summary['best_epoch']} ({summary['seconds_to_best']:.0f} s to best, {summary['seconds']:.0f} s in all, "
        f"{summary['device']}) -> {target}"
    )


@gnn.command("eval")
@click.option("--encoders", default="sage,gat,hgt", show_default=True, help="Encoders to compare (comma-separated).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON and PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@_training_options
@click.option("--text-features", is_flag=True, help=TEXT_HELP)
@click.option("--seconds", default=600.0, show_default=True, type=click.FloatRange(1), help="Budget per model.")
@click.option("--store", "store_url", help=STORE_HELP)
def eval_command(
    encoders: str,
    out: Path | None,
    as_json: bool,
    text_features: bool,
    seconds: float,
    store_url: str | None,
    **training,
) -> None:
    """Models against baselines on random-edge and held-out-disease splits, plus external validation."""
    from gnn.model import ENCODERS
    from gnn.study.experiments import evaluate_all, plot_curves

    names = [e.strip() for e in encoders.split(",") if e.strip()]
    unknown = [e for e in names if e not in ENCODERS]
    if unknown or not names:
        raise click.BadParameter(f"choose from {', '.join(ENCODERS)}; got {encoders!r}", param_hint="--encoders")
    settings, export = _export(store_url, text=text_features)
    report, curves = evaluate_all(
        export,
        encoders=names,
        config=_train_config(training),
        encoder_seconds=seconds,
        show_progress=settings.progress,
        log=lambda line: click.echo(line, err=True),
    )
    target = out or settings.data_dir / "eval" / "gnn"
    target.mkdir(parents=True, exist_ok=True)
    (target / "gnn_eval.json").write_text(json.dumps(report, indent=2))
    plot_curves(curves, target / "gnn_training_curves.png")
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(render_report(report))
    click.echo(f"wrote {target / 'gnn_eval.json'} and {target / 'gnn_training_curves.png'}", err=True)


@gnn.command("compare")
@click.option("--diseases", default=300, show_default=True, type=click.IntRange(10))
@click.option("--hide", default=0.3, show_default=True, type=click.FloatRange(0.05, 0.9), help="Share hidden.")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for the JSON.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--text-features", is_flag=True, help=TEXT_HELP)
@click.option("--max-seconds", type=click.FloatRange(1), help="Stop the GNN's training after this long.")
@click.option("--store", "store_url", help=STORE_HELP)
def compare_command(
    diseases: int,
    hide: float,
    seed: int,
    out: Path | None,
    as_json: bool,
    text_features: bool,
    max_seconds: float | None,
    store_url: str | None,
) -> None:
    """Diagnosis and treatment ranking with and without the GNN, on the same cases and hidden links."""
    from gnn.study.compare import compare_ranking
    from gnn.train import TrainConfig
    from ranking.config import config_from_settings
    from runtime import open_graph

    settings, export = _export(store_url, text=text_features)
    with open_graph(settings, store_url) as store:
        report = compare_ranking(
            store,
            export,
            ranking=config_from_settings(settings),
            training=TrainConfig(max_seconds=max_seconds),
            diseases=diseases,
            fraction=hide,
            seed=seed,
            show_progress=settings.progress,
            log=lambda line: click.echo(line, err=True),
        )
    target = out or settings.data_dir / "eval" / "gnn"
    target.mkdir(parents=True, exist_ok=True)
    (target / "gnn_compare.json").write_text(json.dumps(report, indent=2))
    click.echo(json.dumps(report, indent=2) if as_json else render_comparison(report))


@gnn.command("score")
@click.argument("disease")
@click.option("--finding", "findings", multiple=True, help="A finding CURIE to score against the disease.")
@click.option("--drugs", "top_drugs", default=10, show_default=True, type=click.IntRange(0, 100))
@click.option("--predicted-findings", default=0, show_default=True, type=click.IntRange(0, 100))
@click.option("--json", "as_json", is_flag=True)
@click.option("--store", "store_url", help=STORE_HELP)
def score_command(
    disease: str,
    findings: tuple[str, ...],
    top_drugs: int,
    predicted_findings: int,
    as_json: bool,
    store_url: str | None,
) -> None:
    """Learned scores of a disease's links: given findings, and the drugs and findings the model ranks highest."""
    from cdss.errors import NotFoundError
    from gnn.score import GnnLinkScorer
    from runtime import open_graph

    settings = load_settings()
    with open_graph(settings, store_url) as store:
        scorer = GnnLinkScorer.from_store(settings.gnn_model, store, settings.data_dir / "gnn")
    if disease not in scorer.index["disease"]:
        raise NotFoundError(f"{disease!r} is not a disease in the graph")
    log_odds = scorer.finding_log_odds(list(findings), [disease] + scorer.ids["disease"])[:, 0] if findings else []
    result = {
        "disease": disease,
        "model": scorer.version,
        "findings": [
            {"finding": f, "centred_log_odds": round(float(v), 4)} for f, v in zip(findings, log_odds, strict=True)
        ],
        "top_drugs": [{"drug": d, "probability": round(p, 4)} for d, p in scorer.top_drugs(disease, limit=top_drugs)],
        "top_findings": [
            {"finding": f, "probability": round(p, 4)}
            for f, p in scorer.top_findings(disease, limit=predicted_findings)
        ],
        "notice": "learned scores are hypotheses for a clinician to weigh, not curated facts",
    }
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{disease} ({scorer.version})")
    for item in result["findings"]:
        click.echo(f"  finding {item['finding']:<16} {item['centred_log_odds']:+.3f}")
    for item in result["top_drugs"]:
        click.echo(f"  drug    {item['drug']:<16} {item['probability']:.3f}")
    for item in result["top_findings"]:
        click.echo(f"  finding {item['finding']:<16} {item['probability']:.3f} (predicted)")


def render_report(report: dict) -> str:
    lines = [f"graph {report['graph_version']}; encoders compared on the random split (validation AUROC):"]
    for name, summary in report["encoders"].items():
        timing = f"{summary['seconds_to_best']:.0f} s to best epoch {summary['best_epoch']}"
        budget = ", stopped by time budget" if summary.get("stopped_by_time_budget") else ""
        lines.append(f"  {name:<6} {summary['best_valid_auroc']:.4f}  ({timing}{budget})")
    lines.append(f"chosen: {report['chosen_encoder']}")
    for title, key in (("random edge split", "random_edges"), ("held-out diseases", "held_out_diseases")):
        lines.append(f"{title}:  {'method':<32} {'relation':<12} AUROC  AUPRC  MRR    Hits@10")
        for method, relations in report[key].items():
            for relation, m in relations.items():
                lines.append(
                    f"  {'':<17}{method:<32} {relation:<12} {m['auroc']:.3f}  {m['auprc']:.3f}  {m['mrr']:.3f}  "
                    f"{m['hits@10']:.3f}"
                )
    external = report["external_validation"]
    lines.append(
        f"external validation ({external['test_pairs']} DrugCentral/LabeledIn indications not in PharmacotherapyDB):"
    )
    for method, values in external.items():
        if isinstance(values, dict) and "vs_random_pairs" in values:
            comparable = values.get("vs_random_pairs_indexed_drugs_treatable_diseases") or {}
            lines.append(
                f"  {method:<32} AUROC {values['vs_random_pairs']['auroc']:.3f} vs random pairs, "
                f"{comparable.get('auroc', float('nan')):.3f} vs random indexed-drug x treatable-disease pairs, "
                f"{values['vs_random_drugs_same_disease']['auroc']:.3f} vs random drugs for the same disease"
            )
    for title, ranks in (
        ("held-out diseases", report.get("held_out_repurposing", {})),
        ("external indications", external.get("repurposing", {})),
    ):
        lines.append(f"repurposing, {title}: where each disease's true drugs rank among every drug")
        for method, m in ranks.items():
            if m:
                lines.append(
                    f"  {method:<32} {m['diseases']} diseases: median rank {m['median_rank']:.0f} of "
                    f"{m['candidate_drugs']}, percentile {m['mean_percentile']:.3f}, MRR {m['mrr']:.3f}, "
                    f"hits@10 {m['hits@10']:.3f}, hits@100 {m['hits@100']:.3f}"
                )
    hard = report["hard_negatives"]
    lines.append(f"curated non-indications: mean probability {hard['mean_probability']}")
    lines.append(f"{report['seconds']:.0f} s in all")
    return "\n".join(lines)


def render_comparison(report: dict) -> str:
    setting = report["setting"]
    lines = [
        f"{setting['diseases']} simulated rare-disease cases (k={setting['k']}, noise={setting['noise']}, "
        f"imprecision={setting['imprecision']}); {report['hidden']['annotations']} annotations hidden from both "
        "the engine and the GNN",
        f"  {'ranking':<26} top-1  top-3  top-10 MRR",
    ]
    for name, m in report["diagnosis"].items():
        micro = m["micro"]
        lines.append(f"  {name:<26} {micro['top1']:.3f}  {micro['top3']:.3f}  {micro['top10']:.3f}  {micro['mrr']:.3f}")
    treatment = report["treatment"]
    lines.append(
        f"{treatment['held_out_indications']} hidden indications ranked among {treatment['candidates']} drugs:"
    )
    for name, m in treatment["methods"].items():
        lines.append(f"  {name:<26} hits@5 {m['hits@5']:.3f}  hits@10 {m['hits@10']:.3f}  MRR {m.get('mrr', 0.0):.3f}")
    return "\n".join(lines)
