"""Audit before publish, shared by silver, gold and the features (window or whole table).

Every table with a blocking check is written the same way (``storage/staging.py``): the
candidate rows are staged, the checks run on the staged rows, and only when no blocking check
(severity ERROR) failed are they published, in one commit. When one fails, the table stays at
its previous version, the failing checks name where the rejected rows are, and the result
says ``published: false``: the step then fails without materializing (``rejection.py``), so
nothing downstream builds on it and no freshness policy counts it. The restore job stays for
what gets past the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dagster import AssetCheckResult, AssetCheckSeverity, MaterializeResult

from lakehouse_assets.rejection import REJECTED_ROWS_KEY
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.storage.staging import (
    keep_rejected,
    publish_table,
    publish_window,
    rejected_location,
    stage_table,
    stage_window,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, TableSpec, WriteResult

WindowChecks = Callable[["DataFrame"], list[AssetCheckResult]]


def blocking_checks_passed(results: Sequence[AssetCheckResult]) -> bool:
    """True when no check of ERROR severity (the blocking ones) failed."""
    return all(r.passed for r in results if r.severity == AssetCheckSeverity.ERROR)


def overwrite_window_and_check(
    store: DeltaTableStore,
    target: TableSpec,
    rows: DataFrame,
    window: DateWindow,
    date_column: str,
    checks: WindowChecks,
) -> MaterializeResult:
    """Replace ``window`` of ``target`` with ``rows``, then check what was written: for a table
    with no blocking check (a report such as ``monitoring.feature_drift``), which every
    candidate reaches anyway, so staging it would cost a write and a commit for nothing."""
    write = store.overwrite_window(target, rows, window, date_column)
    return MaterializeResult(
        metadata=_window_metadata(store, target, write, window, date_column),
        check_results=checks(store.read_window(target, window, date_column)),
    )


def audit_and_publish_window(
    store: DeltaTableStore,
    target: TableSpec,
    rows: DataFrame,
    window: DateWindow,
    date_column: str,
    checks: WindowChecks,
) -> MaterializeResult:
    """Stage ``rows`` for ``window`` of ``target``, check them, and replace the window with them
    only if no blocking check failed.

    The checks judge the candidate itself (checkpointed, or read back from staging), so they
    judge exactly what is published. The window's row count is the commit's own: a window
    overwrite replaces every row of the window with exactly the rows it wrote (Delta refuses a
    row outside it).
    """
    staged = stage_window(store, target, rows, window, date_column)
    results = checks(staged)
    if not blocking_checks_passed(results):
        return rejected(store, target, results, window, date_column, staged=staged)
    write = publish_window(store, target, staged, window, date_column)
    return MaterializeResult(
        metadata=_window_metadata(store, target, write, window, date_column, published=True),
        check_results=results,
    )


def _window_metadata(
    store: DeltaTableStore,
    target: TableSpec,
    write: WriteResult,
    window: DateWindow,
    date_column: str,
    **extra: Any,
) -> dict[str, Any]:
    """A window write's metadata; its row count is the commit's own (a window overwrite
    replaces every row of the window with exactly the rows it wrote)."""
    return materialization_metadata(
        store,
        target,
        write=write,
        window=window,
        date_column=date_column,
        partition_row_count=write.rows_written,
        extra=extra or None,
    )


def audit_and_publish_table(
    store: DeltaTableStore, target: TableSpec, rows: DataFrame, checks: WindowChecks
) -> MaterializeResult:
    """Stage ``rows`` as the whole (unpartitioned) ``target``, check them, and replace the table
    with them only if no blocking check failed."""
    staged = stage_table(store, target, rows)
    results = checks(staged)
    if not blocking_checks_passed(results):
        return rejected(store, target, results, staged=staged)
    write = publish_table(store, target, staged)
    return MaterializeResult(
        metadata=materialization_metadata(store, target, write=write, extra={"published": True}),
        check_results=results,
    )


def rejected(
    store: DeltaTableStore,
    target: TableSpec,
    results: Sequence[AssetCheckResult],
    window: DateWindow | None = None,
    date_column: str | None = None,
    *,
    staged: DataFrame | None = None,
    extra: dict[str, Any] | None = None,
) -> MaterializeResult:
    """The result of a candidate a blocking check rejected: the table is unchanged, the
    candidate ``staged`` is kept in the staging table (when given: a caller keeping several
    parts keeps them itself), and each failing blocking check names where the rejected rows
    are (``rejected_rows``)."""
    if staged is not None:
        location = keep_rejected(store, target, staged, window, date_column)
    else:
        location = rejected_location(store, target, window, date_column)
    extra = {**(extra or {}), "published": False, REJECTED_ROWS_KEY: location}
    if store.exists(target):
        metadata = materialization_metadata(
            store, target, write=None, window=window, date_column=date_column, extra=extra
        )
    else:
        metadata = {"dagster/table_name": target.qualified_name, **extra}
    return MaterializeResult(
        metadata=metadata, check_results=[naming_rejected(r, location) for r in results]
    )


def naming_rejected(result: AssetCheckResult, location: str) -> AssetCheckResult:
    """``result`` as a failing blocking check of a rejected candidate: it names where the
    rejected rows are (description first, and ``rejected_rows``); other results unchanged."""
    if result.passed or result.severity != AssetCheckSeverity.ERROR:
        return result
    return AssetCheckResult(
        passed=False,
        asset_key=result.asset_key,
        check_name=result.check_name,
        severity=result.severity,
        # The location first: an alert keeps the description's first few hundred characters.
        description=(
            f"not published (the table is unchanged); rejected rows in {location}"
            + (f". {result.description}" if result.description else "")
        ),
        metadata={**(result.metadata or {}), REJECTED_ROWS_KEY: location},
    )
