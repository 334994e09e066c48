"""Audit before publish for the knowledge base: embeddings checked before their MERGE.

The candidate embeddings table is an Arrow table in memory, computed once; what is checked is
exactly what ``sync_table`` then writes (an Arrow table cannot change in between), so the
checks run on it before any write, and no staging write is paid on a passing run. A rejected
candidate is written to the staging table (``vector_index_staging.document_embeddings``) for
on-call to inspect, and the published table stays at its version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from deltalake import write_deltalake

from lakehouse_assets.storage.staging import staging_table
from lakehouse_assets.vector_index.ann import vectors_of
from lakehouse_assets.vector_index.tables import (
    DOCUMENT_EMBEDDINGS,
    MergeOutcome,
    sync_table,
    table_uri,
)

EMBEDDINGS_CHECK = "document_embeddings_cover_documents"
EMBEDDINGS_CHECK_DESCRIPTION = (
    "Checked before the MERGE: every chunk has exactly one embedding of its current content "
    "and no more, each a finite, non-zero vector of the model's dimensions."
)


@dataclass(frozen=True)
class EmbeddingsAudit:
    """The candidate's problems (all zero when it may be published) and its size."""

    chunks: int
    embeddings: int
    problems: dict[str, int]

    @property
    def passed(self) -> bool:
        return not any(self.problems.values())


def audit_embeddings(
    documents: pd.DataFrame, candidate: pa.Table, dimensions: int
) -> EmbeddingsAudit:
    """Compare the candidate embeddings with the documents' chunks (pure)."""
    vectors = candidate.select(["chunk_id", "content_hash"]).to_pandas()
    joined = documents[["chunk_id", "content_hash"]].merge(
        vectors, on="chunk_id", how="outer", suffixes=("", "_embedded")
    )
    both = joined.dropna()
    problems = {
        "chunks_without_embedding": int(joined["content_hash_embedded"].isna().sum()),
        "embeddings_without_chunk": int(joined["content_hash"].isna().sum()),
        "embeddings_of_old_content": int(
            (both["content_hash"] != both["content_hash_embedded"]).sum()
        ),
        "duplicate_embeddings": int(vectors["chunk_id"].duplicated().sum()),
        **_vector_problems(candidate, dimensions),
    }
    return EmbeddingsAudit(len(documents), candidate.num_rows, problems)


def _vector_problems(candidate: pa.Table, dimensions: int) -> dict[str, int]:
    """Vectors a cosine index cannot rank: wrong length, NaN or infinite, or all zeros."""
    lengths = candidate.column("embedding").combine_chunks().value_lengths().to_numpy()
    wrong = int((lengths != dimensions).sum())
    if wrong or candidate.num_rows == 0:
        return {"vectors_of_wrong_dimensions": wrong, "vectors_not_finite_or_zero": 0}
    matrix = vectors_of(candidate)
    finite = np.isfinite(matrix).all(axis=1)
    nonzero = np.abs(np.nan_to_num(matrix)).sum(axis=1) > 0
    return {
        "vectors_of_wrong_dimensions": 0,
        "vectors_not_finite_or_zero": int((~(finite & nonzero)).sum()),
    }


def rejected_embeddings_uri(root: str) -> str:
    """Where a rejected candidate of the embeddings table is kept."""
    return table_uri(root, staging_table(DOCUMENT_EMBEDDINGS))


def publish_embeddings(
    root: str, uri: str, candidate: pa.Table, audit: EmbeddingsAudit
) -> MergeOutcome | None:
    """MERGE the candidate into the embeddings table if its audit passed (one commit); else
    keep it in the staging table and leave the table as it is (None)."""
    if not audit.passed:
        write_deltalake(
            rejected_embeddings_uri(root), candidate, mode="overwrite", schema_mode="overwrite"
        )
        return None
    return sync_table(uri, DOCUMENT_EMBEDDINGS, candidate, change_columns=("content_hash", "model"))
