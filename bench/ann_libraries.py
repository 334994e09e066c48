"""Choose the vector index's approximate-nearest-neighbour library by measurement.

    python bench/ann_libraries.py [--vectors 100000] [--dim 384] [--queries 1000] [--seed 7]
                                  [--json-out PATH] [--libraries usearch,hnswlib,faiss,lancedb]
                                  [--data embedding-like|isotropic] [--spectrum-decay 1.0]

Why this exists: the knowledge base's vector index (``lakehouse_assets/vector_index/ann.py``)
needs an ANN library, and the choice (and its build and search parameters) should rest on
numbers from this machine rather than on the libraries' own claims. This script measures
usearch, hnswlib, faiss and LanceDB on the same seeded data against exact numpy search.

What it does:

1. Seeded random float32 vectors and separate random queries, L2-normalised, so inner product
   equals cosine similarity. By default they have an embedding-like decaying spectrum
   (``--data embedding-like``); ``--data isotropic`` draws plain standard-normal vectors, on
   which no library tried reaches recall 0.95 at sane parameters (usearch M=16, ef=1024:
   0.59 at 100k x 384), so it measures the worst case rather than choosing anything.
2. Ground truth: exact top-10 by inner product (batched matrix multiply + argpartition).
3. For each library whose import works (others are skipped with a note): build with the
   cheapest build parameters of a small ladder, sweep the search-time parameter (ef /
   expansion_search / nprobes + refine_factor) from cheap to expensive and keep the cheapest
   setting with recall@10 >= the target (0.95); if the build cannot reach it, the next rung of
   the ladder is tried. At the chosen setting: single-query latency p50/p99 (one query at a
   time, k=10, one search thread, ``time.perf_counter``), recall@10 of those single-query
   results, batch throughput (all queries in one call, all cores), build time, size on disk
   after save, load time (and memory-mapped open where supported), and whether an entry can
   be deleted and added by integer key.
4. Baseline: exact numpy brute force, single-query p50/p99 and batch throughput.

Needs its own environment (not the project's): ``python3.11 -m venv /tmp/annvenv &&
/tmp/annvenv/bin/pip install numpy usearch hnswlib faiss-cpu lancedb pandas pyarrow``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# LanceDB's Rust core logs k-means and dataset-creation warnings to stderr unless told otherwise
# (read when lancedb is first imported, which happens later, inside the adapter).
os.environ.setdefault("LANCEDB_LOG", "error")

K = 10
TARGET_RECALL = 0.95
WARMUP_QUERIES = 20
EF_SWEEP = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
ALL_LIBRARIES = ("usearch", "hnswlib", "faiss", "lancedb")
CPUS = os.cpu_count() or 1


# ----------------------------------------------------------------------------- data


class VectorSource:
    """Seeded random unit vectors; documents and queries come from the same distribution.

    ``isotropic``: standard normal, normalised. Every direction has the same variance, so at
    384 dimensions the nearest neighbours are barely nearer than a random vector (cosine ~0.2
    vs ~0): the hardest case for any graph or IVF index and unlike real embeddings.
    ``embedding-like`` (default): normal with a power-law spectrum (variance of the i-th
    principal direction ~ i**-decay) in a random rotation, then normalised. Sentence
    embeddings have such a decaying spectrum (a low intrinsic dimension); with decay 1.0 the
    nearest neighbour of a query has cosine ~0.54 and the median pair ~0.
    """

    def __init__(self, rng: np.random.Generator, dim: int, kind: str, decay: float) -> None:
        self.rng = rng
        self.kind = kind
        self.std: np.ndarray | None = None
        self.rotation: np.ndarray | None = None
        if kind == "embedding-like":
            ranks = np.arange(1, dim + 1, dtype=np.float64)
            self.std = (ranks ** (-decay / 2)).astype(np.float32)
            q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
            self.rotation = q.astype(np.float32)
        self.dim = dim

    def sample(self, rows: int, chunk: int = 20_000) -> np.ndarray:
        out = np.empty((rows, self.dim), dtype=np.float32)
        for start in range(0, rows, chunk):
            x = self.rng.standard_normal((min(chunk, rows - start), self.dim), dtype=np.float32)
            if self.std is not None and self.rotation is not None:
                x = (x * self.std) @ self.rotation.T
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            out[start : start + len(x)] = x
        return out


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int, batch: int = 256) -> np.ndarray:
    """Exact top-``k`` row ids by inner product, best first, shape ``(len(queries), k)``."""
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), batch):
        sims = queries[start : start + batch] @ vectors.T
        top = np.argpartition(-sims, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1)
        out[start : start + batch] = np.take_along_axis(top, order, axis=1)
    return out


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the exact top-k present in the returned top-k."""
    found = np.asarray(found, dtype=np.int64)[:, : truth.shape[1]]
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=2).sum()
    return float(hits) / truth.size


def percentile_ms(seconds: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000.0, q))


def path_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# ----------------------------------------------------------------------------- results


@dataclass
class Result:
    """One library (or variant) at its chosen build and search parameters."""

    library: str
    variant: str
    build_params: dict[str, Any] = field(default_factory=dict)
    search_params: dict[str, Any] = field(default_factory=dict)
    reached_target: bool = False
    build_s: float | None = None
    size_mb: float | None = None
    recall_at_10: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    batch_qps: float | None = None
    load_s: float | None = None
    mmap_open_s: float | None = None
    loaded_results_identical: float | None = None
    update_by_key: dict[str, Any] = field(default_factory=dict)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    builds_tried: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- adapters


class Adapter:
    """What the driver needs from one library. ``key`` of a vector is its row number."""

    library = ""
    variant = ""

    def build_ladder(self) -> list[dict[str, Any]]:
        """Build parameters, cheapest first."""
        raise NotImplementedError

    def search_grid(self) -> list[list[dict[str, Any]]]:
        """Rows of search settings; each row from cheapest to most expensive."""
        return [[{"ef": ef} for ef in EF_SWEEP]]

    def build(self, vectors: np.ndarray, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def set_search(self, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def search_one(self, query: np.ndarray) -> np.ndarray:
        """Top-k keys for one query, one search thread."""
        raise NotImplementedError

    def search_batch(self, queries: np.ndarray) -> np.ndarray:
        """Top-k keys for many queries in one call (all cores), ``(n, k)``."""
        return np.stack([self.search_one(q) for q in queries])

    @property
    def has_batch(self) -> bool:
        return True

    def save(self, directory: Path) -> Path:
        """Persist the index; return the file or directory written."""
        raise NotImplementedError

    def load(self, path: Path) -> tuple[float, float | None, Callable[[np.ndarray], np.ndarray]]:
        """(load seconds, memory-mapped open seconds or None, a search_one of the loaded)."""
        raise NotImplementedError

    def probe_updates(self, vectors: np.ndarray) -> dict[str, Any]:
        """Try deleting key 0 and adding a new integer key on the built index."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class UsearchAdapter(Adapter):
    library = "usearch"

    def __init__(self, dtype: str, metric: str = "cos") -> None:
        from usearch.index import Index

        self.Index = Index
        self.dtype = dtype
        self.metric = metric
        self.variant = f"HNSW {metric} {dtype}"
        self.index: Any = None

    def build_ladder(self) -> list[dict[str, Any]]:
        return [
            {"connectivity": 16, "expansion_add": 128},
            {"connectivity": 32, "expansion_add": 200},
        ]

    def build(self, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.index = self.Index(
            ndim=vectors.shape[1],
            metric=self.metric,
            dtype=self.dtype,
            connectivity=params["connectivity"],
            expansion_add=params["expansion_add"],
        )
        self.index.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=CPUS)

    def set_search(self, params: dict[str, Any]) -> None:
        self.index.expansion_search = params["ef"]

    def search_one(self, query: np.ndarray) -> np.ndarray:
        return self.index.search(query, K, threads=1).keys

    def search_batch(self, queries: np.ndarray) -> np.ndarray:
        return self.index.search(queries, K, threads=CPUS).keys

    def save(self, directory: Path) -> Path:
        path = directory / "index.usearch"
        self.index.save(str(path))
        return path

    def load(self, path: Path) -> tuple[float, float | None, Callable[[np.ndarray], np.ndarray]]:
        ef = self.index.expansion_search
        started = time.perf_counter()
        loaded = self.Index.restore(str(path), view=False)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        viewed = self.Index.restore(str(path), view=True)
        mmap_s = time.perf_counter() - started
        del loaded
        viewed.expansion_search = ef
        return load_s, mmap_s, lambda q: viewed.search(q, K, threads=1).keys

    def probe_updates(self, vectors: np.ndarray) -> dict[str, Any]:
        removed = int(self.index.remove(0))
        gone = 0 not in set(self.index.search(vectors[0], K, threads=1).keys.tolist())
        new_key = len(vectors) + 1
        self.index.add(new_key, vectors[0])
        found = new_key in set(self.index.search(vectors[0], K, threads=1).keys.tolist())
        return {
            "delete_by_key": bool(removed == 1 and gone),
            "add_by_key": bool(found),
            "how": "index.remove(key) / index.add(key, vector); restore(view=True) memory-maps",
        }


class HnswlibAdapter(Adapter):
    library = "hnswlib"
    variant = "HNSW ip f32"

    def __init__(self) -> None:
        import hnswlib

        self.hnswlib = hnswlib
        self.index: Any = None
        self.dim = 0

    def build_ladder(self) -> list[dict[str, Any]]:
        return [{"M": 16, "ef_construction": 128}, {"M": 32, "ef_construction": 200}]

    def build(self, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.dim = vectors.shape[1]
        self.index = self.hnswlib.Index(space="ip", dim=self.dim)
        self.index.init_index(
            max_elements=len(vectors) + 16,
            M=params["M"],
            ef_construction=params["ef_construction"],
            random_seed=100,
            allow_replace_deleted=True,
        )
        self.index.add_items(vectors, np.arange(len(vectors)), num_threads=CPUS)

    def set_search(self, params: dict[str, Any]) -> None:
        self.index.set_ef(params["ef"])

    def search_one(self, query: np.ndarray) -> np.ndarray:
        return self.index.knn_query(query, k=K, num_threads=1)[0][0]

    def search_batch(self, queries: np.ndarray) -> np.ndarray:
        return self.index.knn_query(queries, k=K, num_threads=CPUS)[0]

    def save(self, directory: Path) -> Path:
        path = directory / "index.hnswlib"
        self.index.save_index(str(path))
        return path

    def load(self, path: Path) -> tuple[float, float | None, Callable[[np.ndarray], np.ndarray]]:
        ef = self.index.ef
        started = time.perf_counter()
        loaded = self.hnswlib.Index(space="ip", dim=self.dim)
        loaded.load_index(str(path))
        load_s = time.perf_counter() - started
        loaded.set_ef(ef)
        return load_s, None, lambda q: loaded.knn_query(q, k=K, num_threads=1)[0][0]

    def probe_updates(self, vectors: np.ndarray) -> dict[str, Any]:
        self.index.mark_deleted(0)
        gone = 0 not in set(self.search_one(vectors[0]).tolist())
        new_key = len(vectors) + 1
        self.index.add_items(vectors[:1], [new_key], num_threads=1, replace_deleted=True)
        found = new_key in set(self.search_one(vectors[0]).tolist())
        return {
            "delete_by_key": bool(gone),
            "add_by_key": bool(found),
            "how": "mark_deleted(label) (tombstone; slot reusable with replace_deleted) / "
            "add_items(vecs, ids); load_index reads the whole file, no mmap",
        }


class FaissAdapter(Adapter):
    library = "faiss"
    variant = "IndexHNSWFlat ip f32"

    def __init__(self) -> None:
        import faiss

        self.faiss = faiss
        self.index: Any = None

    def build_ladder(self) -> list[dict[str, Any]]:
        return [{"M": 16, "efConstruction": 128}, {"M": 32, "efConstruction": 200}]

    def build(self, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.faiss.omp_set_num_threads(CPUS)
        self.index = self.faiss.IndexHNSWFlat(
            vectors.shape[1], params["M"], self.faiss.METRIC_INNER_PRODUCT
        )
        self.index.hnsw.efConstruction = params["efConstruction"]
        self.index.add(vectors)
        self.faiss.omp_set_num_threads(1)  # single-query search uses one thread

    def set_search(self, params: dict[str, Any]) -> None:
        self.index.hnsw.efSearch = params["ef"]

    def search_one(self, query: np.ndarray) -> np.ndarray:
        return self.index.search(query[None, :], K)[1][0]

    def search_batch(self, queries: np.ndarray) -> np.ndarray:
        self.faiss.omp_set_num_threads(CPUS)
        try:
            return self.index.search(queries, K)[1]
        finally:
            self.faiss.omp_set_num_threads(1)

    def save(self, directory: Path) -> Path:
        path = directory / "index.faiss"
        self.faiss.write_index(self.index, str(path))
        return path

    def load(self, path: Path) -> tuple[float, float | None, Callable[[np.ndarray], np.ndarray]]:
        ef = self.index.hnsw.efSearch
        started = time.perf_counter()
        loaded = self.faiss.read_index(str(path))
        load_s = time.perf_counter() - started
        mmap_s: float | None = None
        try:
            started = time.perf_counter()
            mapped = self.faiss.read_index(str(path), self.faiss.IO_FLAG_MMAP)
            mmap_s = time.perf_counter() - started
            del mapped
        except RuntimeError:
            mmap_s = None
        loaded.hnsw.efSearch = ef
        return load_s, mmap_s, lambda q: loaded.search(q[None, :], K)[1][0]

    def probe_updates(self, vectors: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        try:
            self.index.remove_ids(np.array([0], dtype=np.int64))
            out["delete_by_key"] = True
        except RuntimeError as exc:
            out["delete_by_key"] = False
            out["delete_error"] = str(exc).strip().splitlines()[-1][:160]
        try:
            self.index.add_with_ids(vectors[:1], np.array([len(vectors) + 1], dtype=np.int64))
            out["add_by_key"] = True
        except RuntimeError as exc:
            out["add_by_key"] = False
            out["add_error"] = str(exc).strip().splitlines()[-1][:160]
        out["how"] = (
            "HNSW keys are insertion order (add appends); custom ids need IndexIDMap, and "
            "IndexHNSW cannot remove (rebuild instead)"
        )
        return out

    def close(self) -> None:
        self.faiss.omp_set_num_threads(CPUS)


class LanceAdapter(Adapter):
    library = "lancedb"

    def __init__(self, index_type: str, workdir: Path, rows: int, dim: int) -> None:
        import lancedb
        import pyarrow as pa

        self.lancedb = lancedb
        self.pa = pa
        self.index_type = index_type
        self.variant = f"{index_type} dot"
        self.workdir = workdir
        # IVF partitions ~ sqrt(rows) as a power of two (256 for 100k); PQ sub-vectors of 8
        # and 4 dimensions (48 and 96 for 384).
        self.partitions = max(4, min(256, 2 ** round(np.log2(np.sqrt(rows)))))
        self.dim = dim
        self.db: Any = None
        self.table: Any = None
        self.params: dict[str, Any] = {}
        self.write_s = 0.0
        self.index_s = 0.0

    def build_ladder(self) -> list[dict[str, Any]]:
        if self.index_type == "IVF_PQ":
            return [
                {"num_partitions": self.partitions, "num_sub_vectors": self.dim // 8},
                {"num_partitions": self.partitions // 4, "num_sub_vectors": self.dim // 4},
            ]
        return [{"num_partitions": 8, "m": 16, "ef_construction": 150}]

    def search_grid(self) -> list[list[dict[str, Any]]]:
        if self.index_type == "IVF_PQ":
            nprobes = (8, 16, 32, 64, 128, 256)
            return [[{"nprobes": n, "refine_factor": r} for n in nprobes] for r in (5, 10, 20, 50)]
        # LanceDB requires ef >= k * refine_factor.
        rows = [(None, 64), (None, 128), (None, 256), (10, 128), (10, 256)]
        return [
            [{"nprobes": n, "ef": ef, "refine_factor": r} for n in (1, 2, 4, 8)] for r, ef in rows
        ]

    def build(self, vectors: np.ndarray, params: dict[str, Any]) -> None:
        from lancedb.index import IvfHnswSq, IvfPq

        pa = self.pa
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True)
        started = time.perf_counter()
        self.db = self.lancedb.connect(str(self.workdir))
        data = pa.table(
            {
                "id": pa.array(np.arange(len(vectors), dtype=np.int64)),
                "vector": pa.FixedSizeListArray.from_arrays(
                    pa.array(vectors.ravel()), vectors.shape[1]
                ),
            }
        )
        self.table = self.db.create_table("vectors", data=data, mode="overwrite")
        self.write_s = time.perf_counter() - started
        started = time.perf_counter()
        config: Any
        if self.index_type == "IVF_PQ":
            config = IvfPq(
                distance_type="dot",
                num_partitions=params["num_partitions"],
                num_sub_vectors=params["num_sub_vectors"],
            )
        else:
            config = IvfHnswSq(
                distance_type="dot",
                num_partitions=params["num_partitions"],
                m=params["m"],
                ef_construction=params["ef_construction"],
            )
        self.table.create_index("vector", config=config)
        self.index_s = time.perf_counter() - started

    def set_search(self, params: dict[str, Any]) -> None:
        self.params = params

    def _query(self, q: np.ndarray) -> Any:
        builder = self.table.search(q).distance_type("dot").nprobes(self.params["nprobes"])
        if self.params.get("refine_factor"):
            builder = builder.refine_factor(self.params["refine_factor"])
        if self.params.get("ef"):
            builder = builder.ef(self.params["ef"])
        return builder.limit(K).select(["id", "_distance"])

    def search_one(self, query: np.ndarray) -> np.ndarray:
        return self._query(query).to_arrow().column("id").to_numpy()

    def search_batch(self, queries: np.ndarray) -> np.ndarray:
        result = self._query(queries).to_arrow()
        out = np.full((len(queries), K), -1, dtype=np.int64)
        qi = result.column("query_index").to_numpy()
        ids = result.column("id").to_numpy()
        for i in range(len(queries)):
            row = ids[qi == i][:K]
            out[i, : len(row)] = row
        return out

    def save(self, directory: Path) -> Path:
        return self.workdir  # a Lance table is on disk already

    def load(self, path: Path) -> tuple[float, float | None, Callable[[np.ndarray], np.ndarray]]:
        params = dict(self.params)
        started = time.perf_counter()
        table = self.lancedb.connect(str(path)).open_table("vectors")
        load_s = time.perf_counter() - started

        def search(q: np.ndarray) -> np.ndarray:
            builder = table.search(q).distance_type("dot").nprobes(params["nprobes"])
            if params.get("refine_factor"):
                builder = builder.refine_factor(params["refine_factor"])
            if params.get("ef"):
                builder = builder.ef(params["ef"])
            return builder.limit(K).select(["id", "_distance"]).to_arrow().column("id").to_numpy()

        return load_s, None, search

    def probe_updates(self, vectors: np.ndarray) -> dict[str, Any]:
        self.table.delete("id = 0")
        gone = 0 not in set(self.search_one(vectors[0]).tolist())
        new_key = len(vectors) + 1
        self.table.add(
            self.pa.table(
                {
                    "id": self.pa.array([new_key], type=self.pa.int64()),
                    "vector": self.pa.FixedSizeListArray.from_arrays(
                        self.pa.array(vectors[0]), vectors.shape[1]
                    ),
                }
            )
        )
        found = new_key in set(self.search_one(vectors[0]).tolist())
        return {
            "delete_by_key": bool(gone),
            "add_by_key": bool(found),
            "how": "table.delete('id = k') / table.add(rows): new rows are brute-forced until "
            "optimize() folds them into the index; the table is the persistence (opened lazily)",
        }


# ----------------------------------------------------------------------------- driver


def single_query_latencies(
    search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
) -> tuple[list[float], np.ndarray]:
    for q in queries[:WARMUP_QUERIES]:
        search(q)
    seconds: list[float] = []
    found = np.full((len(queries), K), -1, dtype=np.int64)
    for i, q in enumerate(queries):
        started = time.perf_counter()
        keys = search(q)
        seconds.append(time.perf_counter() - started)
        keys = np.asarray(keys, dtype=np.int64)[:K]
        found[i, : len(keys)] = keys
    return seconds, found


def sweep(
    adapter: Adapter, queries: np.ndarray, truth: np.ndarray, sweep_n: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Walk the search grid; return every point measured and the cheapest reaching target."""
    points: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    sq, st = queries[:sweep_n], truth[:sweep_n]
    timing_q = queries[:50]
    for row in adapter.search_grid():
        for params in row:
            adapter.set_search(params)
            started = time.perf_counter()
            found = adapter.search_batch(sq)
            batch_s = time.perf_counter() - started
            recall = recall_at_k(found, st)
            seconds, _ = single_query_latencies(adapter.search_one, timing_q)
            point = {
                **params,
                "recall_at_10": round(recall, 4),
                "sample_p50_ms": round(percentile_ms(seconds, 50), 4),
                "batch_qps": round(len(sq) / batch_s, 1),
            }
            points.append(point)
            print(f"    sweep {params}: recall {recall:.4f}, p50 {point['sample_p50_ms']:.3f} ms")
            if recall >= TARGET_RECALL:
                if best is None or point["sample_p50_ms"] < best["sample_p50_ms"]:
                    best = point
                break
    return points, best


def run_adapter(
    adapter: Adapter,
    vectors: np.ndarray,
    queries: np.ndarray,
    truth: np.ndarray,
    scratch: Path,
    sweep_n: int,
) -> Result:
    result = Result(library=adapter.library, variant=adapter.variant)
    chosen: dict[str, Any] | None = None
    fallback: dict[str, Any] | None = None
    for build_params in adapter.build_ladder():
        gc.collect()
        print(f"  build {build_params} ...", flush=True)
        started = time.perf_counter()
        adapter.build(vectors, build_params)
        build_s = time.perf_counter() - started
        print(f"  built in {build_s:.1f} s", flush=True)
        points, best = sweep(adapter, queries, truth, sweep_n)
        result.builds_tried.append(
            {"params": build_params, "build_s": round(build_s, 2), "reached": best is not None}
        )
        result.sweep.extend({"build": build_params, **p} for p in points)
        result.build_params, result.build_s = build_params, build_s
        if isinstance(adapter, LanceAdapter):
            result.build_params = {
                **build_params,
                "table_write_s": round(adapter.write_s, 2),
                "index_s": round(adapter.index_s, 2),
            }
        if best is not None:
            chosen = best
            break
        fallback = max(points, key=lambda p: p["recall_at_10"])
        if len(points) >= 3 and points[-1]["recall_at_10"] - points[-3]["recall_at_10"] < 0.005:
            # Recall stopped rising with the search effort: the ceiling is the stored vectors
            # (quantization), not the graph, so a bigger build would not reach the target.
            result.notes.append(
                f"recall plateaued at {points[-1]['recall_at_10']} with build {build_params}; "
                "larger builds not tried (quantization-bound)"
            )
            break
    if chosen is None:
        assert fallback is not None
        chosen = fallback
        result.notes.append(
            f"recall@10 {TARGET_RECALL} not reached by any build/search setting tried; "
            f"reporting the highest-recall setting ({chosen['recall_at_10']})"
        )
    search_keys = [k for k in chosen if k not in ("recall_at_10", "sample_p50_ms", "batch_qps")]
    result.search_params = {k: chosen[k] for k in search_keys}
    adapter.set_search(result.search_params)

    seconds, found = single_query_latencies(adapter.search_one, queries)
    result.recall_at_10 = recall_at_k(found, truth)
    result.reached_target = result.recall_at_10 >= TARGET_RECALL
    result.p50_ms = percentile_ms(seconds, 50)
    result.p99_ms = percentile_ms(seconds, 99)
    if adapter.has_batch:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            adapter.search_batch(queries)
            runs.append(time.perf_counter() - started)
        result.batch_qps = len(queries) / statistics.median(runs)

    save_dir = scratch / f"{adapter.library}-{adapter.variant.replace(' ', '_')}"
    save_dir.mkdir(parents=True, exist_ok=True)
    saved = adapter.save(save_dir)
    result.size_mb = path_mb(saved)
    if isinstance(adapter, LanceAdapter):
        indices = saved / "vectors.lance" / "_indices"
        if indices.exists():
            result.notes.append(
                f"size is the whole table (raw vectors included); index alone "
                f"{path_mb(indices):.1f} MB"
            )
    load_s, mmap_s, loaded_search = adapter.load(saved)
    result.load_s, result.mmap_open_s = load_s, mmap_s
    check = queries[:100]
    same = [
        set(np.asarray(loaded_search(q)).tolist()) == set(found[i].tolist())
        for i, q in enumerate(check)
    ]
    result.loaded_results_identical = sum(same) / len(same)
    del loaded_search
    try:
        result.update_by_key = adapter.probe_updates(vectors)
    except Exception as exc:  # a probe failing is a finding, not a crash
        result.update_by_key = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    adapter.close()
    shutil.rmtree(save_dir, ignore_errors=True)
    return result


def numpy_baseline(
    vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray, scratch: Path
) -> Result:
    result = Result(library="numpy", variant="exact brute force (matvec + argpartition)")

    def search(q: np.ndarray) -> np.ndarray:
        sims = vectors @ q
        top = np.argpartition(-sims, K)[:K]
        return top[np.argsort(-sims[top])]

    seconds, found = single_query_latencies(search, queries)
    result.recall_at_10 = recall_at_k(found, truth)
    result.reached_target = True
    result.p50_ms = percentile_ms(seconds, 50)
    result.p99_ms = percentile_ms(seconds, 99)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        exact_top_k(vectors, queries, K)
        runs.append(time.perf_counter() - started)
    result.batch_qps = len(queries) / statistics.median(runs)
    path = scratch / "vectors.npy"
    np.save(path, vectors)
    result.build_s = 0.0
    result.size_mb = path_mb(path)
    started = time.perf_counter()
    np.load(path)
    result.load_s = time.perf_counter() - started
    started = time.perf_counter()
    np.load(path, mmap_mode="r")
    result.mmap_open_s = time.perf_counter() - started
    result.update_by_key = {"how": "a matrix: rows are keys; delete/add is array surgery"}
    result.notes.append(f"BLAS threads not limited (numpy {np.__version__})")
    path.unlink()
    return result


def adapters_for(names: list[str], scratch: Path, rows: int, dim: int) -> Iterator[Adapter]:
    factories: dict[str, list[Callable[[], Adapter]]] = {
        "usearch": [
            lambda: UsearchAdapter("f32"),
            lambda: UsearchAdapter("f16"),
            lambda: UsearchAdapter("i8"),
        ],
        "hnswlib": [HnswlibAdapter],
        "faiss": [FaissAdapter],
        "lancedb": [
            lambda: LanceAdapter("IVF_PQ", scratch / "lance_ivf_pq", rows, dim),
            lambda: LanceAdapter("IVF_HNSW_SQ", scratch / "lance_ivf_hnsw_sq", rows, dim),
        ],
    }
    for name in names:
        for make in factories[name]:
            try:
                yield make()
            except ImportError as exc:
                print(f"\n[skip] {name}: import failed ({exc})")
                break


# ----------------------------------------------------------------------------- report


def machine_info() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in ("numpy", "usearch", "hnswlib", "faiss-cpu", "lancedb", "pyarrow", "pandas"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    model = None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": CPUS,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(results: list[Result]) -> None:
    header = (
        f"{'library':<9} {'variant':<26} {'build s':>8} {'size MB':>8} {'recall@10':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'batch q/s':>9} {'load s':>7} {'mmap s':>7}  params"
    )
    print("\n" + header)
    print("-" * len(header))
    for r in results:
        params = {**r.build_params, **r.search_params}
        params_text = ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)
        flag = "" if r.reached_target else " (below target)"
        print(
            f"{r.library:<9} {r.variant[:26]:<26} {fmt(r.build_s, 1):>8} {fmt(r.size_mb, 1):>8} "
            f"{fmt(r.recall_at_10, 4):>9} {fmt(r.p50_ms, 3):>7} {fmt(r.p99_ms, 3):>7} "
            f"{fmt(r.batch_qps, 0):>9} {fmt(r.load_s, 3):>7} {fmt(r.mmap_open_s, 4):>7}  "
            f"{params_text}{flag}"
        )
    print()
    for r in results:
        upd = r.update_by_key
        if "delete_by_key" in upd or "error" in upd:
            print(
                f"{r.library} {r.variant}: delete by key {upd.get('delete_by_key')}, "
                f"add by key {upd.get('add_by_key')}; loaded index gives identical results for "
                f"{fmt((r.loaded_results_identical or 0) * 100, 0)} % of 100 queries"
            )
        for note in r.notes:
            print(f"  note ({r.library} {r.variant}): {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument(
        "--data",
        choices=("embedding-like", "isotropic"),
        default="embedding-like",
        help="vector distribution (see VectorSource); isotropic is the pessimistic worst case",
    )
    parser.add_argument(
        "--spectrum-decay",
        type=float,
        default=1.0,
        help="embedding-like only: variance of principal direction i ~ i**-decay",
    )
    parser.add_argument(
        "--libraries",
        default=",".join(ALL_LIBRARIES),
        help=f"comma-separated subset of {', '.join(ALL_LIBRARIES)}",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.libraries.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ALL_LIBRARIES))
    if unknown:
        parser.error(f"unknown libraries: {unknown}")

    total_started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    source = VectorSource(rng, args.dim, args.data, args.spectrum_decay)
    vectors = source.sample(args.vectors)
    queries = source.sample(args.queries)
    started = time.perf_counter()
    truth = exact_top_k(vectors, queries, K)
    truth_s = time.perf_counter() - started
    top1_cos = float(np.mean(np.sum(vectors[truth[:, 0]] * queries, axis=1)))
    top10_cos = float(np.mean(np.sum(vectors[truth[:, -1]] * queries, axis=1)))
    print(
        f"{args.vectors} x {args.dim} {args.data} vectors, {args.queries} queries, "
        f"seed {args.seed}; ground truth in {truth_s:.2f} s; {CPUS} CPUs; mean cosine of "
        f"exact 1st / 10th neighbour {top1_cos:.3f} / {top10_cos:.3f}"
    )
    sweep_n = min(args.queries, 300) if "lancedb" in names else args.queries

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ann_bench_") as tmp:
        scratch = Path(tmp)
        print("\nnumpy exact baseline ...", flush=True)
        results.append(numpy_baseline(vectors, queries, truth, scratch))
        for adapter in adapters_for(names, scratch, args.vectors, args.dim):
            print(f"\n{adapter.library} {adapter.variant}", flush=True)
            lib_started = time.perf_counter()
            n = sweep_n if isinstance(adapter, LanceAdapter) else args.queries
            results.append(run_adapter(adapter, vectors, queries, truth, scratch, n))
            print(f"  done in {time.perf_counter() - lib_started:.1f} s", flush=True)
            del adapter
            gc.collect()

    print_table(results)
    total_s = time.perf_counter() - total_started
    print(f"total {total_s:.0f} s")
    if args.json_out:
        payload = {
            "config": {
                "vectors": args.vectors,
                "dim": args.dim,
                "queries": args.queries,
                "seed": args.seed,
                "k": K,
                "target_recall": TARGET_RECALL,
                "data": args.data,
                "spectrum_decay": args.spectrum_decay if args.data == "embedding-like" else None,
                "metric": "inner product on unit vectors (== cosine)",
                "mean_cosine_exact_1st_10th": [round(top1_cos, 4), round(top10_cos, 4)],
                "single_query": "one query per call, one search thread, perf_counter",
                "batch": "all queries in one call, all cores; median of 3",
            },
            "machine": machine_info(),
            "total_s": round(total_s, 1),
            "results": [asdict(r) for r in results],
        }
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(payload, indent=2, default=str))
        print(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
