"""A tiny model trained on synthetic blobs: learning, determinism, export round trip, prediction and Grad-CAM."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from cdss.errors import ConfigError, ImageInputError, InputError
from imaging import ImageModel, ImagePrediction
from imaging.augment import Augment
from imaging.export import read_export, save_export, weights_version
from imaging.network import ENCODERS, build_network
from imaging.train import TrainConfig, predict_logits, train_network
from tests.unit.imaging.synthetic import blob_images, blob_set

FAST = TrainConfig(epochs=4, batch_size=32, learning_rate=5e-3, patience=4, seed=3, augment=Augment(rotate_degrees=5))


@pytest.fixture(scope="module")
def trained():
    data = blob_set()
    return data, train_network(data, input_size=28, config=FAST)


def _config(result, data) -> dict:
    return {
        "dataset": "blobs",
        "encoder": FAST.encoder,
        "dropout": FAST.dropout,
        "labels": list(data.labels),
        "multilabel": False,
        "input_size": 28,
        "fit": "crop",
        "modality": "CXR",
        "mean": result.mean,
        "std": result.std,
        "temperature": 1.5,
        "findings": [{"label": "Pneumonia", "classes": ["blob"], "finding": "Pneumonia", "prevalence": 0.5}],
        "metrics": {"auroc": 1.0},
        "card": "synthetic blobs; not for clinical use",
    }


@pytest.fixture(scope="module")
def saved(trained, tmp_path_factory):
    data, result = trained
    path = tmp_path_factory.mktemp("models") / "blobs.pt"
    version = save_export(path, result.network.state_dict(), _config(result, data))
    return path, version


def test_a_tiny_model_learns_the_blobs_and_keeps_its_best_epoch(trained):
    _data, result = trained
    assert result.best_auroc > 0.95
    assert result.history[result.best_epoch - 1]["valid_auroc"] == max(r["valid_auroc"] for r in result.history)
    assert result.summary()["device"] == "cpu"


def test_training_is_deterministic_for_a_seed(trained):
    data, result = trained
    again = train_network(data, input_size=28, config=FAST)
    for key, value in result.network.state_dict().items():
        assert torch.equal(value, again.network.state_dict()[key]), key
    other = train_network(data, input_size=28, config=replace(FAST, seed=4, epochs=1))
    assert not torch.equal(other.network.fc.weight, result.network.fc.weight)


def test_export_round_trip_keeps_weights_config_and_version(trained, saved):
    data, result = trained
    path, version = saved
    config, _state, read_version = read_export(path)
    assert read_version == version == weights_version(result.network.state_dict())
    assert len(version) == 12 and config["labels"] == ["dark", "blob"]
    model = ImageModel.load(path)
    assert (model.dataset, model.version, model.labels, model.input_size, model.modality) == (
        "blobs",
        version,
        ("dark", "blob"),
        28,
        "CXR",
    )
    assert "not for clinical use" in model.card and model.metrics == {"auroc": 1.0}
    expected = predict_logits(result.network, data.test, result.mean, result.std, torch.device("cpu"))
    np.testing.assert_allclose(model.logits(data.test.images), expected, rtol=1e-5, atol=1e-5)


def test_predictions_are_deterministic_calibrated_and_say_what_was_done(saved):
    model = ImageModel.load(saved[0])
    images, labels = blob_images(8, 28, seed=11)
    wide = np.asarray(Image.fromarray(images[int(np.argmax(labels))]).resize((300, 200)))
    first = model.predict(wide, notes=["read as PNG"])
    assert isinstance(first, ImagePrediction)
    assert first == model.predict(wide, notes=["read as PNG"])
    assert first.notes == ["read as PNG", "center-cropped from 300x200 to 200x200", "resized from 200x200 to 28x28"]
    assert set(first.probabilities) == {"dark", "blob"}
    assert sum(first.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    [finding] = first.findings
    assert finding == {
        "label": "Pneumonia",
        "probability": first.probabilities["blob"],
        "finding": "Pneumonia",
        "prevalence": 0.5,
    }
    assert first.to_dict()["model"] == "blobs" and first.to_dict()["version"] == model.version
    assert model.predict(images[0]).notes == []


def test_bad_pixels_and_labels_are_refused_by_name(saved):
    model = ImageModel.load(saved[0])
    with pytest.raises(ImageInputError, match=r"shape \(4, 28, 28\)"):
        model.predict(np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ImageInputError, match="dtype float32"):
        model.predict(np.zeros((28, 28), np.float32))
    with pytest.raises(InputError, match="'Effusion'"):
        model.saliency(np.zeros((28, 28), np.uint8), "Effusion")


def test_grad_cam_is_a_png_of_the_input_size(saved):
    model = ImageModel.load(saved[0])
    images, labels = blob_images(4, 28, seed=5)
    pixels = np.asarray(Image.fromarray(images[int(np.argmax(labels))]).resize((90, 60)))
    png = model.saliency(pixels, "blob")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as overlay:
        assert overlay.size == (90, 60) and overlay.mode == "RGB"
    assert png == model.saliency(pixels, "blob")


def test_a_file_that_is_not_a_model_names_itself(tmp_path, saved):
    with pytest.raises(ConfigError, match=r"no image model at .*missing\.pt"):
        ImageModel.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"junk\.pt is not a readable image model"):
        ImageModel.load(junk)
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match=r"other\.pt is not a cdss image model"):
        ImageModel.load(tmp_path / "other.pt")
    payload = torch.load(saved[0], weights_only=True)
    payload["state_dict"]["fc.bias"] = payload["state_dict"]["fc.bias"] + 1
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(ConfigError, match=r"tampered\.pt: the weights do not hash to the version"):
        ImageModel.load(tmp_path / "tampered.pt")


@pytest.mark.parametrize("size", [28, 64, 224])
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
def test_every_encoder_takes_every_input_size(encoder, size):
    network = build_network(encoder, input_size=size, outputs=3).eval()
    with torch.no_grad():
        assert network(torch.zeros(2, 1, size, size)).shape == (2, 3)


def test_unknown_encoders_and_sizes_are_named():
    with pytest.raises(ConfigError, match="unknown image encoder 'vit'"):
        build_network("vit", input_size=28, outputs=2)
    with pytest.raises(ConfigError, match="no stem for input size 100"):
        build_network("resnet8", input_size=100, outputs=2)


def test_augmentation_is_seeded_and_keeps_shape():
    images = torch.rand(6, 1, 28, 28)
    first = Augment(flip=True)(images, torch.Generator().manual_seed(0))
    assert first.shape == images.shape and float(first.min()) >= 0 and float(first.max()) <= 1
    assert torch.equal(first, Augment(flip=True)(images, torch.Generator().manual_seed(0)))
    assert not torch.equal(first, images)
