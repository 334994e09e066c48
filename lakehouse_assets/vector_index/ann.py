"""The approximate nearest neighbour index (usearch HNSW), persisted next to the tables.

Why usearch: see ``docs/vector_index.md`` and ``bench/ann_libraries.py`` (recall and latency
of usearch, hnswlib, faiss and LanceDB on 100k vectors). Every HNSW library met the recall and
latency targets (hnswlib and faiss answer about twice as fast); usearch was chosen for what
else it gives: float16 storage at the same recall (half the memory), a single file that can be
memory-mapped (``view=True``, so a search process opens the index in milliseconds), add and
delete by key, and one small wheel with no system dependencies.

Layout under ``<index root>``::

    CURRENT                  name of the published build, e.g. v000007
    v000007/index.usearch    the HNSW graph and vectors; key = row position
    v000007/manifest.json    chunk ids by key, the embeddings table version it was built from

A build is written to its own directory and published by replacing ``CURRENT`` atomically, so
a reader sees either the old index or the new one, never half of one; a killed build leaves
an unpublished directory that the next build ignores.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

METRIC = "cos"
# Vectors stored as float16: half the memory and file size of float32, the same recall on
# 384-d embeddings (bench/ann_libraries.py: 0.967 vs 0.969 at 100k), faster to build.
STORAGE_DTYPE = "f16"
# HNSW build and search parameters: the cheapest setting of bench/ann_libraries.py's sweep
# that reaches recall@10 >= 0.95 on 100k random 384-d vectors.
CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 192
KEEP_BUILDS = 2
# Audit before publish: a build is published only if it finds its own vectors again (a sample
# searched with k=1 must come back at distance ~0), so a corrupt or mis-keyed build never
# replaces the index readers use.
SELF_RECALL_SAMPLE = 64
MIN_SELF_RECALL = 0.95
SAME_VECTOR_DISTANCE = 1e-3


class IndexBuildRejected(RuntimeError):
    """A build failed its audit; the published index is unchanged."""


@dataclass(frozen=True)
class IndexManifest:
    """What a published index was built from."""

    table_uri: str
    table_version: int
    table_committed_at: str
    rows: int
    dimensions: int
    built_at: str
    model: str
    library: str
    params: dict[str, object] = field(default_factory=dict)
    chunk_ids: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> IndexManifest:
        return cls(**json.loads(text))


def vectors_of(rows: pa.Table, column: str = "embedding") -> np.ndarray:
    """The ``list<float>`` column as an ``(n, d)`` float32 matrix (no per-row Python)."""
    if rows.num_rows == 0:
        return np.zeros((0, 0), dtype=np.float32)
    embeddings = rows.column(column).combine_chunks()
    flat = pc.list_flatten(embeddings).to_numpy(zero_copy_only=False)
    return flat.astype(np.float32, copy=False).reshape(rows.num_rows, -1)


def new_index(dimensions: int, expansion_search: int = EXPANSION_SEARCH):
    """An empty usearch HNSW index with the project's parameters."""
    from usearch.index import Index

    return Index(
        ndim=dimensions,
        metric=METRIC,
        dtype=STORAGE_DTYPE,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=expansion_search,
    )


def build_index(vectors: np.ndarray):
    """HNSW index over ``vectors``; key i is row i."""
    index = new_index(vectors.shape[1])
    if len(vectors):
        index.add(np.arange(len(vectors), dtype=np.uint64), vectors)
    return index


def self_recall(index, vectors: np.ndarray, sample: int = SELF_RECALL_SAMPLE) -> float:
    """Share of a spread sample of ``vectors`` whose nearest neighbour in ``index`` leads back
    to the same vector: its own row, or a row holding an identical vector (duplicate chunks
    embed alike). A key that leads to another row's vector counts as a miss."""
    if len(vectors) == 0:
        return 1.0
    picks = np.unique(np.linspace(0, len(vectors) - 1, num=min(sample, len(vectors)), dtype=int))
    keys = np.asarray(index.search(vectors[picks], 1).keys).reshape(len(picks), -1)[:, 0]
    valid = keys < len(vectors)
    found = vectors[np.where(valid, keys, 0)].astype(np.float64)
    asked = vectors[picks].astype(np.float64)
    cosine = (found * asked).sum(axis=1) / (
        np.linalg.norm(found, axis=1) * np.linalg.norm(asked, axis=1)
    )
    return float((valid & (1 - cosine < SAME_VECTOR_DISTANCE)).mean())


def verify_build(index, vectors: np.ndarray) -> float:
    """Refuse a build that does not hold every vector or cannot find its own (the self-recall
    it measured otherwise)."""
    if len(index) != len(vectors):
        raise IndexBuildRejected(
            f"the build holds {len(index)} vectors for {len(vectors)} rows; "
            "the published index is unchanged"
        )
    recall = self_recall(index, vectors)
    if recall < MIN_SELF_RECALL:
        raise IndexBuildRejected(
            f"the build found {recall:.0%} of its sampled vectors again (at least "
            f"{MIN_SELF_RECALL:.0%} needed); the published index is unchanged"
        )
    return recall


def library_version() -> str:
    import usearch

    return f"usearch {usearch.__version__}"


def current_build(root: Path) -> Path | None:
    """The published build's directory, or None before the first publish."""
    pointer = root / "CURRENT"
    if not pointer.exists():
        return None
    build = root / pointer.read_text().strip()
    return build if (build / "manifest.json").exists() else None


def read_manifest(root: Path) -> IndexManifest | None:
    build = current_build(root)
    return IndexManifest.from_json((build / "manifest.json").read_text()) if build else None


def publish_index(root: Path, index, manifest: IndexManifest) -> Path:
    """Write ``index`` and ``manifest`` as a new build and make it the current one."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{manifest.table_version:06d}"
    staging = root / f".{name}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    index.save(str(staging / "index.usearch"))
    (staging / "manifest.json").write_text(manifest.to_json())
    final = root / name
    if final.exists():
        shutil.rmtree(final)
    staging.rename(final)
    pointer = root / f".CURRENT-{uuid.uuid4().hex[:8]}"
    pointer.write_text(name)
    os.replace(pointer, root / "CURRENT")
    _prune(root, keep=name)
    return final


def _prune(root: Path, keep: str) -> None:
    builds = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))
    for old in [b for b in builds if b.name != keep][: max(0, len(builds) - KEEP_BUILDS)]:
        shutil.rmtree(old, ignore_errors=True)
    for leftover in root.glob(".v*"):  # builds killed before publishing
        shutil.rmtree(leftover, ignore_errors=True)


def open_index(build: Path):
    """The index of a published build, memory-mapped (read-only, opened in milliseconds)."""
    from usearch.index import Index

    index = Index.restore(str(build / "index.usearch"), view=True)
    # The file keeps the graph, not the search breadth: set it again.
    index.expansion_search = EXPANSION_SEARCH
    return index


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
