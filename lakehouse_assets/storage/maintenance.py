"""Table maintenance through the table store: OPTIMIZE, VACUUM and expiring old rows.

Each operation returns a :class:`MaintenanceOutcome` read from Delta itself (the OPTIMIZE
result, the VACUUM START/END commits, DESCRIBE DETAIL), which the maintenance jobs write to
``monitoring.table_maintenance``. None of them changes what a reader of the current version
sees: OPTIMIZE rewrites files with the same rows (``dataChange=false``), VACUUM removes only
files no version inside the retention references, and a retention DELETE removes only rows the
policy has expired.

Safe beside writers: OPTIMIZE commits with Delta's optimistic concurrency and is retried when
a concurrent write conflicts with it (no row of either commit is lost); VACUUM with a
retention at or above the floor never deletes a file a running write or reader can still use.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakehouse_assets.retention import RowRetention, VacuumRetention
from lakehouse_assets.storage.delta_tables import error_condition

if TYPE_CHECKING:
    from lakehouse_assets.storage.delta_tables import DeltaTableStore, TableSpec

# Spark conf that makes VACUUM record what it deleted as VACUUM START / VACUUM END commits
# (on by default on Databricks, off in open-source Delta).
VACUUM_LOGGING_CONF = "spark.databricks.delta.vacuum.logging.enabled"
# Delta's own refusal of a retention below the table's deletedFileRetentionDuration. The
# floor is enforced by VacuumRetention; only erasure turns the check off (vacuum_erased).
RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"
DELETION_VECTORS_PROPERTY = "delta.enableDeletionVectors"
# Delta's conflict errors: conditions DELTA_CONCURRENT_*, classes named in the message.
CONCURRENT_CONDITION_PREFIX = "DELTA_CONCURRENT_"
CONCURRENT_EXCEPTIONS = (
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
)
# Tries of an OPTIMIZE that lost a race with a concurrent commit on the same files.
OPTIMIZE_ATTEMPTS = 4


@dataclass(frozen=True)
class TableFootprint:
    """A table's current version: how many data files, how many bytes."""

    files: int
    bytes: int


@dataclass(frozen=True)
class MaintenanceOutcome:
    """What one maintenance operation did to one table."""

    table: str
    operation: str
    before: TableFootprint
    after: TableFootprint
    files_added: int
    files_removed: int
    bytes_removed: int
    rows_removed: int
    duration_seconds: float
    detail: str = ""


def table_footprint(store: DeltaTableStore, spec: TableSpec) -> TableFootprint:
    """Files and bytes of the table's current version (DESCRIBE DETAIL)."""
    row = store.detail(spec)
    return TableFootprint(int(row["numFiles"] or 0), int(row["sizeInBytes"] or 0))


def optimize_table(store: DeltaTableStore, spec: TableSpec) -> MaintenanceOutcome:
    """Compact small files; on a liquid-clustered table this is also what clusters it."""
    started = time.monotonic()
    before = table_footprint(store, spec)
    metrics = _retrying_conflicts(
        lambda: store.spark.sql(f"OPTIMIZE {store.sql_name(spec)}").first()["metrics"]
    )
    after = table_footprint(store, spec)
    clustered = f"clustered by {', '.join(spec.cluster_by)}" if spec.cluster_by else "compacted"
    return MaintenanceOutcome(
        table=spec.qualified_name,
        operation="OPTIMIZE",
        before=before,
        after=after,
        files_added=int(metrics["numFilesAdded"]),
        files_removed=int(metrics["numFilesRemoved"]),
        bytes_removed=int(metrics["filesRemoved"]["totalSize"] or 0),
        rows_removed=0,
        duration_seconds=time.monotonic() - started,
        detail=clustered,
    )


def vacuum_table(
    store: DeltaTableStore, spec: TableSpec, retention: VacuumRetention
) -> MaintenanceOutcome:
    """Delete the files no version of the last ``retention.hours`` references."""
    return _vacuum(store, spec, float(retention.hours), check_retention=True)


def vacuum_erased(store: DeltaTableStore, spec: TableSpec) -> MaintenanceOutcome:
    """VACUUM with no retention at all: every file the current version does not reference.

    Only for erasure, where an older version must not be able to bring erased personal data
    back. It gives up time travel and restores to earlier versions of ``spec``, and must run
    while nothing else writes the table (the erasure job holds the table writers' pool).

    On a table with deletion vectors, an UPDATE or DELETE only marks the old rows in files the
    current version still references: those files are rewritten without them first
    (``REORG ... APPLY (PURGE)``), so the VACUUM can remove them.
    """
    if store.properties(spec).get(DELETION_VECTORS_PROPERTY) == "true":
        store.spark.sql(f"REORG TABLE {store.sql_name(spec)} APPLY (PURGE)")
    return _vacuum(store, spec, 0.0, check_retention=False)


def _vacuum(
    store: DeltaTableStore, spec: TableSpec, hours: float, *, check_retention: bool
) -> MaintenanceOutcome:
    started = time.monotonic()
    before = table_footprint(store, spec)
    version_before = store.version(spec)
    conf = {VACUUM_LOGGING_CONF: "true"}
    if not check_retention:
        conf[RETENTION_CHECK_CONF] = "false"
    with _session_conf(store, conf):
        store.spark.sql(f"VACUUM {store.sql_name(spec)} RETAIN {hours:f} HOURS").collect()
    deleted_files, deleted_bytes = _vacuum_metrics(store, spec, version_before)
    return MaintenanceOutcome(
        table=spec.qualified_name,
        operation="VACUUM",
        before=before,
        after=table_footprint(store, spec),
        files_added=0,
        files_removed=deleted_files,
        bytes_removed=deleted_bytes,
        rows_removed=0,
        duration_seconds=time.monotonic() - started,
        detail=f"retain {hours:g} hours",
    )


def delete_expired_rows(
    store: DeltaTableStore, spec: TableSpec, retention: RowRetention, today: dt.date, days: int
) -> MaintenanceOutcome:
    """Delete the rows ``retention`` has expired on ``today`` when ``days`` are kept."""
    started = time.monotonic()
    before = table_footprint(store, spec)
    predicate = retention.expired_predicate(today, days)
    version_before = store.version(spec)
    with store.removing_rows(spec):
        store.spark.sql(f"DELETE FROM {store.sql_name(spec)} WHERE {predicate}").collect()
    metrics = _commit_metrics(store, spec, version_before, "DELETE")
    return MaintenanceOutcome(
        table=spec.qualified_name,
        operation="RETENTION",
        before=before,
        after=table_footprint(store, spec),
        files_added=metrics.get("numAddedFiles", 0),
        files_removed=metrics.get("numRemovedFiles", 0),
        bytes_removed=metrics.get("numRemovedBytes", 0),
        rows_removed=metrics.get("numDeletedRows", 0),
        duration_seconds=time.monotonic() - started,
        detail=f"{retention.kind}: keep {days} days by {retention.column} "
        f"(from {retention.cutoff(today, days).isoformat()})",
    )


def _retrying_conflicts[T](operation: Callable[[], T]) -> T:
    """Run ``operation``, again when a concurrent commit conflicted with it."""
    for attempt in range(1, OPTIMIZE_ATTEMPTS + 1):
        try:
            return operation()
        except Exception as error:
            if attempt == OPTIMIZE_ATTEMPTS or not is_concurrent_modification(error):
                raise
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


def is_concurrent_modification(error: Exception) -> bool:
    """Whether ``error`` is Delta's refusal of a commit that conflicts with a concurrent one
    (``ConcurrentAppendException`` and its kin), on a classic session or over Spark Connect,
    where the Java exception arrives as its error condition and class name."""
    condition = error_condition(error) or ""
    return condition.startswith(CONCURRENT_CONDITION_PREFIX) or any(
        name in str(error) for name in CONCURRENT_EXCEPTIONS
    )


def _commit_metrics(
    store: DeltaTableStore, spec: TableSpec, after_version: int, operation: str
) -> dict[str, int]:
    """Summed integer metrics of the ``operation`` commits made after ``after_version``."""
    totals: dict[str, int] = {}
    for commit in store.history(spec, 10):
        if int(commit["version"]) <= after_version or commit.get("operation") != operation:
            continue
        for key, value in (commit.get("operationMetrics") or {}).items():
            if str(value).isdigit():
                totals[key] = totals.get(key, 0) + int(value)
    return totals


def _vacuum_metrics(store: DeltaTableStore, spec: TableSpec, after_version: int) -> tuple[int, int]:
    """Files and bytes the VACUUM deleted, from its VACUUM START / VACUUM END commits."""
    start = _commit_metrics(store, spec, after_version, "VACUUM START")
    end = _commit_metrics(store, spec, after_version, "VACUUM END")
    return end.get("numDeletedFiles", 0), start.get("sizeOfDataToDelete", 0)


@contextmanager
def _session_conf(store: DeltaTableStore, conf: Mapping[str, str]) -> Iterator[None]:
    """Set Spark conf values for the block, then put the previous values back."""
    previous = {key: store.spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        store.spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                store.spark.conf.unset(key)
            else:
                store.spark.conf.set(key, value)
