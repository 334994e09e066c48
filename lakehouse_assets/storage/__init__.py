"""Storage: the one table abstraction every asset reads and writes through."""

from lakehouse_assets.storage.delta_tables import (
    DeltaTableStore,
    IdempotentWrite,
    TableSpec,
    WriteResult,
)
from lakehouse_assets.storage.locators import PathLocator, TableLocator, UnityCatalogLocator

__all__ = [
    "DeltaTableStore",
    "IdempotentWrite",
    "PathLocator",
    "TableLocator",
    "TableSpec",
    "UnityCatalogLocator",
    "WriteResult",
]
