"""Every asset that writes lakehouse tables, layer by layer (left to right in the lineage)."""

from lakehouse_assets.bronze.assets import bronze_assets
from lakehouse_assets.features.assets import feature_assets
from lakehouse_assets.gold.assets import gold_assets
from lakehouse_assets.gold.dimension_assets import dimension_assets
from lakehouse_assets.silver.assets import silver_assets
from lakehouse_assets.vector_index.assets import vector_index_assets, vector_index_checks

# Bronze to gold: the tables with freshness SLAs, described by the data dictionary.
TABLE_ASSETS = [*bronze_assets, *silver_assets, *dimension_assets, *gold_assets]

# Built on gold: ML features (Spark) and the document knowledge base (pure Python).
DOWNSTREAM_ASSETS = [*feature_assets, *vector_index_assets]
DOWNSTREAM_CHECKS = [*vector_index_checks]
