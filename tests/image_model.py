"""A tiny chest X-ray model trained in seconds on synthetic blobs (bright blob = "pneumonia"), saved as a hosted
model file, for the API tests."""

from __future__ import annotations

from pathlib import Path

from imaging.augment import Augment
from imaging.export import save_export
from imaging.train import TrainConfig, train_network
from tests.unit.imaging.synthetic import blob_set

TINY = TrainConfig(epochs=4, batch_size=32, learning_rate=5e-3, patience=4, seed=3, augment=Augment(rotate_degrees=5))


def blob_model_file(folder: Path, *, dataset: str = "blobs") -> Path:
    """Train the tiny model and save it as `folder/<dataset>.pt`; its "blob" class stands for Pneumonia."""
    data = blob_set()
    result = train_network(data, input_size=28, config=TINY)
    config = {
        "dataset": dataset,
        "encoder": TINY.encoder,
        "dropout": TINY.dropout,
        "labels": list(data.labels),
        "multilabel": False,
        "input_size": 28,
        "fit": "crop",
        "modality": "CXR",
        "mean": result.mean,
        "std": result.std,
        "temperature": 1.0,
        "findings": [{"label": "Pneumonia", "classes": ["blob"], "finding": "Pneumonia", "prevalence": 0.5}],
        "metrics": {"auroc": result.best_auroc},
        "card": "synthetic blobs for tests; not for clinical use",
    }
    path = folder / f"{dataset}.pt"
    save_export(path, result.network.state_dict(), config)
    return path
