"""Every table the lakehouse writes, for listings, docs and tests."""

from __future__ import annotations

from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.monitoring import tables as monitoring
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.storage import TableSpec

ALL_TABLES: tuple[TableSpec, ...] = (
    bronze_table(sources.ORDERS),
    bronze_table(sources.LINEITEM),
    silver.ORDERS,
    silver.LINE_ITEMS,
    gold.FACT_SALES,
    gold.AGG_DAILY_SALES,
    monitoring.INGESTED_FILES,
)
