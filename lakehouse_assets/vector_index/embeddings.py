"""Which chunks need embedding, and the embeddings table rows. Pure except for the encoder.

A chunk is embedded when it is new, its content hash changed (its text or titles did), or it
was embedded by another model. Everything else keeps its stored vector and its original
``embedded_at``, so re-running a partition with unchanged docs rewrites nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from lakehouse_assets.vector_index.chunking import embedding_text
from lakehouse_assets.vector_index.tables import EMBEDDINGS_SCHEMA

Encode = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class EmbeddingPlan:
    """Documents to embed now, and stored embeddings to keep as they are."""

    to_embed: pd.DataFrame
    kept: pd.DataFrame

    @property
    def reused(self) -> int:
        return len(self.kept)


def plan_embeddings(
    documents: pd.DataFrame, existing: pd.DataFrame | None, model: str
) -> EmbeddingPlan:
    """Split ``documents`` into chunks to embed and stored embeddings still valid for them."""
    if existing is None or existing.empty:
        return EmbeddingPlan(documents, pd.DataFrame(columns=list(EMBEDDINGS_SCHEMA.names)))
    valid = existing[existing["model"] == model]
    current = documents.merge(
        valid[["chunk_id", "content_hash"]],
        on=["chunk_id", "content_hash"],
        how="left",
        indicator=True,
    )
    stale = current["_merge"] == "left_only"
    kept_ids = set(current.loc[~stale, "chunk_id"])
    return EmbeddingPlan(
        to_embed=documents[documents["chunk_id"].isin(set(current.loc[stale, "chunk_id"]))],
        kept=valid[valid["chunk_id"].isin(kept_ids)],
    )


@dataclass(frozen=True)
class EmbeddingRun:
    """The full embeddings table after a run, and what the run computed."""

    rows: pa.Table
    embedded: int
    reused: int
    seconds: float

    @property
    def chunks_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def embed_documents(
    documents: pd.DataFrame,
    existing: pd.DataFrame | None,
    encode: Encode,
    model: str,
    now: dt.datetime,
) -> EmbeddingRun:
    """Embed what changed; return every document's embedding row (new and kept)."""
    plan = plan_embeddings(documents, existing, model)
    texts = [
        embedding_text(r.title, r.section, r.text) for r in plan.to_embed.itertuples(index=False)
    ]
    started = time.perf_counter()
    vectors = encode(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    seconds = time.perf_counter() - started
    new = pd.DataFrame(
        {
            "chunk_id": plan.to_embed["chunk_id"].to_numpy(),
            "document_id": plan.to_embed["document_id"].to_numpy(),
            "content_hash": plan.to_embed["content_hash"].to_numpy(),
            "model": model,
            "embedding": list(vectors),
            "embedded_at": pd.Timestamp(now),
        }
    )
    frames = [f for f in (plan.kept, new) if not f.empty]
    combined = pd.concat(frames, ignore_index=True) if frames else new
    combined = combined.sort_values("chunk_id", ignore_index=True)
    rows = pa.Table.from_pandas(
        combined[EMBEDDINGS_SCHEMA.names], schema=EMBEDDINGS_SCHEMA, preserve_index=False
    )
    return EmbeddingRun(rows, embedded=len(texts), reused=plan.reused, seconds=seconds)
