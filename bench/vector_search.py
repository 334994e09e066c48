"""Vector search benchmark: ANN vs exact search at 100k vectors, and embedding throughput.

Measures, in one run, on this machine:

* the project's ANN index (``lakehouse_assets.vector_index.ann``, usearch HNSW) on N seeded
  random 384-d unit vectors shaped like embeddings (``vector_index/synthetic.py``), and the
  isotropic worst case: build time, recall@10 against exact search, and single-query latency
  p50 / p99 (target: p50 under 5 ms at 100k);
* the baseline: exact search (one numpy matrix-vector product + argpartition) on the same
  vectors and queries;
* embedding throughput of the numpy all-MiniLM-L6-v2 encoder on the project's own docs,
  chunked as the ``documents`` asset chunks them (chunks/s and tokens/s);
* end-to-end knowledge-base search (query embedding + ANN + BM25 + fusion) over those chunks,
  per mode, p50 / p99.

    python bench/vector_search.py                    # 100k vectors
    python bench/vector_search.py --vectors 20000 --json-out /tmp/vector_search.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lakehouse_assets.vector_index.ann import IndexManifest, build_index, library_version
from lakehouse_assets.vector_index.chunking import chunk_document
from lakehouse_assets.vector_index.encoder import MODEL_NAME, shared_encoder
from lakehouse_assets.vector_index.search import KnowledgeBaseSearch
from lakehouse_assets.vector_index.sources import default_docs_dir, docs_documents
from lakehouse_assets.vector_index.synthetic import EmbeddingLikeVectors
from lakehouse_assets.vector_index.tables import document_rows

DIMENSIONS, K = 384, 10
QUESTIONS = [
    "how do I replay dead letters?",
    "restore a gold table after a bad deployment",
    "what does the freshness SLA for gold mean?",
    "which variables configure Databricks authentication?",
    "how are late arriving orders handled?",
    "what is the grain of fact_sales?",
    "why is the customer dimension SCD type 2?",
    "how do I run the tests?",
]


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.array(samples_ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 3),
        "p99_ms": round(float(np.percentile(values, 99)), 3),
        "mean_ms": round(float(values.mean()), 3),
    }


def timed_each(fn, items) -> tuple[list, list[float]]:
    results, times = [], []
    for item in items:
        started = time.perf_counter()
        results.append(fn(item))
        times.append((time.perf_counter() - started) * 1000)
    return results, times


def ann_vs_exact(n: int, queries: int, seed: int, decay: float = 1.0) -> dict:
    source = EmbeddingLikeVectors(seed, DIMENSIONS, decay)
    vectors, probes = source.sample(n), source.sample(queries)
    started = time.perf_counter()
    index = build_index(vectors)
    build_seconds = time.perf_counter() - started

    def exact(query: np.ndarray) -> np.ndarray:
        similarities = vectors @ query
        top = np.argpartition(-similarities, K)[:K]
        return top[np.argsort(-similarities[top])]

    truth, exact_ms = timed_each(exact, probes)
    found, ann_ms = timed_each(lambda q: index.search(q, K).keys, probes)
    recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))
    return {
        "vectors": n,
        "spectrum_decay": decay,
        "dimensions": DIMENSIONS,
        "queries": queries,
        "library": library_version(),
        "build_seconds": round(build_seconds, 2),
        "recall_at_10": round(recall, 4),
        "ann": percentiles(ann_ms),
        "exact_numpy": percentiles(exact_ms),
    }


def embedding_throughput() -> tuple[dict, pd.DataFrame, np.ndarray]:
    encoder = shared_encoder()
    chunks = [c for d in docs_documents(default_docs_dir()) for c in chunk_document(d, 1000, 150)]
    texts = [c.embedding_text for c in chunks]
    tokens = sum(len(e.ids) for e in encoder.tokenizer.encode_batch(texts))
    started = time.perf_counter()
    vectors = encoder.encode(texts)
    seconds = time.perf_counter() - started
    frame = document_rows(chunks).to_pandas()
    figures = {
        "model": MODEL_NAME,
        "chunks": len(texts),
        "tokens": tokens,
        "seconds": round(seconds, 2),
        "chunks_per_second": round(len(texts) / seconds, 1),
        "tokens_per_second": round(tokens / seconds),
    }
    return figures, frame, vectors


def knowledge_base_search(frame: pd.DataFrame, vectors: np.ndarray, repeats: int) -> dict:
    manifest = IndexManifest(
        table_uri="bench",
        table_version=0,
        table_committed_at="",
        rows=len(frame),
        dimensions=DIMENSIONS,
        built_at="",
        model=MODEL_NAME,
        library=library_version(),
        chunk_ids=frame["chunk_id"].tolist(),
    )
    search = KnowledgeBaseSearch(build_index(vectors), manifest, frame, shared_encoder().encode)
    figures = {}
    for mode in ("hybrid", "vector", "keyword"):
        _, times = timed_each(lambda q, m=mode: search.search(q, k=5, mode=m), QUESTIONS * repeats)
        figures[mode] = percentiles(times)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()

    ann = ann_vs_exact(args.vectors, args.queries, args.seed)
    print(
        f"ANN ({ann['library']}) on {ann['vectors']:,} x {DIMENSIONS}: build "
        f"{ann['build_seconds']} s, recall@10 {ann['recall_at_10']}, "
        f"p50 {ann['ann']['p50_ms']} ms, p99 {ann['ann']['p99_ms']} ms"
    )
    exact = ann["exact_numpy"]
    print(f"exact numpy baseline: p50 {exact['p50_ms']} ms, p99 {exact['p99_ms']} ms")
    print(f"ANN speed-up at p50: {exact['p50_ms'] / ann['ann']['p50_ms']:.1f}x")
    worst = ann_vs_exact(args.vectors, args.queries // 5, args.seed, decay=0.0)
    print(
        f"worst case, isotropic vectors (same parameters): recall@10 {worst['recall_at_10']}, "
        f"p50 {worst['ann']['p50_ms']} ms"
    )

    embedding, frame, vectors = embedding_throughput()
    print(
        f"embedding ({embedding['model']}, numpy): {embedding['chunks']} chunks, "
        f"{embedding['tokens']} tokens in {embedding['seconds']} s = "
        f"{embedding['chunks_per_second']} chunks/s, {embedding['tokens_per_second']} tokens/s"
    )
    search = knowledge_base_search(frame, vectors, repeats=5)
    for mode, figures in search.items():
        print(
            f"knowledge-base search ({mode}; vector modes include embedding the query): "
            f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
        )
    if args.json_out:
        results = {
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "ann_vs_exact": ann,
            "ann_isotropic_worst_case": worst,
            "embedding": embedding,
            "knowledge_base_search": search,
        }
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
