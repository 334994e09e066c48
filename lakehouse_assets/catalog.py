"""Every table the lakehouse writes, read from the asset graph: no list is kept here.

Each asset declares the tables it writes (see :mod:`lakehouse_assets.table_lineage`), so a new
table is listed by ``lakehouse tables``, described by the data dictionary and restorable by
being written by an asset.
"""

from __future__ import annotations

from dagster import Definitions

from lakehouse_assets.storage import TableSpec
from lakehouse_assets.table_lineage import tables_written


def lakehouse_tables(defs: Definitions | None = None) -> tuple[TableSpec, ...]:
    """The tables the assets of ``defs`` write (default: the code location's Definitions)."""
    if defs is None:
        from lakehouse_assets.definitions import defs as location

        defs = location
    return tables_written(defs.assets or [])
