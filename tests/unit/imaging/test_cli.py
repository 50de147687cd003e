"""`cdss image train|eval|predict` end to end on a tiny synthetic PneumoniaMNIST written here."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from cli import cli
from tests.unit.imaging.synthetic import blob_images


@pytest.fixture
def sources(isolated_env: Path) -> Path:
    folder = isolated_env / "sources" / "medmnist"
    folder.mkdir(parents=True)
    arrays = {}
    for seed, (split, n) in enumerate((("train", 96), ("val", 40), ("test", 40))):
        images, labels = blob_images(n, 28, seed)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels[:, None].astype(np.uint8)
    np.savez(folder / "pneumoniamnist.npz", **arrays)
    return isolated_env


def test_train_eval_and_predict(sources, tmp_path):
    runner = CliRunner()
    trained = runner.invoke(cli, ["image", "train", "--dataset", "pneumoniamnist", "--epochs", "2"])
    assert trained.exit_code == 0, trained.output
    model = sources / "models" / "images" / "pneumoniamnist.pt"
    assert model.is_file() and f"-> {model}" in trained.output
    reports = sources / "eval" / "images"
    assert {p.name for p in reports.iterdir()} == {
        "pneumoniamnist_training.json",
        "pneumoniamnist_training_reliability.png",
        "pneumoniamnist_training_curves.png",
    }
    evaluated = runner.invoke(cli, ["image", "eval", "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    [report] = json.loads(evaluated.stdout)
    saved = json.loads((reports / "pneumoniamnist_training.json").read_text())
    assert report["test"]["auroc"] == pytest.approx(saved["test"]["auroc"])
    assert (reports / "pneumoniamnist_eval.json").is_file() and saved["history"]
    images, _labels = blob_images(2, 28, seed=9)
    photo = tmp_path / "film.jpg"
    Image.fromarray(images[0]).convert("RGB").resize((120, 100)).save(photo)
    predicted = runner.invoke(cli, ["image", "predict", str(photo), "--saliency", "pneumonia"])
    assert predicted.exit_code == 0, predicted.output
    line = json.loads(predicted.stdout.splitlines()[0])
    assert line["file"] == str(photo) and line["model"] == "pneumoniamnist"
    assert line["notes"] == [
        "read as JPEG",
        "converted from RGB to greyscale",
        "center-cropped from 120x100 to 100x100",
        "resized from 100x100 to 28x28",
    ]
    with Image.open(io.BytesIO((tmp_path / "film.pneumoniamnist.pneumonia.saliency.png").read_bytes())) as overlay:
        assert overlay.size == (120, 100)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    result = runner.invoke(cli, ["image", "predict", str(junk)])
    assert result.exit_code == 2 and "junk.png: the upload is not a PNG, JPEG or DICOM image" in result.output


def test_a_missing_model_is_named():
    runner = CliRunner()
    result = runner.invoke(cli, ["image", "eval"])
    assert result.exit_code == 2 and "no image model in" in result.output
    result = runner.invoke(cli, ["image", "eval", "--dataset", "kermany"])
    assert result.exit_code == 2 and "no image model at" in result.output and "kermany.pt" in result.output
