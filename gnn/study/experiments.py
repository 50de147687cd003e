"""What `cdss gnn train` and `cdss gnn eval` run: the deployed model, and the full comparison.

The evaluation trains every method on each split in one run, so their
figures compare like with like:

1. random edge split: each encoder (choice by validation AUROC), the shallow
   DistMult, the degree prior, common neighbours and Adamic-Adar;
2. held-out diseases: the chosen encoder and the same baselines;
3. external validation: the chosen encoder trained with PharmacotherapyDB
   treatments only, against the degree prior, on DrugCentral and LabeledIn;
4. PharmacotherapyDB's curated non-indications scored by the random-split model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from gnn.checkpoint import load_checkpoint, save_checkpoint
from gnn.data import GraphExport
from gnn.splits import Split, disease_holdout_split, external_split, hard_negatives, random_edge_split
from gnn.study.evaluate import (
    DegreeScorer,
    ModelScorer,
    NeighbourScorer,
    evaluate_scorers,
    external_metrics,
    hard_negative_report,
    link_metrics,
    repurposing_ranks,
)
from gnn.train import DEFAULT_TRAINING, TrainConfig, TrainResult, embeddings, train_link_model

Log = Callable[[str], None]


def train_deployed(
    export: GraphExport,
    out: Path,
    config: TrainConfig,
    *,
    show_progress: bool | None = None,
    log: Log = print,
    device=None,
    nproc: int = 1,
) -> dict:
    """Train on (almost) everything, validating on 5% of edges for early stopping; save the checkpoint.

    With `nproc` above 1 the training runs on that many processes (`gnn.distributed`), whose rank 0
    saves the checkpoint in the same format.
    """
    split = random_edge_split(export, seed=config.seed, valid=0.05, test=0.0)
    if nproc > 1:
        from gnn.distributed import train_distributed

        result, _ = train_distributed(
            export, split, config, nproc=nproc, checkpoint=out, device=device, show_progress=show_progress, log=log
        )
        checkpoint = load_checkpoint(out, graph_version=export.graph_version)
        metrics = checkpoint["metrics"]
    else:
        result, tensors = train_link_model(export, split, config, device=device, show_progress=show_progress, log=log)
        metrics = {"training": result.summary(), "history": result.history}
        checkpoint = save_checkpoint(
            out, model=result.model, config=config.to_dict(), export=export, metrics=metrics, in_dims=tensors.in_dims
        )
    plot_curves({"deployed": result}, out.with_suffix(".png"))
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2))
    return checkpoint


def _model_scorer(name: str, result: TrainResult, tensors) -> ModelScorer:
    return ModelScorer(name, result.model.decoder, embeddings(result.model, tensors))


def _baselines(export: GraphExport, split: Split) -> list:
    return [
        DegreeScorer(export, split.train),
        NeighbourScorer(export, split.message_passing, adamic_adar=False),
        NeighbourScorer(export, split.message_passing, adamic_adar=True),
    ]


def evaluate_all(
    export: GraphExport,
    *,
    encoders: Sequence[str] = ("sage", "gat", "hgt"),
    config: TrainConfig = DEFAULT_TRAINING,
    encoder_seconds: float = 600.0,
    show_progress: bool | None = None,
    log: Log = print,
) -> tuple[dict, dict[str, TrainResult]]:
    started = time.perf_counter()
    report: dict = {"graph_version": export.graph_version, "config": config.to_dict()}
    curves: dict[str, TrainResult] = {}

    random_split = random_edge_split(export, seed=config.seed)
    report["splits"] = {"random edges": _split_sizes(random_split)}
    trained = {}
    for encoder in encoders:
        # The same wall-time budget for each: the deployed model must train within ten minutes on a CPU.
        encoder_config = replace(config, encoder=encoder, max_seconds=encoder_seconds)
        result, tensors = train_link_model(export, random_split, encoder_config, show_progress=show_progress, log=log)
        trained[encoder] = (result, tensors)
        curves[f"random / {encoder}"] = result
    report["encoders"] = {name: result.summary() for name, (result, _) in trained.items()}
    chosen = max(trained, key=lambda name: trained[name][0].best_auroc)
    report["chosen_encoder"] = chosen
    shallow_config = replace(config, encoder="shallow", max_seconds=encoder_seconds)
    shallow, shallow_tensors = train_link_model(
        export, random_split, shallow_config, show_progress=show_progress, log=log
    )
    curves["random / shallow"] = shallow
    scorers = [_model_scorer(f"GNN ({name})", *trained[name]) for name in encoders]
    scorers.append(_model_scorer("DistMult (no message passing)", shallow, shallow_tensors))
    scorers += _baselines(export, random_split)
    report["random_edges"] = evaluate_scorers(export, random_split, scorers, seed=config.seed, log=log)
    chosen_scorer = _model_scorer(f"GNN ({chosen})", *trained[chosen])
    report["hard_negatives"] = hard_negative_report(
        chosen_scorer, random_split, hard_negatives(export), export, seed=config.seed
    )

    # Every compared encoder on the harder splits too: the best on random edges need not be the best zero-shot.
    held = disease_holdout_split(export, seed=config.seed)
    report["splits"]["held-out diseases"] = _split_sizes(held)
    train_each = partial(
        _train_each, export, encoders, config, encoder_seconds, curves, show_progress=show_progress, log=log
    )
    scorers = train_each(held, "held-out")
    shallow, shallow_tensors = train_link_model(export, held, shallow_config, show_progress=show_progress, log=log)
    scorers += [_model_scorer("DistMult (no message passing)", shallow, shallow_tensors), *_baselines(export, held)]
    report["held_out_diseases"] = evaluate_scorers(export, held, scorers, seed=config.seed, log=log)
    report["held_out_repurposing"] = {s.name: repurposing_ranks(export, s, held) for s in scorers}

    external = external_split(export, seed=config.seed)
    report["splits"]["external"] = _split_sizes(external)
    scorers = train_each(external, "external")
    report["external_validation"] = external_metrics(export, [*scorers, DegreeScorer(export, external.train)], external)
    report["external_validation"]["filtered"] = {s.name: link_metrics(export, s, external) for s in scorers}
    report["external"] = external_headline(report["external_validation"], f"GNN ({chosen})")
    report["external_validation"]["repurposing"] = {
        s.name: repurposing_ranks(export, s, external) for s in [*scorers, DegreeScorer(export, external.train)]
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report, curves


def external_headline(validation: dict, method: str) -> dict:
    """The external-validation figures one looks for first: the chosen model's and the degree prior's."""

    def figures(name: str) -> dict:
        values = validation[name]
        comparable = values.get("vs_random_pairs_indexed_drugs_treatable_diseases") or {}
        return {
            "auroc": values["vs_random_pairs"]["auroc"],
            "auprc": values["vs_random_pairs"]["auprc"],
            "auroc_indexed_drugs_treatable_diseases": comparable.get("auroc"),
            "auroc_same_disease_random_drugs": values["vs_random_drugs_same_disease"]["auroc"],
        }

    return {"method": method, **figures(method), "degree_prior": figures("degree prior")}


def _train_each(
    export: GraphExport,
    encoders: Sequence[str],
    config: TrainConfig,
    seconds: float,
    curves: dict[str, TrainResult],
    split: Split,
    label: str,
    *,
    show_progress: bool | None,
    log: Log,
) -> list[ModelScorer]:
    """Each encoder trained on one split within the time budget, as scorers; curves recorded under `label`."""
    scorers = []
    for encoder in encoders:
        encoder_config = replace(config, encoder=encoder, max_seconds=seconds)
        model, tensors = train_link_model(export, split, encoder_config, show_progress=show_progress, log=log)
        curves[f"{label} / {encoder}"] = model
        scorers.append(_model_scorer(f"GNN ({encoder})", model, tensors))
    return scorers


def _split_sizes(split: Split) -> dict:
    return {
        "train": {r[1]: int(e.shape[1]) for r, e in split.train.items()},
        "valid": {r[1]: int(e.shape[1]) for r, e in split.valid.items()},
        "test": {r[1]: int(e.shape[1]) for r, e in split.test.items()},
        **split.notes,
    }


def plot_curves(results: dict[str, TrainResult], path: Path) -> None:
    """Training loss and validation AUROC per epoch, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss_ax, auc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for label, result in results.items():
        epochs = [row["epoch"] for row in result.history]
        loss_ax.plot(epochs, [row["loss"] for row in result.history], label=label)
        auc_ax.plot(epochs, [row["valid_auroc"] for row in result.history], label=label)
        auc_ax.axvline(result.best_epoch, color="grey", linewidth=0.4, linestyle=":")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss")
    auc_ax.set_xlabel("epoch")
    auc_ax.set_ylabel("validation AUROC (mean over relations)")
    auc_ax.legend(fontsize=7)
    fig.suptitle("cdss link models")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
