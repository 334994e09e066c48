"""Which Delta version of a gold table passed its checks, and restoring to it.

Every published gold write adds a row to ``monitoring.table_versions`` (table, Delta version,
whether its blocking checks passed, run id), and its materialization carries the same
``delta_version`` and ``blocking_checks_passed``. A candidate that fails a blocking check is
not published (audit before publish, ``windowed.py``), so a failing version only reaches the
table when something gets past the checks (a write outside the assets, a check that missed);
the verdicts and the restore are for that. The newest passing version in that table is
what ``restore_table`` goes back to by default. The verdicts live in the lake, not only in
Dagster's event log, because a gold step or a restore running on a Databricks cluster sees the
lake but not the orchestrator's instance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse_assets.monitoring.tables import TABLE_VERSIONS, TABLE_VERSIONS_SCHEMA
from lakehouse_assets.windowed import blocking_checks_passed

if TYPE_CHECKING:
    from lakehouse_assets.storage import DeltaTableStore, TableSpec


__all__ = ["blocking_checks_passed", "last_good_version", "record_version_verdict"]


def record_version_verdict(
    store: DeltaTableStore, table: TableSpec, version: int, passed: bool, run_id: str
) -> None:
    """Record whether ``version`` of ``table`` passed its blocking checks (one row)."""
    row = (
        table.qualified_name,
        version,
        passed,
        run_id,
        dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    store.append_rows(TABLE_VERSIONS, [row], TABLE_VERSIONS_SCHEMA)


def last_good_version(store: DeltaTableStore, table: TableSpec) -> int | None:
    """The newest recorded version of ``table`` whose blocking checks passed, if any."""
    if not store.exists(TABLE_VERSIONS):
        return None
    rows = store.select(
        TABLE_VERSIONS,
        ["delta_version"],
        {"table_name": table.qualified_name, "blocking_checks_passed": True},
    )
    versions = [int(v) for (v,) in rows if v is not None]
    return max(versions) if versions else None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore did."""

    table: str
    restored_to: int
    version_before: int
    new_version: int
    metrics: dict[str, int]


class RestoreError(RuntimeError):
    """A restore that cannot be done (no known good version, version out of range)."""


def restore_table_version(store: DeltaTableStore, table: TableSpec, version: int) -> RestoreOutcome:
    """Delta ``RESTORE`` ``table`` to ``version``.

    The restore is itself a new commit, so readers never see a partial state and it can be
    undone by restoring again (the history is kept).
    """
    if not store.exists(table):
        raise RestoreError(f"{table.qualified_name} does not exist")
    before = store.version(table)
    if not 0 <= version <= before:
        raise RestoreError(f"{table.qualified_name} has versions 0..{before}, not {version}")
    metrics_row = store.spark.sql(
        f"RESTORE TABLE {store.sql_name(table)} TO VERSION AS OF {int(version)}"
    ).first()
    metrics = {k: int(v) for k, v in metrics_row.asDict().items() if v is not None}
    return RestoreOutcome(table.qualified_name, version, before, store.version(table), metrics)
