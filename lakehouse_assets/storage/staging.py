"""Audit before publish: a table's new rows are staged, checked, and only then published.

A step writes its candidate rows to the table's **staging table** (same name, in the layer's
staging schema ``<layer>_staging``, same layout), runs its checks on them there, and publishes
them to the table in **one commit** only if no blocking check failed. Readers of the table
(BI tools, DuckDB, delta-rs, the next layer) never see a version that failed: a rejected
window leaves the table exactly at its previous version, and the rejected rows stay in the
staging table, for on-call to inspect, until the next run of that window replaces them.

Why a staging table, not checks on a cached DataFrame: the candidate is computed once
(joins, windows), whatever the engine: a cache is not available on every compute (Databricks
serverless refuses ``persist``), and a checked-then-recomputed DataFrame could differ from
what is written (a non-deterministic source, a concurrent write upstream). Publishing reads
exactly the rows that were checked.

The staging schemas hold the same personal columns as their layers, tagged alike
(``privacy.personal_columns``), and no reader is granted them (``resources/unity_catalog``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from lakehouse_assets.privacy import STAGING_LAYER_SUFFIX

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage.delta_tables import DeltaTableStore, TableSpec, WriteResult


def staging_table(target: TableSpec) -> TableSpec:
    """Where ``target``'s candidate rows wait for their checks (and rejected rows stay)."""
    return dataclasses.replace(
        target,
        layer=f"{target.layer}{STAGING_LAYER_SUFFIX}",
        comment=(
            f"Candidate rows of {target.qualified_name}: checked here before they are "
            "published; a window whose blocking checks failed stays here until its next run."
        ),
        retention=None,
    )


def stage_window(
    store: DeltaTableStore, target: TableSpec, rows: DataFrame, window: DateWindow, column: str
) -> DataFrame:
    """Write ``rows`` over ``window`` of ``target``'s staging table; the staged rows."""
    staging = staging_table(target)
    store.overwrite_window(staging, rows, window, column)
    return store.read_window(staging, window, column)


def publish_window(
    store: DeltaTableStore, target: TableSpec, window: DateWindow, column: str
) -> WriteResult:
    """Replace ``window`` of ``target`` with its staged rows (one commit), then empty the
    staging window."""
    staging = staging_table(target)
    staged = store.read_window(staging, window, column)
    write = store.overwrite_window(target, staged, window, column)
    store.overwrite_window(staging, staged.limit(0), window, column)
    return write


def stage_table(store: DeltaTableStore, target: TableSpec, rows: DataFrame) -> DataFrame:
    """Write ``rows`` as ``target``'s whole staging table; the staged rows."""
    staging = staging_table(target)
    store.overwrite(staging, rows)
    return store.read(staging)


def publish_table(store: DeltaTableStore, target: TableSpec) -> WriteResult:
    """Replace all of ``target`` with its staged rows (one commit), then empty the staging
    table."""
    staging = staging_table(target)
    staged = store.read(staging)
    write = store.overwrite(target, staged)
    store.overwrite(staging, staged.limit(0))
    return write


def rejected_location(
    store: DeltaTableStore, target: TableSpec, window: DateWindow | None, column: str | None
) -> str:
    """Where a rejected candidate of ``target`` can be read: the staging table and, for a
    window, its predicate."""
    where = f" WHERE {window.sql_predicate(column)}" if window is not None and column else ""
    return f"{store.sql_name(staging_table(target))}{where}"
