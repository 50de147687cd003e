"""Test-split figures: AUROC, accuracy, sensitivity, specificity and F1, per class or per label."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

MIN_POSITIVES = 30
"""A label enters the NIH mean AUROC with at least this many positive images in the whole set ..."""
MIN_TEST_POSITIVES = 5
"""... and at least this many in the test split, below which its AUROC is noise."""


def _auroc(truth: np.ndarray, score: np.ndarray) -> float | None:
    if truth.all() or not truth.any():
        return None
    return float(roc_auc_score(truth, score))


def binary_figures(truth: np.ndarray, score: np.ndarray, said: np.ndarray | None = None) -> dict:
    """AUROC of `score`, and sensitivity, specificity and F1 of the decision `said` (default: score >= 0.5)."""
    truth = truth.astype(bool)
    said = score >= 0.5 if said is None else said
    tp, fp = int((said & truth).sum()), int((said & ~truth).sum())
    fn, tn = int((~said & truth).sum()), int((~said & ~truth).sum())
    return {
        "auroc": _auroc(truth, score),
        "sensitivity": tp / (tp + fn) if tp + fn else None,
        "specificity": tn / (tn + fp) if tn + fp else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
        "positives": tp + fn,
        "negatives": tn + fp,
    }


def multiclass_metrics(probs: np.ndarray, targets: np.ndarray, labels: Sequence[str], positive: int | None) -> dict:
    """Accuracy of the top class; one-vs-rest figures per class (the decision: the class is the top one).

    With two classes, `positive` names the one a finding stands for, and its figures are also the headline.
    """
    top = probs.argmax(axis=1)
    per_class = {label: binary_figures(targets == k, probs[:, k], top == k) for k, label in enumerate(labels)}
    aurocs = [f["auroc"] for f in per_class.values() if f["auroc"] is not None]
    out = {
        "images": len(targets),
        "accuracy": float((top == targets).mean()) if len(targets) else None,
        "macro_auroc": float(np.mean(aurocs)) if aurocs else None,
        "per_class": per_class,
    }
    if len(labels) == 2 and positive is not None:
        out |= {
            "positive": labels[positive],
            **{k: per_class[labels[positive]][k] for k in ("auroc", "sensitivity", "specificity", "f1")},
        }
    return out


def multilabel_metrics(
    probs: np.ndarray, targets: np.ndarray, labels: Sequence[str], overall: Mapping[str, int]
) -> dict:
    """Figures per label at a 0.5 threshold, and the mean AUROC over the labels common enough to trust
    (`overall`: positives per label in the whole set)."""
    per_label = {}
    for k, label in enumerate(labels):
        per_label[label] = binary_figures(targets[:, k] > 0.5, probs[:, k]) | {"all_positives": int(overall[label])}
    eligible = [
        label
        for label, f in per_label.items()
        if f["all_positives"] >= MIN_POSITIVES and f["positives"] >= MIN_TEST_POSITIVES and f["auroc"] is not None
    ]
    return {
        "images": len(targets),
        "mean_auroc": float(np.mean([per_label[label]["auroc"] for label in eligible])) if eligible else None,
        "mean_auroc_labels": eligible,
        "mean_auroc_rule": f">= {MIN_POSITIVES} positives in all and >= {MIN_TEST_POSITIVES} in the test split",
        "exact_match": float(((probs >= 0.5) == (targets > 0.5)).all(axis=1).mean()) if len(targets) else None,
        "per_label": per_label,
    }


def finding_aurocs(probs: np.ndarray, targets: np.ndarray, findings: Sequence[Mapping], labels: Sequence[str]) -> dict:
    """AUROC of each finding a multi-class model reports (the sum of its classes' probabilities), e.g.
    pneumonia = bacterial + viral."""
    out = {}
    for row in findings:
        index = [labels.index(c) for c in row["classes"]]
        out[row["label"]] = _auroc(np.isin(targets, index), probs[:, index].sum(axis=1))
    return out
