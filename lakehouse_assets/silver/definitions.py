"""Silver's definitions: orders, order lines and customers, with their checks."""

from dagster import Definitions

from lakehouse_assets.silver.assets import silver_assets


def build_defs() -> Definitions:
    return Definitions(assets=silver_assets)
