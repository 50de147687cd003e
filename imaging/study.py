"""Train, calibrate, evaluate and export one dataset's model, and re-evaluate a saved one: what
`cdss image train` and `cdss image eval` run. Tuning reads the validation split only; the test
split is scored once, after the model and its temperature are fixed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from imaging.calibration import fit_temperature, negative_log_likelihood, probabilities, reliability
from imaging.catalog import DatasetSpec, findings_table
from imaging.datasets import ImageSet
from imaging.export import save_export
from imaging.metrics import finding_aurocs, multiclass_metrics, multilabel_metrics
from imaging.model import ImageModel
from imaging.plots import plot_curves, plot_reliability
from imaging.train import TrainConfig, TrainResult, predict_logits, train_network


def test_metrics(spec: DatasetSpec, data: ImageSet, logits: np.ndarray, temperature: float) -> dict:
    """Figures on the test split from its logits, with calibration before and after the temperature."""
    targets = data.test.targets
    probs = probabilities(logits, temperature, multilabel=spec.multilabel)
    if spec.multilabel:
        figures = multilabel_metrics(probs, targets, spec.labels, data.positives())
    else:
        positive = spec.labels.index(spec.positive) if spec.positive else None
        figures = multiclass_metrics(probs, targets, spec.labels, positive)
        summed = [row for row in findings_table(spec) if len(row["classes"]) > 1]
        if summed:
            figures["finding_auroc"] = finding_aurocs(probs, targets, summed, spec.labels)
    before = reliability(probabilities(logits, 1.0, multilabel=spec.multilabel), targets, multilabel=spec.multilabel)
    after = reliability(probs, targets, multilabel=spec.multilabel)
    figures["calibration"] = {
        "temperature": round(temperature, 4),
        "ece": after["ece"],
        "ece_before": before["ece"],
        "nll": negative_log_likelihood(logits, targets, temperature, multilabel=spec.multilabel),
        "nll_before": negative_log_likelihood(logits, targets, 1.0, multilabel=spec.multilabel),
        "bins": after["bins"],
        "bins_before": before["bins"],
    }
    figures["split_sizes"] = {name: len(data.split(name)) for name in ("train", "val", "test")}
    figures["data_notes"] = list(data.notes)
    return figures


def _without_bins(calibration: dict) -> dict:
    return {k: v for k, v in calibration.items() if not k.startswith("bins")}


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def headline(metrics: dict) -> str:
    """One line of the figures that matter most."""
    if "mean_auroc" in metrics:
        main = f"mean AUROC {_number(metrics['mean_auroc'])} over {len(metrics['mean_auroc_labels'])} labels"
    elif "positive" in metrics:
        main = f"AUROC {_number(metrics['auroc'])}, accuracy {_number(metrics['accuracy'])} ({metrics['positive']})"
    else:
        f1 = ", ".join(f"{label} {_number(f['f1'])}" for label, f in metrics["per_class"].items())
        main = f"macro AUROC {_number(metrics['macro_auroc'])}, accuracy {_number(metrics['accuracy'])}, F1 {f1}"
    calibration = metrics["calibration"]
    ece = f"ECE {_number(calibration['ece_before'])} -> {_number(calibration['ece'])}"
    return f"{main}; {ece} (T={calibration['temperature']})"


def model_card(spec: DatasetSpec, config: TrainConfig, metrics: dict, findings: list[dict]) -> str:
    source = spec.source_spec
    lines = [
        f"cdss image model '{spec.name}': {spec.task}.",
        f"Modality {spec.modality}; input {spec.input_size}x{spec.input_size} greyscale ({spec.fit} to fit).",
        f"Network: {config.encoder}, a small ResNet in plain PyTorch trained by cdss (seed {config.seed}).",
        f"Data: {source.title}. Licence: {source.license}. Cite: {source.citation}",
        f"Splits: {'; '.join(metrics['data_notes']) or 'the official ones'}; sizes {metrics['split_sizes']}.",
        f"Test split: {headline(metrics)}. Probabilities are calibrated by one temperature fitted on validation.",
        *(f"Output {row['label']} -> finding {row['finding']}: {row['why']}." for row in findings),
        "NOT FOR CLINICAL USE: a research model trained on a small public data set from few centres; not validated "
        "for diagnosis. Its probabilities are one piece of evidence for a clinician's decision support, no more.",
    ]
    return "\n".join(lines)


def finding_prevalence(data: ImageSet, row: dict) -> float:
    """The share of training images showing the finding: the probability its model gives before looking, which
    the ranking reads its output against (virtual evidence)."""
    classes = [data.labels.index(c) for c in row["classes"]]
    targets = data.train.targets
    shown = targets[:, classes].any(axis=1) if data.multilabel else np.isin(targets, classes)
    return round(float(shown.mean()), 4)


def export_config(
    spec: DatasetSpec,
    config: TrainConfig,
    result: TrainResult,
    *,
    temperature: float,
    findings: list[dict],
    metrics: dict,
    card: str,
) -> dict:
    """The config a model file carries (`imaging.export.REQUIRED`), for a network trained on `spec`."""
    return {
        "dataset": spec.name,
        "encoder": config.encoder,
        "dropout": config.dropout,
        "labels": list(spec.labels),
        "multilabel": spec.multilabel,
        "input_size": spec.input_size,
        "fit": spec.fit,
        "modality": spec.modality,
        "mean": result.mean,
        "std": result.std,
        "temperature": temperature,
        "findings": findings,
        "metrics": metrics,
        "card": card,
        "training": {"config": config.to_dict(), **result.summary()},
    }


def train_dataset(
    spec: DatasetSpec,
    *,
    sources_dir: Path,
    model_path: Path,
    reports: Path,
    epochs: int | None = None,
    seed: int = 0,
    device: torch.device | None = None,
    show_progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> dict:
    """Train on the dataset's train split, choose the epoch and temperature on validation, score the test
    split once, save the model file and the report (JSON, curves and reliability PNGs); returns the report."""
    data = spec.load(spec.folder(sources_dir), seed)
    config = replace(spec.training, seed=seed, epochs=epochs or spec.training.epochs)
    result = train_network(
        data, input_size=spec.input_size, config=config, device=device, show_progress=show_progress, log=log
    )
    chosen = torch.device(result.device)
    val_logits = predict_logits(result.network, data.val, result.mean, result.std, chosen)
    temperature = fit_temperature(val_logits, data.val.targets, multilabel=spec.multilabel)
    test_logits = predict_logits(result.network, data.test, result.mean, result.std, chosen)
    metrics = test_metrics(spec, data, test_logits, temperature)
    findings = findings_table(spec)
    export = export_config(
        spec,
        config,
        result,
        temperature=temperature,
        findings=[
            {**{k: row[k] for k in ("label", "classes", "finding")}, "prevalence": finding_prevalence(data, row)}
            for row in findings
        ],
        metrics={**metrics, "calibration": _without_bins(metrics["calibration"])},
        card=model_card(spec, config, metrics, findings),
    )
    version = save_export(model_path, result.network.state_dict(), export)
    report = {"dataset": spec.name, "version": version, "model": str(model_path), "training": export["training"]}
    report |= {"test": metrics, "history": result.history}
    write_report(report, reports, stem=f"{spec.name}_training", history=result.history)
    return report


def evaluate_saved(model: ImageModel, spec: DatasetSpec, *, sources_dir: Path, reports: Path, seed: int = 0) -> dict:
    """Score a saved model on its dataset's test split again (the split is rebuilt with the training seed)."""
    trained_seed = model.config.get("training", {}).get("config", {}).get("seed", seed)
    data = spec.load(spec.folder(sources_dir), trained_seed)
    metrics = test_metrics(spec, data, model.logits(data.test.images), model.temperature)
    report = {"dataset": spec.name, "version": model.version, "test": metrics}
    write_report(report, reports, stem=f"{spec.name}_eval")
    return report


def write_report(report: dict, folder: Path, *, stem: str, history: list[dict] | None = None) -> None:
    """<stem>.json and <stem>_reliability.png; with a history, also <dataset>_training_curves.png."""
    name = report["dataset"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(report, indent=2))
    calibration = report["test"]["calibration"]
    plot_reliability(calibration["bins"], calibration["bins_before"], folder / f"{stem}_reliability.png", name)
    if history:
        plot_curves(history, folder / f"{name}_training_curves.png", name)
