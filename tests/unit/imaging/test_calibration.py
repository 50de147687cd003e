"""Temperature scaling, calibration error and the test-split figures, on toys with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from imaging.calibration import fit_temperature, negative_log_likelihood, probabilities, reliability
from imaging.metrics import binary_figures, finding_aurocs, multiclass_metrics, multilabel_metrics


def _overconfident(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three-class logits that are right about 70% of the time but claim near-certainty."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, 3, n)
    said = np.where(rng.random(n) < 0.7, targets, rng.integers(0, 3, n))
    logits = rng.normal(0, 0.3, (n, 3))
    logits[np.arange(n), said] += 2.0
    return logits * 4, targets


def test_temperature_scaling_lowers_the_nll_of_an_overconfident_model():
    logits, targets = _overconfident()
    temperature = fit_temperature(logits, targets, multilabel=False)
    assert temperature > 2
    assert negative_log_likelihood(logits, targets, temperature, multilabel=False) < negative_log_likelihood(
        logits, targets, 1.0, multilabel=False
    )
    test_logits, test_targets = _overconfident(seed=1)
    before = reliability(probabilities(test_logits, 1.0, multilabel=False), test_targets, multilabel=False)
    after = reliability(probabilities(test_logits, temperature, multilabel=False), test_targets, multilabel=False)
    assert after["ece"] < before["ece"] / 2
    ranking = probabilities(test_logits, temperature, multilabel=False).argmax(axis=1)
    assert (ranking == test_logits.argmax(axis=1)).all(), "a temperature never changes the top class"


def test_temperature_scaling_works_for_multi_label_logits():
    rng = np.random.default_rng(2)
    targets = (rng.random((1500, 4)) < 0.3).astype(np.float32)
    logits = (targets * 2 - 1) * 0.5 * 8 + rng.normal(0, 3, targets.shape)
    temperature = fit_temperature(logits, targets, multilabel=True)
    assert negative_log_likelihood(logits, targets, temperature, multilabel=True) < negative_log_likelihood(
        logits, targets, 1.0, multilabel=True
    )


def test_reliability_of_a_perfectly_calibrated_toy_is_near_zero():
    rng = np.random.default_rng(3)
    confidence = rng.random(20000)
    targets = (rng.random(20000) < confidence).astype(np.float32)
    report = reliability(confidence[:, None], targets[:, None], multilabel=True, bins=10)
    assert report["ece"] < 0.02 and sum(b["count"] for b in report["bins"]) == 20000


def test_binary_and_per_class_figures_count_right():
    truth = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.8, 0.3, 0.6, 0.2, 0.1, 0.1, 0.4])
    figures = binary_figures(truth, score)
    assert figures["sensitivity"] == pytest.approx(2 / 3) and figures["specificity"] == pytest.approx(4 / 5)
    assert figures["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1)) and figures["auroc"] == pytest.approx(13 / 15)
    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.5, 0.4, 0.1]])
    targets = np.array([0, 1, 2, 1])
    labels = ("normal", "bacterial", "viral")
    report = multiclass_metrics(probs, targets, labels, None)
    assert report["accuracy"] == 0.75 and report["per_class"]["bacterial"]["sensitivity"] == 0.5
    pneumonia = finding_aurocs(probs, targets, [{"label": "Pneumonia", "classes": ["bacterial", "viral"]}], labels)
    assert pneumonia == {"Pneumonia": 1.0}
    binary = multiclass_metrics(probs[:, :2] / probs[:, :2].sum(1, keepdims=True), targets.clip(0, 1), ("a", "b"), 1)
    assert binary["positive"] == "b" and binary["auroc"] == binary["per_class"]["b"]["auroc"]


def test_the_mean_auroc_counts_only_labels_with_enough_positives():
    rng = np.random.default_rng(4)
    targets = np.zeros((100, 3), np.float32)
    targets[:40, 0] = 1
    targets[:3, 1] = 1
    probs = np.clip(targets * 0.6 + rng.random((100, 3)) * 0.5, 0, 1)
    report = multilabel_metrics(probs, targets, ("A", "B", "C"), {"A": 200, "B": 200, "C": 0})
    assert report["mean_auroc_labels"] == ["A"] and report["mean_auroc"] == report["per_label"]["A"]["auroc"]
    assert report["per_label"]["C"]["auroc"] is None
