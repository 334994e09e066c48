"""Audit before publish: a table's new rows are held as a candidate, checked, and only then
published.

A step turns its new rows into a **candidate**, runs its checks on the candidate, and
publishes it to the table in **one commit** only if no blocking check failed. Readers of the
table (BI tools, DuckDB, delta-rs, the next layer) never see a version that failed: a rejected
candidate leaves the table exactly at its previous version, and its rows are kept in the
table's **staging table** (same name, in the layer's staging schema ``<layer>_staging``, same
layout), for on-call to inspect, until the next run of that window replaces them.

Where the candidate is held depends on the session, never on the asset:

* **A classic Spark session** (local, or a cluster behind a step launcher) checkpoints it in
  its executors (``localCheckpoint``): computed once, then checked and published from the same
  blocks, so what is published is exactly what was checked, and a passing run writes the
  table once, as a direct write would. Only a rejected candidate is written to staging.
* **Spark Connect** (Databricks serverless, standard access mode) cannot be relied on to keep
  a DataFrame (serverless refuses ``persist``), and a recomputed candidate could differ from the
  checked one (a non-deterministic source, a concurrent write upstream). There the candidate is
  written to the staging table, the checks read it back, and the publish copies it and empties
  the staging window.

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
    """Where ``target``'s rejected candidate rows are kept (and, through Spark Connect, where
    every candidate waits for its checks)."""
    return dataclasses.replace(
        target,
        layer=f"{target.layer}{STAGING_LAYER_SUFFIX}",
        comment=(
            f"Candidate rows of {target.qualified_name} that its blocking checks rejected (and, "
            "through Spark Connect, candidates waiting for their checks); a window stays here "
            "until its next run."
        ),
        retention=None,
    )


def candidates_in_memory(store: DeltaTableStore) -> bool:
    """True when the store's session keeps a candidate in its executors (a classic session);
    False through Spark Connect, where candidates are staged in a table."""
    return not type(store.spark).__module__.startswith("pyspark.sql.connect")


def stage_window(
    store: DeltaTableStore, target: TableSpec, rows: DataFrame, window: DateWindow, column: str
) -> DataFrame:
    """``rows`` as ``target``'s candidate for ``window``: the rows the checks judge and the
    publish writes."""
    if candidates_in_memory(store):
        return rows.localCheckpoint(eager=True)
    staging = staging_table(target)
    store.overwrite_window(staging, rows, window, column)
    return store.read_window(staging, window, column)


def publish_window(
    store: DeltaTableStore, target: TableSpec, staged: DataFrame, window: DateWindow, column: str
) -> WriteResult:
    """Replace ``window`` of ``target`` with the checked candidate ``staged`` (one commit), then
    empty the window's staging rows (a candidate staged there, or one rejected before)."""
    write = store.overwrite_window(target, staged, window, column)
    staging = staging_table(target)
    if not candidates_in_memory(store) or store.exists(staging):
        store.overwrite_window(staging, staged.limit(0), window, column)
    return write


def stage_table(store: DeltaTableStore, target: TableSpec, rows: DataFrame) -> DataFrame:
    """``rows`` as the candidate for the whole of ``target`` (or, for a MERGE by key, for the
    keys it replaces)."""
    if candidates_in_memory(store):
        return rows.localCheckpoint(eager=True)
    staging = staging_table(target)
    store.overwrite(staging, rows)
    return store.read(staging)


def publish_table(store: DeltaTableStore, target: TableSpec, staged: DataFrame) -> WriteResult:
    """Replace all of ``target`` with the checked candidate ``staged`` (one commit), then empty
    its staging table."""
    write = store.overwrite(target, staged)
    clear_staged_table(store, target)
    return write


def clear_staged_table(store: DeltaTableStore, target: TableSpec) -> None:
    """Empty ``target``'s staging table once its candidate is published (the rows are the
    table's now; a copy of personal data is not kept for nothing). Nothing to do for a
    candidate held in memory unless an earlier rejection left rows there."""
    staging = staging_table(target)
    if candidates_in_memory(store) and not store.exists(staging):
        return
    store.overwrite(staging, store.read(staging).limit(0))


def keep_rejected(
    store: DeltaTableStore,
    target: TableSpec,
    staged: DataFrame,
    window: DateWindow | None = None,
    column: str | None = None,
) -> str:
    """Keep a rejected candidate in ``target``'s staging table (already there when it was
    staged in a table); where on-call can read it."""
    if candidates_in_memory(store):
        staging = staging_table(target)
        if window is not None and column is not None:
            store.overwrite_window(staging, staged, window, column)
        else:
            store.overwrite(staging, staged)
    return rejected_location(store, target, window, column)


def rejected_location(
    store: DeltaTableStore, target: TableSpec, window: DateWindow | None, column: str | None
) -> str:
    """Where a rejected candidate of ``target`` can be read: the staging table and, for a
    window, its predicate."""
    where = f" WHERE {window.sql_predicate(column)}" if window is not None and column else ""
    return f"{store.sql_name(staging_table(target))}{where}"
