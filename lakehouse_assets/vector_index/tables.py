"""The knowledge-base tables and their Delta reads and writes, without a JVM (delta-rs).

Embedding is CPU work on a few thousand rows; starting Spark for it would cost more than the
work. ``deltalake`` (delta-rs) reads and writes the same Delta tables Spark does, so Spark,
DuckDB or Databricks can read them like every other table.

Both tables are kept in step with their source by one MERGE per run (insert new chunks,
update changed ones, delete the ones that are gone), so a run is one atomic commit and a run
that changes nothing commits nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from lakehouse_assets.storage import TableSpec
from lakehouse_assets.vector_index.chunking import Chunk

DOCUMENTS = TableSpec(
    layer="vector_index",
    name="documents",
    comment=(
        "Knowledge-base chunks: the project's docs and a per-brand product catalogue from "
        "gold.dim_product, one row per chunk with its document, titles, text and content hash."
    ),
)

DOCUMENT_EMBEDDINGS = TableSpec(
    layer="vector_index",
    name="document_embeddings",
    comment=(
        "One 384-dimensional all-MiniLM-L6-v2 embedding per document chunk, with the content "
        "hash it was computed from (a chunk is re-embedded only when its hash changes)."
    ),
    # Databricks Vector Search Delta Sync indexes read the change data feed.
    properties=(("delta.enableChangeDataFeed", "true"),),
)

DOCUMENTS_SCHEMA = pa.schema(
    [
        pa.field("chunk_id", pa.string(), nullable=False),
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("chunk_index", pa.int32(), nullable=False),
        pa.field("title", pa.string()),
        pa.field("section", pa.string()),
        pa.field("category", pa.string()),
        pa.field("source", pa.string()),
        pa.field("text", pa.string()),
        pa.field("content_hash", pa.string(), nullable=False),
    ]
)

EMBEDDINGS_SCHEMA = pa.schema(
    [
        pa.field("chunk_id", pa.string(), nullable=False),
        pa.field("document_id", pa.string(), nullable=False),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("embedding", pa.list_(pa.float32()), nullable=False),
        pa.field("embedded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

SCHEMAS = {DOCUMENTS.name: DOCUMENTS_SCHEMA, DOCUMENT_EMBEDDINGS.name: EMBEDDINGS_SCHEMA}


def document_rows(chunks: Sequence[Chunk]) -> pa.Table:
    """The documents table rows of ``chunks``, ordered by chunk id."""
    frame = pd.DataFrame(
        {
            "chunk_id": [c.chunk_id for c in chunks],
            "document_id": [c.document_id for c in chunks],
            "chunk_index": [c.chunk_index for c in chunks],
            "title": [c.title for c in chunks],
            "section": [c.section for c in chunks],
            "category": [c.category for c in chunks],
            "source": [c.source for c in chunks],
            "text": [c.text for c in chunks],
            "content_hash": [c.content_hash for c in chunks],
        }
    ).sort_values("chunk_id", ignore_index=True)
    return pa.Table.from_pandas(frame, schema=DOCUMENTS_SCHEMA, preserve_index=False)


def table_uri(root: str, spec: TableSpec) -> str:
    """Where ``spec`` lives under ``root`` (the same place the Spark path locator uses)."""
    return f"{root.rstrip('/')}/{spec.layer}/{spec.name}"


def open_table(uri: str, storage_options: dict[str, str] | None = None) -> DeltaTable | None:
    """The Delta table at ``uri``, or None before its first write."""
    try:
        return DeltaTable(uri, storage_options=storage_options)
    except TableNotFoundError:
        return None


def read_frame(
    uri: str, columns: Sequence[str] | None = None, storage_options: dict[str, str] | None = None
) -> pd.DataFrame | None:
    """The table as pandas (None before its first write)."""
    table = open_table(uri, storage_options)
    if table is None:
        return None
    return table.to_pyarrow_table(columns=list(columns) if columns else None).to_pandas()


@dataclass(frozen=True)
class MergeOutcome:
    """What a sync wrote: Delta version (None if nothing changed) and row counts."""

    version: int | None
    inserted: int
    updated: int
    deleted: int

    @property
    def changed(self) -> bool:
        return self.version is not None


def sync_table(
    uri: str,
    spec: TableSpec,
    rows: pa.Table,
    *,
    key: str = "chunk_id",
    change_columns: Sequence[str] = ("content_hash",),
    storage_options: dict[str, str] | None = None,
) -> MergeOutcome:
    """Make the table hold exactly ``rows``: one MERGE on ``key``.

    A row is updated only when one of ``change_columns`` differs, so unchanged rows are not
    rewritten; with nothing to insert, update or delete, nothing is committed.
    """
    table = open_table(uri, storage_options)
    if table is None:
        write_deltalake(
            uri,
            rows,
            mode="error",
            description=spec.comment,
            configuration=dict(spec.properties) or None,
            storage_options=storage_options,
        )
        return MergeOutcome(0, rows.num_rows, 0, 0)
    columns = [key, *change_columns]
    existing = table.to_pyarrow_table(columns=columns).to_pandas().set_index(key)
    incoming = rows.select(columns).to_pandas().set_index(key)
    common = existing.index.intersection(incoming.index)
    inserted = len(incoming.index.difference(existing.index))
    deleted = len(existing.index.difference(incoming.index))
    updated = int(
        (existing.loc[common, list(change_columns)] != incoming.loc[common, list(change_columns)])
        .any(axis=1)
        .sum()
    )
    if not (inserted or deleted or updated):
        return MergeOutcome(None, 0, 0, 0)
    changed = " OR ".join(f"t.{c} != s.{c}" for c in change_columns)
    table.merge(
        rows, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t"
    ).when_matched_update_all(
        predicate=changed
    ).when_not_matched_insert_all().when_not_matched_by_source_delete().execute()
    return MergeOutcome(table.version(), inserted, updated, deleted)


def last_commit_time(table: DeltaTable) -> dt.datetime:
    """When the table's latest version was committed (UTC)."""
    latest = table.history(1)[0]
    return dt.datetime.fromtimestamp(latest["timestamp"] / 1000, tz=dt.UTC)
