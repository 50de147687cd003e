"""`cdss image train|eval|predict`: the hosted image models (research models, not for clinical use)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cdss.settings import load_settings

DATASETS = ("pneumoniamnist", "breastmnist", "kermany", "nih1000")
"""The names in `imaging.catalog.DATASETS`, listed here so that `cdss --help` need not import torch."""
MODELS_HELP = "Folder of the model files (default: <CDSS_DATA_DIR>/models/images)."


def _models_dir(folder: Path | None) -> Path:
    return folder or load_settings().data_dir / "models" / "images"


@click.group()
def image() -> None:
    """Image models: chest X-ray and breast ultrasound classifiers whose probabilities become finding evidence."""


@image.command("train")
@click.option("--dataset", required=True, type=click.Choice(DATASETS))
@click.option("--epochs", type=click.IntRange(1), help="Most epochs (default: the dataset's own setting).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help=MODELS_HELP)
@click.option("--seed", default=0, show_default=True)
@click.option("--device", help="cpu or cuda (default: cuda when available).")
def train_command(dataset: str, epochs: int | None, out: Path | None, seed: int, device: str | None) -> None:
    """Train, calibrate on validation, score the test split once, and save <out>/<dataset>.pt."""
    from imaging.catalog import find_dataset
    from imaging.study import headline, train_dataset
    from imaging.train import pick_device

    settings = load_settings()
    target = _models_dir(out) / f"{dataset}.pt"
    chosen = pick_device(device)
    click.echo(f"training {dataset} on {chosen}", err=True)
    report = train_dataset(
        find_dataset(dataset),
        sources_dir=settings.sources_dir,
        model_path=target,
        reports=settings.data_dir / "eval" / "images",
        epochs=epochs,
        seed=seed,
        device=chosen,
        show_progress=settings.progress,
        log=lambda line: click.echo(line, err=True),
    )
    training = report["training"]
    click.echo(
        f"trained {dataset} {report['version']}: test {headline(report['test'])}; best epoch {training['best_epoch']} "
        f"of {training['epochs_run']}, {training['seconds']:.0f} s on {training['device']} -> {target}"
    )


@image.command("eval")
@click.option("--dataset", "names", multiple=True, type=click.Choice(DATASETS), help="Repeatable; default: all saved.")
@click.option("--models", type=click.Path(path_type=Path, file_okay=False), help=MODELS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
def eval_command(names: tuple[str, ...], models: Path | None, as_json: bool) -> None:
    """Score saved models on their test splits again; writes JSON and a reliability PNG per model."""
    from cdss.errors import ConfigError
    from imaging import ImageModel
    from imaging.catalog import find_dataset
    from imaging.study import evaluate_saved, headline

    settings = load_settings()
    folder = _models_dir(models)
    chosen = names or tuple(name for name in DATASETS if (folder / f"{name}.pt").is_file())
    if not chosen:
        raise ConfigError(f"no image model in {folder}: train one with `cdss image train --dataset NAME`")
    reports = settings.data_dir / "eval" / "images"
    results = [
        evaluate_saved(
            ImageModel.load(folder / f"{name}.pt"),
            find_dataset(name),
            sources_dir=settings.sources_dir,
            reports=reports,
        )
        for name in chosen
    ]
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for result in results:
            click.echo(f"{result['dataset']:<15} {result['version']}  {headline(result['test'])}")
    click.echo(f"wrote {len(results)} report(s) (<dataset>_eval.json, _eval_reliability.png) to {reports}", err=True)


@image.command("predict")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--dataset", default="pneumoniamnist", show_default=True, type=click.Choice(DATASETS))
@click.option("--models", type=click.Path(path_type=Path, file_okay=False), help=MODELS_HELP)
@click.option("--saliency", "saliency_label", help="Also write a Grad-CAM PNG for this label beside each file.")
def predict_command(files: tuple[Path, ...], dataset: str, models: Path | None, saliency_label: str | None) -> None:
    """Calibrated label probabilities and findings for each PNG, JPEG or DICOM file, one JSON object a line (read
    as the API reads an upload: `runtime.answers.predict_image`)."""
    from cdss.errors import ImageInputError
    from runtime import answers, load_image_models

    hosted = load_image_models(load_settings(), _models_dir(models))
    for path in files:
        try:
            prediction, overlay = answers.predict_image(hosted, dataset, path.read_bytes(), saliency=saliency_label)
        except ImageInputError as error:
            raise ImageInputError(f"{path}: {error}") from None
        click.echo(json.dumps({"file": str(path), **prediction.to_dict()}))
        if overlay is not None:
            written = path.with_name(f"{path.stem}.{dataset}.{saliency_label}.saliency.png")
            written.write_bytes(overlay)
            click.echo(f"wrote {written}", err=True)


@image.command("fusion")
@click.option("--note", default="Three days of fever and productive cough.", show_default=True)
@click.option("--disease", default="DOID:552", show_default=True, help="The diagnosis whose rank to follow.")
@click.option("--dataset", default="pneumoniamnist", show_default=True, type=click.Choice(DATASETS))
@click.option("--films", default=50, show_default=True, type=click.IntRange(1), help="Test films of each kind.")
@click.option("--seed", default=0, show_default=True)
def fusion_command(note: str, disease: str, dataset: str, films: int, seed: int) -> None:
    """The same note ranked without an image, with real test films that show the finding, and with normal ones
    (read by the hosted model): where the diagnosis goes."""
    import numpy as np

    from cli.rank import engine_from_settings
    from imaging.catalog import find_dataset
    from ranking.case import Case
    from runtime import answers, load_image_models

    settings, engine = engine_from_settings(None, with_nlp=True)
    model = answers.hosted_model(load_image_models(settings), dataset)
    spec = find_dataset(dataset)
    test = spec.load(spec.folder(settings.sources_dir), seed).test
    finding = next(row for row in model.config["findings"])
    shown = np.isin(test.targets, [model.labels.index(c) for c in finding["classes"]])
    rng = np.random.default_rng(seed)

    def rank_with(images: list) -> tuple[int | None, float]:
        answer = answers.recommend(engine, Case(text=note), top_k=20, images=images)
        found = next((d for d in answer["diagnoses"] if d["id"] == disease), None)
        return (found["rank"], found["probability"]) if found else (None, 0.0)

    base = rank_with([])
    report = {"note": note, "disease": disease, "model": f"{dataset}@{model.version}", "without image": base}
    for name, mask in (("films showing it", shown), ("normal films", ~shown)):
        picked = rng.choice(np.flatnonzero(mask), size=min(films, int(mask.sum())), replace=False)
        ranks = [rank_with([model.predict(test.images[i])]) for i in picked]
        report[name] = {
            "films": len(ranks),
            "median rank": float(np.median([r if r is not None else 21 for r, _ in ranks])),
            "median probability": float(np.median([p for _, p in ranks])),
            "share with a higher probability": round(float(np.mean([p > base[1] for _, p in ranks])), 3),
        }
    click.echo(json.dumps(report, indent=2))
