"""The image sources as staged in the shared mirror: fetched and verified, and read by the dataset loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imaging.catalog import DATASETS
from ontologies.fetch import fetch_sources
from ontologies.registry import find_source
from tests.integration.conftest import MIRROR

pytestmark = pytest.mark.integration

IMAGE_SOURCES = ("medmnist", "cxr_kermany", "cxr_nih_1000")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Path:
    if not MIRROR.is_dir():
        pytest.skip(f"no source mirror at {MIRROR}: the shared data folder is not checked out beside the project")
    dest = tmp_path_factory.mktemp("image-sources")
    results = fetch_sources([find_source(name) for name in IMAGE_SOURCES], dest=dest, mirror=MIRROR)
    failed = [f"{r.source}/{r.file}: {r.detail}" for r in results if r.status == "failed"]
    assert not failed, failed
    return dest


def _load(name: str, sources: Path):
    spec = DATASETS[name]
    return spec.load(spec.folder(sources), 0)


def test_every_listed_image_is_fetched_and_pinned(sources):
    assert len(list((sources / "cxr-kermany").rglob("*.jpeg"))) == 5840
    assert len(list((sources / "cxr-nih-1000").rglob("*.png"))) == 1000
    again = fetch_sources([find_source(name) for name in IMAGE_SOURCES], dest=sources, mirror=MIRROR)
    assert {r.status for r in again} == {"present"}


def test_medmnist_official_splits(sources):
    pneumonia = _load("pneumoniamnist", sources)
    assert (len(pneumonia.train), len(pneumonia.val), len(pneumonia.test)) == (4708, 524, 624)
    assert pneumonia.train.images.shape[1:] == (28, 28)
    assert np.bincount(pneumonia.test.targets).tolist() == [234, 390]
    breast = _load("breastmnist", sources)
    assert (len(breast.train), len(breast.val), len(breast.test)) == (546, 78, 156)
    assert np.bincount(breast.train.targets).tolist() == [147, 399], "label 0 is malignant"


def test_kermany_without_duplicates_and_split_by_patient(sources):
    data = _load("kermany", sources)
    assert len(data.train) + len(data.val) + len(data.test) == 5840 - 32
    assert data.train.images.shape[1:] == (224, 224)
    assert not set(data.train.patients) & set(data.val.patients)
    assert 0.08 < len(data.val) / (len(data.train) + len(data.val)) < 0.12
    assert set(np.unique(data.test.targets).tolist()) == {0, 1, 2}


def test_nih1000_given_splits_and_label_counts(sources):
    data = _load("nih1000", sources)
    assert (len(data.train), len(data.val), len(data.test)) == (600, 200, 200)
    counts = data.positives()
    assert counts["Effusion"] == 170 and counts["Infiltration"] == 162 and counts["Hernia"] == 9
