"""Every table the lakehouse writes, for listings, docs and tests."""

from __future__ import annotations

from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.features import tables as features
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.monitoring import tables as monitoring
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.storage import TableSpec
from lakehouse_assets.vector_index import tables as vector_index

ALL_TABLES: tuple[TableSpec, ...] = (
    *(bronze_table(source) for source in ALL_SOURCES),
    DEAD_LETTER,
    silver.ORDERS,
    silver.LINE_ITEMS,
    silver.ORDERS_QUARANTINE,
    silver.LINE_ITEMS_QUARANTINE,
    silver.CUSTOMERS,
    silver.CUSTOMER_HISTORY,
    silver.CUSTOMER_EVENTS_QUARANTINE,
    gold.DIM_DATE,
    gold.DIM_GEOGRAPHY,
    gold.DIM_PRODUCT,
    gold.DIM_SUPPLIER,
    gold.DIM_CUSTOMER,
    gold.FACT_ORDERS,
    gold.FACT_SALES,
    gold.AGG_DAILY_SALES,
    features.CUSTOMER_FEATURES,
    features.FEATURE_DRIFT,
    vector_index.DOCUMENTS,
    vector_index.DOCUMENT_EMBEDDINGS,
    monitoring.INGESTED_FILES,
    monitoring.INGESTION_EVENTS,
    monitoring.SCHEMA_CHANGES,
    monitoring.DQ_METRICS,
    monitoring.DATA_DICTIONARY,
    monitoring.SLA_METRICS,
    monitoring.PIPELINE_RUNS,
)
