"""Tiny synthetic image sets the imaging tests train on in seconds: a bright blob (positive) or none."""

from __future__ import annotations

import numpy as np

from imaging.datasets import ImageSet, Split


def blob_images(count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(images (count, size, size) uint8, labels 0/1): label 1 has a bright blob somewhere off the edge."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    grid = np.arange(size)
    images = rng.normal(60, 12, (count, size, size))
    for i in np.flatnonzero(labels):
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        radius = size / 7
        images[i] += 150 * np.exp(-((grid[:, None] - cy) ** 2 + (grid[None, :] - cx) ** 2) / (2 * radius**2))
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.int64)


def blob_set(size: int = 28, counts: tuple[int, int, int] = (160, 60, 60)) -> ImageSet:
    parts = [Split(*blob_images(n, size, seed)) for seed, n in enumerate(counts)]
    return ImageSet("blobs", ("dark", "blob"), False, *parts)
