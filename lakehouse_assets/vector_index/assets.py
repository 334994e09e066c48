"""Knowledge-base assets: documents -> document_embeddings -> document_index.

They are unpartitioned (a knowledge base is current state, not a history by date): the daily
job, landing runs and backfills build each once per run, and each run brings the knowledge base
up to date with the docs and the product dimension as they are. Re-running with nothing
changed commits nothing and re-embeds nothing.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset_check,
)
from pydantic import Field

from lakehouse_assets.asset_factory import python_asset
from lakehouse_assets.rejection import REJECTED_ROWS_KEY
from lakehouse_assets.vector_index.audit import (
    EMBEDDINGS_CHECK,
    EMBEDDINGS_CHECK_DESCRIPTION,
    audit_embeddings,
    publish_embeddings,
    rejected_embeddings_uri,
)
from lakehouse_assets.vector_index.chunking import chunk_document
from lakehouse_assets.vector_index.embeddings import embed_documents
from lakehouse_assets.vector_index.encoder import DIMENSIONS, MODEL_NAME
from lakehouse_assets.vector_index.knowledge_base import IndexStatus
from lakehouse_assets.vector_index.sources import catalogue_documents, docs_documents
from lakehouse_assets.vector_index.tables import (
    DOCUMENT_EMBEDDINGS,
    DOCUMENTS,
    MergeOutcome,
    document_rows,
    last_commit_time,
    open_table,
    read_frame,
    sync_table,
)
from lakehouse_assets.windowed import naming_rejected

KNOWLEDGE_BASE = {"knowledge_base"}


class ChunkingConfig(Config):
    """How documents are cut into chunks (characters)."""

    chunk_size: int = Field(default=1000, description="Target characters per chunk.")
    chunk_overlap: int = Field(default=150, description="Characters repeated from the last chunk.")


def _table_metadata(uri: str, outcome: MergeOutcome) -> dict:
    table = open_table(uri)
    assert table is not None
    schema = pa.schema(table.schema().to_arrow())
    return {
        "table_location": uri,
        "delta_version": table.version(),
        "dagster/row_count": table.count(),
        "rows_inserted": outcome.inserted,
        "rows_updated": outcome.updated,
        "rows_deleted": outcome.deleted,
        "committed": outcome.changed,
        "table_schema": MetadataValue.md("\n".join(f"- `{f.name}`: {f.type}" for f in schema)),
    }


@python_asset(
    name="documents",
    writes=(DOCUMENTS,),
    layer="vector_index",
    description=(
        "Knowledge-base chunks: the project's docs/ (runbooks, data dictionary, architecture) "
        "and a per-brand product catalogue from gold.dim_product."
    ),
    deps=["dim_product"],
    partitioned=False,
    required_resource_keys=KNOWLEDGE_BASE,
)
def documents(context: AssetExecutionContext, config: ChunkingConfig) -> MaterializeResult:
    kb = context.resources.knowledge_base
    products = read_frame(kb.dim_product_uri)
    if products is None:
        raise FileNotFoundError(f"gold.dim_product not found at {kb.dim_product_uri}")
    sources = [*docs_documents(Path(kb.docs_dir)), *catalogue_documents(products)]
    chunks = [
        c for d in sources for c in chunk_document(d, config.chunk_size, config.chunk_overlap)
    ]
    outcome = sync_table(kb.uri(DOCUMENTS), DOCUMENTS, document_rows(chunks))
    by_category = pd.Series([d.category for d in sources]).value_counts().sort_index()
    return MaterializeResult(
        metadata={
            **_table_metadata(kb.uri(DOCUMENTS), outcome),
            "source_documents": len(sources),
            "documents_by_category": MetadataValue.json(by_category.to_dict()),
            "chunks": len(chunks),
            "empty_documents": len(sources) - len({c.document_id for c in chunks}),
            "chunk_size": config.chunk_size,
            "chunk_overlap": config.chunk_overlap,
        }
    )


@python_asset(
    name="document_embeddings",
    writes=(DOCUMENT_EMBEDDINGS,),
    layer="vector_index",
    description=(
        "all-MiniLM-L6-v2 embeddings (384-d) of every document chunk; only new or changed "
        "chunks (by content hash) are embedded on a run."
    ),
    deps=["documents"],
    partitioned=False,
    required_resource_keys=KNOWLEDGE_BASE,
    check_specs=[
        AssetCheckSpec(
            EMBEDDINGS_CHECK,
            asset="document_embeddings",
            blocking=True,
            description=EMBEDDINGS_CHECK_DESCRIPTION,
        )
    ],
)
def document_embeddings(context: AssetExecutionContext) -> MaterializeResult:
    from lakehouse_assets.vector_index.encoder import shared_encoder

    kb = context.resources.knowledge_base
    docs = read_frame(kb.uri(DOCUMENTS))
    if docs is None:
        raise FileNotFoundError(f"no documents table at {kb.uri(DOCUMENTS)}")
    existing = read_frame(kb.uri(DOCUMENT_EMBEDDINGS))
    run = embed_documents(
        docs,
        existing,
        lambda texts: shared_encoder().encode(texts),
        MODEL_NAME,
        now=dt.datetime.now(dt.UTC),
    )
    audit = audit_embeddings(docs, run.rows, DIMENSIONS)
    outcome = publish_embeddings(kb.root, kb.uri(DOCUMENT_EMBEDDINGS), run.rows, audit)
    check = AssetCheckResult(
        check_name=EMBEDDINGS_CHECK,
        passed=audit.passed,
        metadata={"chunks": audit.chunks, "embeddings": audit.embeddings, **audit.problems},
    )
    run_metadata = {
        "model": MODEL_NAME,
        "chunks_embedded": run.embedded,
        "chunks_reused": run.reused,
        "embedding_seconds": round(run.seconds, 3),
        "chunks_per_second": round(run.chunks_per_second, 1),
    }
    if outcome is None:
        location = rejected_embeddings_uri(kb.root)
        return MaterializeResult(
            metadata={**run_metadata, "published": False, REJECTED_ROWS_KEY: location},
            check_results=[naming_rejected(check, location)],
        )
    return MaterializeResult(
        metadata={
            **_table_metadata(kb.uri(DOCUMENT_EMBEDDINGS), outcome),
            **run_metadata,
            "published": True,
        },
        check_results=[check],
    )


@python_asset(
    name="document_index",
    layer="vector_index",
    description=(
        "Approximate nearest neighbour index of the embeddings: usearch HNSW under "
        "LAKEHOUSE_ROOT locally, a Databricks Vector Search Delta Sync index in databricks mode."
    ),
    deps=["document_embeddings"],
    partitioned=False,
    required_resource_keys=KNOWLEDGE_BASE | {"vector_search"},
    kinds={"python", "usearch"},
)
def document_index(context: AssetExecutionContext) -> MaterializeResult:
    kb = context.resources.knowledge_base
    published = context.resources.vector_search.publish(kb.uri(DOCUMENT_EMBEDDINGS), MODEL_NAME)
    table = open_table(kb.uri(DOCUMENT_EMBEDDINGS))
    return MaterializeResult(
        metadata={
            **published,
            "embeddings_version": table.version() if table else None,
        }
    )


def document_index_check(name: str, description: str):
    """A blocking check of the published index against the embeddings table as it is now.

    Stand-alone (not emitted by the asset), so it can run between builds and catch an index
    that fell behind its table.
    """
    return asset_check(
        asset="document_index",
        name=name,
        blocking=True,
        required_resource_keys=KNOWLEDGE_BASE | {"vector_search"},
        description=description,
    )


def index_and_table(context: AssetCheckExecutionContext) -> tuple[IndexStatus | None, Any]:
    """The published index's status and the embeddings table (None while missing)."""
    embeddings = context.resources.knowledge_base.uri(DOCUMENT_EMBEDDINGS)
    return context.resources.vector_search.status(), open_table(embeddings)


@document_index_check(
    "document_index_row_count",
    "The index holds exactly as many vectors as the embeddings table has rows.",
)
def index_row_count(context: AssetCheckExecutionContext) -> AssetCheckResult:
    status, table = index_and_table(context)
    rows = table.count() if table else 0
    indexed = status.rows if status else 0
    return AssetCheckResult(
        passed=status is not None and indexed == rows,
        metadata={"index_rows": indexed, "embeddings_rows": rows},
    )


@document_index_check(
    "document_index_not_stale",
    "The index was built from the embeddings table's latest version, after it.",
)
def index_not_stale(context: AssetCheckExecutionContext) -> AssetCheckResult:
    status, table = index_and_table(context)
    if status is None or table is None:
        return AssetCheckResult(passed=False, metadata={"reason": "index or table missing"})
    committed = last_commit_time(table)
    metadata = {
        "table_version": table.version(),
        "table_committed_at": committed.isoformat(),
        "index_table_version": status.table_version,
        "index_built_at": status.built_at.isoformat() if status.built_at else None,
    }
    if status.table_version is None:  # Delta Sync: the service tracks versions itself
        return AssetCheckResult(passed=True, metadata=metadata)
    fresh = status.table_version == table.version() and (
        status.built_at is None or status.built_at >= committed
    )
    return AssetCheckResult(passed=fresh, metadata=metadata)


vector_index_assets = [documents, document_embeddings, document_index]
vector_index_checks = [index_row_count, index_not_stale]
