"""Build and publish the local ANN index from the embeddings table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lakehouse_assets.vector_index.ann import (
    CONNECTIVITY,
    EXPANSION_ADD,
    EXPANSION_SEARCH,
    METRIC,
    STORAGE_DTYPE,
    IndexManifest,
    build_index,
    library_version,
    publish_index,
    read_manifest,
    utc_now,
    vectors_of,
    verify_build,
)
from lakehouse_assets.vector_index.tables import last_commit_time, open_table


def publish_local_index(index_root: Path, embeddings_uri: str, model: str) -> dict[str, Any]:
    """Index the embeddings table's latest version; a no-op if that version is indexed."""
    table = open_table(embeddings_uri)
    if table is None:
        raise FileNotFoundError(f"no embeddings table at {embeddings_uri}")
    version = table.version()
    published = read_manifest(index_root)
    if published is not None and published.table_version == version:
        return {"index_action": "unchanged", "index_rows": published.rows}
    rows = table.to_pyarrow_table(columns=["chunk_id", "embedding"])
    vectors = vectors_of(rows)
    started = time.perf_counter()
    index = build_index(vectors)
    seconds = time.perf_counter() - started
    recall = verify_build(index, vectors)  # raises before CURRENT moves
    manifest = IndexManifest(
        table_uri=embeddings_uri,
        table_version=version,
        table_committed_at=last_commit_time(table).isoformat(),
        rows=len(index),
        dimensions=int(vectors.shape[1]) if len(vectors) else 0,
        built_at=utc_now(),
        model=model,
        library=library_version(),
        params={
            "metric": METRIC,
            "dtype": STORAGE_DTYPE,
            "connectivity": CONNECTIVITY,
            "expansion_add": EXPANSION_ADD,
            "expansion_search": EXPANSION_SEARCH,
        },
        chunk_ids=rows.column("chunk_id").to_pylist(),
    )
    build = publish_index(index_root, index, manifest)
    return {
        "index_action": "built",
        "index_rows": manifest.rows,
        "index_build_seconds": round(seconds, 3),
        "index_self_recall": round(recall, 3),
        "index_location": str(build),
    }
