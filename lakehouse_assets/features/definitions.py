"""The features' definitions: point-in-time customer features and their drift."""

from dagster import Definitions

from lakehouse_assets.features.assets import feature_assets


def build_defs() -> Definitions:
    return Definitions(assets=feature_assets)
