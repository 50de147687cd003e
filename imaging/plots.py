"""PNG figures for training and evaluation: loss and validation AUROC per epoch, and reliability diagrams."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def _figure(columns: int):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot, *pyplot.subplots(1, columns, figsize=(5 * columns, 4))


def plot_curves(history: Sequence[dict], path: Path, title: str) -> None:
    """Training and validation loss, and validation AUROC, by epoch; the best epoch marked."""
    pyplot, figure, (losses, aurocs) = _figure(2)
    epochs = [row["epoch"] for row in history]
    losses.plot(epochs, [row["loss"] for row in history], label="train (augmented)")
    losses.plot(epochs, [row["valid_loss"] for row in history], label="validation")
    losses.set(xlabel="epoch", ylabel="loss", title=f"{title}: loss")
    losses.legend()
    scores = [row["valid_auroc"] for row in history]
    aurocs.plot(epochs, scores, marker="o")
    if scores:
        best = max(range(len(scores)), key=scores.__getitem__)
        aurocs.axvline(epochs[best], color="grey", linestyle="--", label=f"kept: epoch {epochs[best]}")
        aurocs.legend()
    aurocs.set(xlabel="epoch", ylabel="mean AUROC", title=f"{title}: validation AUROC")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def plot_reliability(calibrated: Sequence[dict], uncalibrated: Sequence[dict], path: Path, title: str) -> None:
    """Observed frequency against stated probability per bin, before and after temperature scaling."""
    pyplot, figure, axes = _figure(1)
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfect calibration")
    for bins, name in ((uncalibrated, "before scaling"), (calibrated, "after temperature scaling")):
        axes.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], marker="o", label=name)
    axes.set(xlabel="stated probability", ylabel="observed frequency", title=f"{title}: reliability (test split)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
