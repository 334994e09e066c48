"""Gold's definitions: the dimensions and facts of the star schema, with their checks.

The restore job and its sensor cover every table of the graph, so they are built from it
(:func:`lakehouse_assets.gold.restore.restore_definitions`) when the Definitions merge.
"""

from dagster import Definitions

from lakehouse_assets.gold.assets import gold_assets
from lakehouse_assets.gold.dimension_assets import dimension_assets


def build_defs() -> Definitions:
    # Dimensions first: the lineage reads left to right.
    return Definitions(assets=[*dimension_assets, *gold_assets])
