"""Seeded random vectors shaped like sentence embeddings, for recall tests and benchmarks.

Plain isotropic Gaussian vectors are a poor stand-in at 384 dimensions: every direction has
the same variance, so a query's nearest neighbour is barely nearer than a random vector
(cosine ~0.2 vs ~0) and "nearest" means little. Sentence embeddings concentrate their variance
in few directions (a low intrinsic dimension). These vectors are Gaussian with a power-law
spectrum (the i-th principal direction has variance ~ i**-decay) in a random rotation, then
normalised: with decay 1.0 a query's nearest neighbour has cosine ~0.54, as with real
embeddings. ``decay=0`` gives the isotropic worst case.
"""

from __future__ import annotations

import numpy as np


class EmbeddingLikeVectors:
    """Draws unit vectors from one fixed embedding-like distribution (documents and queries)."""

    def __init__(self, seed: int, dimensions: int = 384, decay: float = 1.0) -> None:
        self.rng = np.random.default_rng(seed)
        ranks = np.arange(1, dimensions + 1, dtype=np.float64)
        self.scale = (ranks ** (-decay / 2)).astype(np.float32)
        rotation, _ = np.linalg.qr(self.rng.standard_normal((dimensions, dimensions)))
        self.rotation = rotation.astype(np.float32)

    def sample(self, rows: int, chunk: int = 20_000) -> np.ndarray:
        """``rows`` unit vectors (float32)."""
        out = np.empty((rows, len(self.scale)), dtype=np.float32)
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            x = self.rng.standard_normal((n, len(self.scale)), dtype=np.float32)
            x = (x * self.scale) @ self.rotation.T
            out[start : start + n] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out
