"""The storage resource: where tables, landing files and streaming checkpoints live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from dagster import ConfigurableResource
from pydantic import Field

from lakehouse_assets.storage import DeltaTableStore, PathLocator, UnityCatalogLocator
from lakehouse_assets.storage.locators import TableLocator

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class LakehouseStorage(ConfigurableResource):
    """Locations of the lakehouse. Local: everything under ``LAKEHOUSE_ROOT``.
    Databricks: tables in Unity Catalog, files on a cloud path or a UC volume."""

    table_storage: Literal["path", "unity_catalog"] = Field(
        default="path",
        description="'path': Delta directories <root>/<layer>/<table>; "
        "'unity_catalog': tables <catalog>.<layer>.<table>.",
    )
    root: str = Field(description="Root of path-addressed tables.")
    catalog: str = Field(default="dev", description="Unity Catalog catalog (databricks mode).")
    landing_root: str = Field(description="Where source systems land files.")
    checkpoint_root: str = Field(description="Where streaming checkpoints live.")
    pii_readers: str = Field(
        default="pii_readers", description="Group that reads personal data unmasked."
    )
    column_policies: bool = Field(
        default=True, description="Apply Unity Catalog column tags and masks at CREATE TABLE."
    )

    def locator(self) -> TableLocator:
        if self.table_storage == "unity_catalog":
            return UnityCatalogLocator(
                self.catalog, pii_readers=self.pii_readers, column_policies=self.column_policies
            )
        return PathLocator(self.root)

    def store(self, spark: SparkSession) -> DeltaTableStore:
        """A table store bound to ``spark``."""
        return DeltaTableStore(spark, self.locator())

    def landing_dir(self, source_dir: str) -> str:
        return f"{self.landing_root.rstrip('/')}/{source_dir}"

    def checkpoint_dir(self, layer: str, stream: str) -> str:
        return f"{self.checkpoint_root.rstrip('/')}/{layer}/{stream}"
