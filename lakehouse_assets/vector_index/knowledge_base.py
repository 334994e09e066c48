"""The knowledge base's resources: where its tables and docs are, and the vector index.

``KnowledgeBase`` locates the pure-Python tables (delta-rs) and the docs folder.
``vector_search`` publishes the embeddings table as a searchable index:

* locally (``LocalVectorIndex``): a usearch HNSW index written under ``LAKEHOUSE_ROOT``;
* on Databricks (``DatabricksVectorSearch``): a Vector Search *Delta Sync* index on the
  embeddings table (self-managed 384-d vectors, triggered sync), created on first publish
  and synced on every later one.

Both report the same status (rows indexed, table version indexed) for the index checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from lakehouse_assets.vector_index.tables import DOCUMENT_EMBEDDINGS, table_uri


class KnowledgeBase(ConfigurableResource):
    """Locations of the knowledge base (documents, embeddings, docs folder)."""

    root: str = Field(description="Root of the knowledge-base Delta tables (<root>/<layer>/<t>).")
    docs_dir: str = Field(description="The project's docs/ folder (the documents' source).")
    dim_product_uri: str = Field(description="Delta location of gold.dim_product (the catalogue).")

    def uri(self, spec) -> str:
        return table_uri(self.root, spec)


@dataclass(frozen=True)
class IndexStatus:
    """What the published index holds."""

    rows: int
    table_version: int | None
    built_at: dt.datetime | None
    location: str


class LocalVectorIndex(ConfigurableResource):
    """A usearch HNSW index on local disk (or any mounted path) under the lakehouse root."""

    index_root: str = Field(description="Folder of the published index builds.")

    def publish(self, embeddings_uri: str, model: str) -> dict[str, Any]:
        """Build the index from the embeddings table's latest version, unless already built."""
        from lakehouse_assets.vector_index.publish import publish_local_index

        return publish_local_index(Path(self.index_root), embeddings_uri, model)

    def status(self) -> IndexStatus | None:
        from lakehouse_assets.vector_index.ann import read_manifest

        manifest = read_manifest(Path(self.index_root))
        if manifest is None:
            return None
        return IndexStatus(
            rows=manifest.rows,
            table_version=manifest.table_version,
            built_at=dt.datetime.fromisoformat(manifest.built_at),
            location=self.index_root,
        )


class DatabricksVectorSearch(ConfigurableResource):
    """A Databricks Vector Search Delta Sync index over ``<catalog>.vector_index.*``."""

    endpoint_name: str = Field(description="Vector Search endpoint (created by the platform).")
    catalog: str = Field(description="Unity Catalog catalog of the embeddings table.")

    @property
    def source_table(self) -> str:
        return f"{self.catalog}.{DOCUMENT_EMBEDDINGS.layer}.{DOCUMENT_EMBEDDINGS.name}"

    @property
    def index_name(self) -> str:
        return f"{self.source_table}_index"

    def index_request(self) -> dict[str, Any]:
        """The ``create_index`` request: self-managed vectors, synced on demand."""
        from lakehouse_assets.vector_index.encoder import DIMENSIONS

        return {
            "name": self.index_name,
            "endpoint_name": self.endpoint_name,
            "primary_key": "chunk_id",
            "index_type": "DELTA_SYNC",
            "delta_sync_index_spec": {
                "source_table": self.source_table,
                "pipeline_type": "TRIGGERED",
                "embedding_vector_columns": [
                    {"name": "embedding", "embedding_dimension": DIMENSIONS}
                ],
                "columns_to_sync": ["chunk_id", "document_id", "content_hash"],
            },
        }

    def publish(self, embeddings_uri: str, model: str) -> dict[str, Any]:
        """Create the index on first use, otherwise trigger a sync of the new table version."""
        from databricks.sdk import WorkspaceClient
        from databricks.sdk.service.vectorsearch import (
            DeltaSyncVectorIndexSpecRequest,
            VectorIndexType,
        )

        client = WorkspaceClient()
        existing = {i.name for i in client.vector_search_indexes.list_indexes(self.endpoint_name)}
        if self.index_name in existing:
            client.vector_search_indexes.sync_index(self.index_name)
            action = "synced"
        else:
            request = self.index_request()
            client.vector_search_indexes.create_index(
                name=request["name"],
                endpoint_name=request["endpoint_name"],
                primary_key=request["primary_key"],
                index_type=VectorIndexType.DELTA_SYNC,
                delta_sync_index_spec=DeltaSyncVectorIndexSpecRequest.from_dict(
                    request["delta_sync_index_spec"]
                ),
            )
            action = "created"
        return {"index": self.index_name, "index_action": action, "model": model}

    def status(self) -> IndexStatus | None:
        from databricks.sdk import WorkspaceClient

        index = WorkspaceClient().vector_search_indexes.get_index(self.index_name)
        rows = index.status.indexed_row_count if index.status else None
        # Delta Sync reports rows, not the source version; the sync itself tracks versions.
        return IndexStatus(rows or 0, None, None, self.index_name)
