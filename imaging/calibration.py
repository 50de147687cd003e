"""Calibrated probabilities: one temperature fitted on the validation split (Guo et al. 2017), and the
expected calibration error with its reliability bins. The fusion reads these probabilities as evidence,
so they should mean what they say."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional

MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 20.0


def probabilities(logits: np.ndarray, temperature: float, *, multilabel: bool) -> np.ndarray:
    """Logits (N, K) -> probabilities: a sigmoid per label (multi-label) or a softmax over the classes."""
    scaled = torch.from_numpy(np.asarray(logits, dtype=np.float64)) / temperature
    out = torch.sigmoid(scaled) if multilabel else torch.softmax(scaled, dim=1)
    return out.numpy()


def negative_log_likelihood(logits: np.ndarray, targets: np.ndarray, temperature: float, *, multilabel: bool) -> float:
    """Mean NLL per image (per label and image for a multi-label task)."""
    scaled = torch.from_numpy(np.asarray(logits, dtype=np.float64)) / temperature
    if multilabel:
        return float(functional.binary_cross_entropy_with_logits(scaled, torch.from_numpy(targets).double()))
    return float(functional.cross_entropy(scaled, torch.from_numpy(targets).long()))


def fit_temperature(logits: np.ndarray, targets: np.ndarray, *, multilabel: bool) -> float:
    """The temperature that minimises the NLL of `targets` (the validation split), searched on a log grid over
    [0.05, 20] in steps of about 1%.

    One scalar for all outputs: it cannot change which class ranks first, only how sure the model says it is.
    """
    if len(logits) == 0:
        return 1.0
    grid = np.exp(np.linspace(np.log(MIN_TEMPERATURE), np.log(MAX_TEMPERATURE), 601))
    losses = [negative_log_likelihood(logits, targets, t, multilabel=multilabel) for t in grid]
    return float(grid[int(np.argmin(losses))])


def reliability(probs: np.ndarray, targets: np.ndarray, *, multilabel: bool, bins: int = 15) -> dict:
    """Expected calibration error and its bins.

    Multi-class: the top class's probability against whether it was right. Multi-label: every label's
    probability against whether the label is present.
    """
    if multilabel:
        confidence, correct = probs.reshape(-1), targets.reshape(-1).astype(np.float64)
    else:
        confidence = probs.max(axis=1)
        correct = (probs.argmax(axis=1) == targets).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean_confidence, accuracy = float(confidence[inside].mean()), float(correct[inside].mean())
        ece += inside.mean() * abs(mean_confidence - accuracy)
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(inside.sum()),
                "confidence": mean_confidence,
                "accuracy": accuracy,
            }
        )
    return {"ece": float(ece), "bins": rows}
