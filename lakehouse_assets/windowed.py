"""The write-then-verify steps shared by silver and gold assets (window or whole table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, MaterializeResult

from lakehouse_assets.storage.metadata import materialization_metadata

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, TableSpec

WindowChecks = Callable[["DataFrame"], list[AssetCheckResult]]


def overwrite_window_and_check(
    store: DeltaTableStore,
    target: TableSpec,
    rows: DataFrame,
    window: DateWindow,
    date_column: str,
    checks: WindowChecks,
) -> MaterializeResult:
    """Replace ``window`` of ``target`` with ``rows``, then run ``checks`` on what was written.

    Checks read the table back rather than trusting the DataFrame that was written, so they
    verify the committed state, which is what downstream assets will read. The window's row
    count is the commit's own: a window overwrite replaces every row of the window with exactly
    the rows it wrote (Delta refuses a row outside it), so no job re-counts them.
    """
    write = store.overwrite_window(target, rows, window, date_column)
    written = store.read_window(target, window, date_column)
    return MaterializeResult(
        metadata=materialization_metadata(
            store,
            target,
            write=write,
            window=window,
            date_column=date_column,
            partition_row_count=write.rows_written,
        ),
        check_results=checks(written),
    )


def overwrite_and_check(
    store: DeltaTableStore, target: TableSpec, rows: DataFrame, checks: WindowChecks
) -> MaterializeResult:
    """Replace the whole (unpartitioned) ``target`` with ``rows``, then check what was written."""
    write = store.overwrite(target, rows)
    written = store.read(target)
    return MaterializeResult(
        metadata=materialization_metadata(store, target, write=write),
        check_results=checks(written),
    )
