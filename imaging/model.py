"""A trained image model as the API uses it: load one file, predict calibrated probabilities for a
greyscale image of any size, and draw where the model looked.

Predictions are deterministic: the network is in eval mode (batch norm uses its running statistics,
dropout is off) and each image is scored on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from cdss.errors import ConfigError, InputError
from imaging.calibration import probabilities
from imaging.export import read_export
from imaging.network import SmallResNet, build_network
from imaging.pixels import check_pixels, fit_square
from imaging.saliency import grad_cam, overlay_png


@dataclass(frozen=True, slots=True)
class ImagePrediction:
    model: str
    """The dataset the model learned, e.g. "pneumoniamnist"."""
    version: str
    probabilities: dict[str, float]
    """Label -> calibrated probability."""
    findings: list[dict]
    """[{"label", "probability", "finding", "prevalence"}]; "finding": a CheXpert/NIH label name the engine maps, or
    an HPO CURIE; "prevalence": the finding's share of the training images, which the probability is relative to."""
    notes: list[str]
    """What was done to the input, e.g. "resized from 512x512 to 28x28"."""

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "version": self.version,
            "probabilities": dict(self.probabilities),
            "findings": [dict(f) for f in self.findings],
            "notes": list(self.notes),
        }


class ImageModel:
    """A saved classifier with its calibration and label -> finding table."""

    def __init__(self, network: SmallResNet, config: dict, version: str) -> None:
        self.network = network.eval()
        for parameter in self.network.parameters():
            parameter.requires_grad_(False)
        self.config = config
        self.dataset: str = config["dataset"]
        self.version = version
        self.labels: tuple[str, ...] = tuple(config["labels"])
        self.input_size: int = int(config["input_size"])
        self.modality: str = config["modality"]
        self.card: str = config["card"]
        self.multilabel: bool = bool(config["multilabel"])
        self.temperature = float(config["temperature"])
        self.metrics: dict = config["metrics"]
        """Test-split figures measured when the model was trained."""

    @classmethod
    def load(cls, path: Path) -> ImageModel:
        """Read a file written by `cdss image train`; a `ConfigError` naming the file when it is not valid."""
        config, state, version = read_export(path)
        try:
            network = build_network(
                config["encoder"],
                input_size=int(config["input_size"]),
                outputs=len(config["labels"]),
                dropout=float(config.get("dropout", 0.0)),
            )
            network.load_state_dict(state, strict=True)
        except (ConfigError, RuntimeError, TypeError, ValueError) as error:
            raise ConfigError(f"{path}: the weights do not fit the model its config describes ({error})") from None
        unknown = [c for row in config["findings"] for c in row["classes"] if c not in config["labels"]]
        if unknown:
            raise ConfigError(f"{path}: findings name classes the model lacks: {', '.join(unknown)}")
        return cls(network, config, version)

    def _batch(self, images: np.ndarray) -> torch.Tensor:
        scaled = torch.tensor(np.asarray(images), dtype=torch.uint8).float().div(255).unsqueeze(1)
        return (scaled - self.config["mean"]) / self.config["std"]

    @torch.no_grad()
    def logits(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Shapes: (N, input_size, input_size) uint8 -> (N, outputs) uncalibrated logits."""
        parts = [self.network(self._batch(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
        return torch.cat(parts).double().numpy() if parts else np.zeros((0, len(self.labels)))

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for images already at the input size (evaluation)."""
        return probabilities(self.logits(images), self.temperature, multilabel=self.multilabel)

    def predict(self, pixels: np.ndarray, *, notes: Sequence[str] = ()) -> ImagePrediction:
        """Pixels: a 2-D uint8 greyscale image of any size; the model crops or squashes and resizes it itself."""
        fitted = fit_square(check_pixels(pixels), self.input_size, self.config["fit"])
        probs = self.probabilities(fitted.pixels[None])[0]
        by_label = {label: round(float(p), 6) for label, p in zip(self.labels, probs, strict=True)}
        findings = [
            {
                "label": row["label"],
                "probability": round(float(sum(probs[self.labels.index(c)] for c in row["classes"])), 6),
                "finding": row["finding"],
                "prevalence": row.get("prevalence"),
            }
            for row in self.config["findings"]
        ]
        return ImagePrediction(self.dataset, self.version, by_label, findings, [*notes, *fitted.notes])

    def saliency(self, pixels: np.ndarray, label: str) -> bytes:
        """Grad-CAM for one of `labels`, as a PNG of the input's own size with the map drawn over it."""
        if label not in self.labels:
            raise InputError(f"unknown label {label!r} for image model {self.dataset}: expected one of {self.labels}")
        fitted = fit_square(check_pixels(pixels), self.input_size, self.config["fit"])
        cam = grad_cam(self.network, self._batch(fitted.pixels[None]), self.labels.index(label))
        return overlay_png(pixels, cam, fitted.box)
