"""The ANN index against exact search on 100k random vectors (no Spark).

The vectors are seeded random draws shaped like sentence embeddings (a decaying spectrum; see
``vector_index/synthetic.py`` for why isotropic noise is not a meaningful nearest-neighbour
test at 384 dimensions). The index goes through a published, memory-mapped build: what a
search process actually opens.
"""

from __future__ import annotations

import numpy as np

from lakehouse_assets.vector_index.ann import (
    IndexManifest,
    build_index,
    open_index,
    publish_index,
    read_manifest,
)
from lakehouse_assets.vector_index.synthetic import EmbeddingLikeVectors

VECTORS, DIMENSIONS, QUERIES, K = 100_000, 384, 200, 10


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    similarities = queries @ vectors.T
    top = np.argpartition(-similarities, k, axis=1)[:, :k]
    return top


def test_recall_at_10_on_100k_random_vectors_is_at_least_095(tmp_path):
    source = EmbeddingLikeVectors(seed=42, dimensions=DIMENSIONS)
    vectors, queries = source.sample(VECTORS), source.sample(QUERIES)
    index = build_index(vectors)
    assert len(index) == VECTORS

    manifest = IndexManifest(
        table_uri="random",
        table_version=1,
        table_committed_at="",
        rows=VECTORS,
        dimensions=DIMENSIONS,
        built_at="",
        model="random",
        library="",
    )
    build = publish_index(tmp_path, index, manifest)
    assert read_manifest(tmp_path) == manifest
    opened = open_index(build)

    found = opened.search(queries, K).keys
    truth = exact_top_k(vectors, queries, K)
    recall = np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)])
    print(f"recall@{K} over {QUERIES} queries on {VECTORS:,} x {DIMENSIONS}: {recall:.4f}")
    assert recall >= 0.95
