"""Hosted image models through the API: predictions with their version, saliency, images as soft evidence in
a recommendation (a pneumonia film moves pneumonia up, a normal one moves it down), and every bad upload a
clear 4xx that names the problem."""

from __future__ import annotations

import base64
import logging

import numpy as np
import pytest
from PIL import Image

from imaging import ImageModel
from tests.api_app import ranking_graph_app
from tests.image_files import bomb, dicom, jpeg, png
from tests.image_model import blob_model_file
from tests.unit.imaging.synthetic import blob_images

NOTE = "Three days of fever and productive cough."


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images-api")
    model = ImageModel.load(blob_model_file(folder))
    env = {"CDSS_MAX_IMAGE_BYTES": "200000"}
    app, services = ranking_graph_app(folder, env=env, image_models={"blobs": model})
    key = services.keys.create("images", ["read"])[1]
    yield app, services, {"X-API-Key": key}, model
    services.close()


@pytest.fixture(scope="module")
def client(api):
    return api[0].test_client()


@pytest.fixture(scope="module")
def films():
    images, labels = blob_images(40, 28, seed=11)
    return images[labels == 1][0], images[labels == 0][0]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_a_prediction_names_its_model_and_version_and_maps_to_a_finding(api, client, films):
    blob, dark = films
    answer = client.post("/v1/images/predict", json={"image": _b64(png(blob)), "model": "blobs"}, headers=api[2])
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["model"], body["version"]) == ("blobs", api[3].version)
    assert body["probabilities"]["blob"] > 0.5 and body["findings"][0]["finding"] == "Pneumonia"
    assert "read as PNG" in body["notes"] and "not a diagnosis" in body["notice"]
    upload = client.post(
        "/v1/images/predict",
        data={"model": "blobs", "image": (__import__("io").BytesIO(png(dark)), "film.png")},
        content_type="multipart/form-data",
        headers=api[2],
    )
    assert upload.status_code == 200 and upload.get_json()["probabilities"]["blob"] < 0.5
    again = client.post("/v1/images/predict", json={"image": _b64(png(blob)), "model": "blobs"}, headers=api[2])
    assert again.get_json()["probabilities"] == body["probabilities"], "deterministic"


def test_a_larger_colour_image_is_resized_and_made_greyscale_and_says_so(api, client, films):
    big = np.kron(films[0], np.ones((4, 4), dtype=np.uint8))
    colour = np.stack([big, big, big], axis=-1)
    body = client.post("/v1/images/predict", json={"image": _b64(jpeg(colour)), "model": "blobs"}, headers=api[2])
    notes = body.get_json()["notes"]
    assert "converted from RGB to greyscale" in notes and any("112x112" in n for n in notes), notes


def test_saliency_comes_back_as_a_png_of_the_input(api, client, films):
    sent = {"image": _b64(png(films[0])), "model": "blobs", "saliency": "blob"}
    body = client.post("/v1/images/predict", json=sent, headers=api[2]).get_json()
    overlay = Image.open(__import__("io").BytesIO(base64.b64decode(body["saliency_png"])))
    assert overlay.format == "PNG" and overlay.size[0] >= 28
    wrong = client.post("/v1/images/predict", json={**sent, "saliency": "tumour"}, headers=api[2])
    assert (
        wrong.status_code == 422
        and "'tumour' is not a label of the blobs model" in wrong.get_json()["error"]["message"]
    )


def _rank_pneumonia(client, headers, images) -> float:
    body = client.post("/v1/recommendations", json={"text": NOTE, "images": images, "top_k": 10}, headers=headers)
    assert body.status_code == 200, body.get_json()
    answer = body.get_json()
    return next(d["probability"] for d in answer["diagnoses"] if d["id"] == "DOID:552"), answer


def test_a_pneumonia_film_moves_pneumonia_up_and_a_normal_one_down(api, client, films):
    blob, dark = films
    plain, _ = _rank_pneumonia(client, api[2], [])
    up, answer = _rank_pneumonia(client, api[2], [{"image": _b64(png(blob)), "model": "blobs"}])
    down, _ = _rank_pneumonia(client, api[2], [{"image": _b64(png(dark)), "model": "blobs"}])
    assert down < plain < up
    [prediction] = answer["image_predictions"]
    assert prediction["model"] == "blobs" and prediction["version"] == api[3].version
    from_image = [o for o in answer["observations"] if o.get("model") == f"blobs@{api[3].version}"]
    assert from_image and from_image[0]["finding"] == "HP:0002090"


@pytest.mark.parametrize(
    ("image", "model", "status", "message"),
    [
        (_b64(b"%PDF-1.7 not an image"), "blobs", 422, "not a PNG, JPEG or DICOM image"),
        (
            _b64(png(np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8))[:2000]),
            "blobs",
            422,
            "corrupt or truncated",
        ),
        (_b64(bomb()), "blobs", 422, "pixels"),
        (_b64(dicom(np.zeros((28, 28), np.uint8), modality="US")), "blobs", 422, "modality US, but the blobs model"),
        ("not base64!!", "blobs", 422, "image is not valid base64"),
        (_b64(png(np.zeros((28, 28), np.uint8))), "breastmnist", 404, "no hosted image model 'breastmnist'"),
        (_b64(bytes(300_000)), "blobs", 413, "bytes this server accepts"),
    ],
)
def test_bad_uploads_get_a_clear_error(api, client, image, model, status, message):
    response = client.post("/v1/images/predict", json={"image": image, "model": model}, headers=api[2])
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"]["message"]


def test_images_never_reach_the_logs(api, client, films, caplog):
    sent = _b64(png(films[0]))
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/images/predict", json={"image": sent, "model": "blobs"}, headers=api[2])
        client.post(
            "/v1/recommendations", json={"text": NOTE, "images": [{"image": sent, "model": "blobs"}]}, headers=api[2]
        )
    assert caplog.records and sent[:40] not in caplog.text
    assert sent[:40] not in api[1].settings.audit_log.read_text()
