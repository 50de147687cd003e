"""Does a posterior of 0.6 mean right 60% of the time? Reliability, expected calibration error, and the fit.

The engine's posterior is a softmax of every disease's log score, divided by
a temperature T, with one more outcome standing for a disease the graph does
not know (log score c):

    P(D) = exp(s_D / T) / (sum over diseases exp(s / T) + exp(c))

T and c are fitted by maximum likelihood of the gold diagnosis on real cases
(`fit`); the ranking does not change, only what its numbers mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

BINS = 10
TOP = 200


def posterior(total: np.ndarray, temperature: float = 1.0, unknown: float = -np.inf) -> np.ndarray:
    """Calibrated probabilities of every disease (they sum to 1 minus the unknown disease's share)."""
    scaled = total / temperature
    norm = np.logaddexp(logsumexp(scaled), unknown)
    return np.exp(scaled - norm)


@dataclass(frozen=True, slots=True)
class Reliability:
    """Per confidence bin: cases, mean confidence, accuracy; and the expected calibration error."""

    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray
    ece: float

    def to_dict(self) -> dict:
        return {
            "ece": round(self.ece, 4),
            "bins": [
                {"cases": int(n), "confidence": round(float(c), 4), "accuracy": round(float(a), 4)}
                for n, c, a in zip(self.counts, self.confidence, self.accuracy, strict=True)
                if n
            ],
        }


def reliability(confidence: Sequence[float], correct: Sequence[bool], bins: int = BINS) -> Reliability:
    """Equal-width bins of the top diagnosis's probability against how often it was right."""
    conf = np.asarray(confidence, dtype=float)
    right = np.asarray(correct, dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(counts > 0, np.bincount(which, conf, bins) / counts, 0.0)
        accuracy = np.where(counts > 0, np.bincount(which, right, bins) / counts, 0.0)
    ece = float((counts * np.abs(mean_conf - accuracy)).sum() / max(len(conf), 1))
    return Reliability(counts, mean_conf, accuracy, ece)


def fit(totals: Sequence[np.ndarray], golds: Sequence[np.ndarray]) -> tuple[float, float]:
    """(temperature, unknown log score) maximising the probability of the gold; a case whose gold the
    ranking does not know counts for the unknown outcome."""
    # The best 200 diseases hold all but a negligible share of the mass.
    tops = np.vstack([np.partition(t, len(t) - TOP)[-TOP:] if len(t) > TOP else t for t in totals])
    known = np.array([len(g) > 0 for g in golds])
    gold_scores = np.array([float(t[g].max()) if len(g) else 0.0 for t, g in zip(totals, golds, strict=True)])

    def loss(params: np.ndarray) -> float:
        temperature, unknown = float(np.exp(params[0])), float(params[1])
        norm = np.logaddexp(logsumexp(tops / temperature, axis=1), unknown)
        chosen = np.where(known, gold_scores / temperature, unknown)
        return float((norm - chosen).mean())

    start = np.array([0.0, float(np.median(tops.max(axis=1)))])
    result = minimize(loss, x0=start, method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-6, "maxiter": 2000})
    return float(np.exp(result.x[0])), float(result.x[1])


def plot_reliability(curves: dict[str, Reliability], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    for label, curve in curves.items():
        used = curve.counts > 0
        ax.plot(curve.confidence[used], curve.accuracy[used], marker="o", label=f"{label} (ECE {curve.ece:.3f})")
    ax.set_xlabel("probability of the top diagnosis")
    ax.set_ylabel("share of cases where it was right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
