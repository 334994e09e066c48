"""What the maintenance and retention jobs do to a set of tables, and how it is recorded.

The operations themselves live with the table store (:mod:`lakehouse_assets.storage.maintenance`);
this module chooses the tables, applies the configured retention and writes one row per
operation and table to ``monitoring.table_maintenance``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from lakehouse_assets.monitoring.schemas import TABLE_MAINTENANCE_SCHEMA
from lakehouse_assets.monitoring.tables import TABLE_MAINTENANCE
from lakehouse_assets.retention import ROWS_KEPT_FROM_PROPERTY, VacuumRetention
from lakehouse_assets.storage.maintenance import (
    MaintenanceOutcome,
    delete_expired_rows,
    optimize_table,
    vacuum_table,
)
from lakehouse_assets.storage.staging import staging_table

if TYPE_CHECKING:
    from lakehouse_assets.storage import DeltaTableStore, TableSpec


def maintain_tables(
    store: DeltaTableStore,
    tables: Sequence[TableSpec],
    vacuum: VacuumRetention,
    *,
    optimize: bool = True,
    remove_files: bool = True,
) -> list[MaintenanceOutcome]:
    """OPTIMIZE then VACUUM each of ``tables`` that exists (one not created yet is skipped),
    and VACUUM its staging table (``storage/staging.py``), whose every run leaves files of
    candidates behind."""
    outcomes = []
    for spec in tables:
        if not store.exists(spec):
            continue
        if optimize:
            outcomes.append(optimize_table(store, spec))
        if remove_files:
            outcomes.append(vacuum_table(store, spec, vacuum))
            staging = staging_table(spec)
            if store.exists(staging):
                outcomes.append(vacuum_table(store, staging, vacuum))
    return outcomes


def expire_rows(
    store: DeltaTableStore,
    tables: Sequence[TableSpec],
    retention_days: Mapping[str, int],
    today: dt.date,
) -> list[MaintenanceOutcome]:
    """Delete the expired rows of every table whose kind of record has days configured, and
    record on the table the first date it still holds (``lakehouse.retention.rowsKeptFrom``)."""
    outcomes = []
    for spec in tables:
        retention = spec.retention
        if retention is None or retention.kind not in retention_days or not store.exists(spec):
            continue
        days = retention_days[retention.kind]
        # Recorded first: a reader that must not rebuild from expired rows (a silver window)
        # is refused from the moment the rows start to go, not after.
        kept_from = retention.cutoff(today, days).isoformat()
        if store.properties(spec).get(ROWS_KEPT_FROM_PROPERTY, "") < kept_from:
            store.set_properties(spec, {ROWS_KEPT_FROM_PROPERTY: kept_from})
        outcomes.append(delete_expired_rows(store, spec, retention, today, days))
    return outcomes


def maintenance_rows(
    outcomes: Sequence[MaintenanceOutcome], run_id: str, at: dt.datetime
) -> list[tuple]:
    """``monitoring.table_maintenance`` rows (its column order) for ``outcomes``."""
    return [
        (
            o.table,
            o.table.split(".", 1)[0],
            o.operation,
            at,
            o.before.files,
            o.after.files,
            o.before.bytes,
            o.after.bytes,
            o.files_added,
            o.files_removed,
            o.bytes_removed,
            o.rows_removed,
            round(o.duration_seconds, 3),
            o.detail,
            run_id,
        )
        for o in outcomes
    ]


def record_maintenance(
    store: DeltaTableStore, outcomes: Sequence[MaintenanceOutcome], run_id: str
) -> None:
    """Append one row per operation to ``monitoring.table_maintenance`` (one commit)."""
    if not outcomes:
        return
    rows = maintenance_rows(outcomes, run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    store.append(TABLE_MAINTENANCE, store.spark.createDataFrame(rows, TABLE_MAINTENANCE_SCHEMA))
