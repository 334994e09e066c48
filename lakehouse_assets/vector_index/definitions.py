"""The vector index's definitions: the knowledge base's assets and checks, and the resources
that hold it (its Delta tables and, per environment, its vector index)."""

from __future__ import annotations

from typing import Any

from dagster import Definitions

from lakehouse_assets.gold.tables import DIM_PRODUCT
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.vector_index.assets import vector_index_assets, vector_index_checks
from lakehouse_assets.vector_index.knowledge_base import (
    DatabricksVectorSearch,
    KnowledgeBase,
    LocalVectorIndex,
)
from lakehouse_assets.vector_index.tables import table_uri


def knowledge_base_resources(settings: LakehouseSettings) -> dict[str, Any]:
    """The knowledge base's tables (delta-rs) and its vector index, per environment."""
    kb = settings.knowledge_base
    resources: dict[str, Any] = {
        "knowledge_base": KnowledgeBase(
            root=kb.tables_root,
            docs_dir=kb.docs_dir,
            dim_product_uri=kb.dim_product_uri or table_uri(settings.root, DIM_PRODUCT),
        )
    }
    if settings.env == "databricks":
        resources["vector_search"] = DatabricksVectorSearch(
            endpoint_name=kb.vector_search_endpoint, catalog=settings.catalog
        )
    else:
        resources["vector_search"] = LocalVectorIndex(index_root=kb.index_root)
    return resources


def build_defs(settings: LakehouseSettings) -> Definitions:
    return Definitions(
        assets=vector_index_assets,
        asset_checks=vector_index_checks,
        resources=knowledge_base_resources(settings),
    )
