"""Every asset that writes lakehouse tables, layer by layer (left to right in the lineage)."""

from lakehouse_assets.bronze.assets import bronze_assets
from lakehouse_assets.gold.assets import gold_assets
from lakehouse_assets.gold.dimension_assets import dimension_assets
from lakehouse_assets.silver.assets import silver_assets

TABLE_ASSETS = [*bronze_assets, *silver_assets, *dimension_assets, *gold_assets]
