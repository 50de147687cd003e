"""Real test images read by the hosted models, as evidence for simulated patients (offline only).

`cdss eval diagnosis` gives simulated cases whose disease shows a finding on a chest film that finding as an
image: with a hosted model for it, a real test image that shows it (or a normal one) is read by the model and
its calibrated probability, relative to the model's training prevalence, enters the ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from imaging.catalog import find_dataset
from imaging.model import ImageModel
from ontologies.cxr import cxr_label_map

Reader = Callable[[str, bool, np.random.Generator], tuple[float, float | None] | None]


def _graph_finding(finding: str) -> str:
    """A CXR label name ("Pneumonia") as its graph finding; an HPO CURIE as itself."""
    label = cxr_label_map().get(finding)
    return label.findings[0] if label is not None and label.findings else finding


def hosted_reader(models: Mapping[str, ImageModel], sources_dir: Path, *, seed: int = 0) -> Reader:
    """(graph finding, shown, rng) -> (probability, training prevalence) that the hosted model reading that
    finding gives a random test image showing it (shown) or showing no finding at all (not shown)."""
    pools: dict[str, tuple[ImageModel, str, np.ndarray, np.ndarray, float | None]] = {}
    for name, model in sorted(models.items()):
        spec = find_dataset(name)
        data = spec.load(spec.folder(sources_dir), seed)
        targets = data.test.targets
        for row in model.config["findings"]:
            classes = [model.labels.index(c) for c in row["classes"]]
            if model.multilabel:
                shown, normal = targets[:, classes].any(axis=1), targets.sum(axis=1) == 0
            else:
                shown = np.isin(targets, classes)
                normal = targets == model.labels.index("normal") if "normal" in model.labels else ~shown
            prevalence = row.get("prevalence")
            pools.setdefault(
                _graph_finding(row["finding"]),
                (model, row["label"], data.test.images[shown], data.test.images[normal], prevalence),
            )

    def read(finding: str, shown: bool, rng: np.random.Generator) -> tuple[float, float | None] | None:
        if finding not in pools:
            return None
        model, label, with_it, without_it, prevalence = pools[finding]
        pool = with_it if shown else without_it
        if not len(pool):
            return None
        prediction = model.predict(pool[int(rng.integers(len(pool)))])
        return next(f["probability"] for f in prediction.findings if f["label"] == label), prevalence

    return read
