"""One file per model: the weights and a JSON config (dataset, labels, input, calibration, metrics, card and
the label -> finding table), saved with `torch.save` and read back with `weights_only=True`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from cdss.errors import ConfigError
from cdss.model_files import load_model_file, save_model_file

FORMAT = "cdss-image-1"
REQUIRED = (
    "dataset",
    "encoder",
    "labels",
    "multilabel",
    "input_size",
    "fit",
    "modality",
    "mean",
    "std",
    "temperature",
    "findings",
    "metrics",
    "card",
)


def default_model_path(data_dir: Path, dataset: str) -> Path:
    return data_dir / "models" / "images" / f"{dataset}.pt"


def weights_version(state: dict[str, torch.Tensor]) -> str:
    """The first 12 hex digits of the SHA-256 of the weights (each name, then its tensor's bytes, in name order)."""
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def save_export(path: Path, state: dict[str, torch.Tensor], config: dict) -> str:
    """Write the file (atomically: a partial file renamed into place); returns the version."""
    weights = {k: v.detach().cpu().clone() for k, v in state.items()}
    version = weights_version(weights)
    payload = {
        "format": FORMAT,
        "version": version,
        "config": json.dumps(config, sort_keys=True),
        "state_dict": weights,
    }
    save_model_file(path, payload)
    return version


def read_export(path: Path) -> tuple[dict, dict[str, torch.Tensor], str]:
    """(config, weights, version) of a saved model; a `ConfigError` naming the file when it is not one."""
    payload = load_model_file(path, format=FORMAT, kind="image model", train="cdss image train")
    try:
        config = json.loads(payload["config"])
        state, version = payload["state_dict"], payload["version"]
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"{path}: the image model's config or weights cannot be read ({error})") from None
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ConfigError(f"{path}: the image model's config lacks {', '.join(missing)}")
    if weights_version(state) != version:
        raise ConfigError(f"{path}: the weights do not hash to the version {version!r} the file states")
    return config, state, version
