"""Publishing a gold table: write, check what was written, record whether the version passed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagster import AssetExecutionContext, MaterializeResult

from lakehouse_assets.asset_factory import log_other_partitions_changed
from lakehouse_assets.gold.versions import blocking_checks_passed, last_good_version
from lakehouse_assets.windowed import WindowChecks, overwrite_and_check, overwrite_window_and_check

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.storage import TableSpec


def _with_version_verdict(
    context: AssetExecutionContext, result: MaterializeResult
) -> MaterializeResult:
    """Add ``blocking_checks_passed`` and ``last_good_version`` (what a restore goes back to)."""
    checks = list(result.check_results or [])
    passed = blocking_checks_passed(checks)
    metadata = dict(result.metadata or {})
    metadata["blocking_checks_passed"] = passed
    if passed:
        metadata["last_good_version"] = metadata["delta_version"]
    else:
        good = last_good_version(context.instance, context.asset_key.path[-1])
        if good is not None:
            metadata["last_good_version"] = good
    return MaterializeResult(metadata=metadata, check_results=checks)


def publish_gold_window(
    context: AssetExecutionContext,
    step: SparkStep,
    target: TableSpec,
    rows: DataFrame,
    date_column: str,
    checks: WindowChecks,
    key_columns: Sequence[str] = (),
) -> MaterializeResult:
    """Replace the run's window of ``target``, check what was written, give the verdict.

    With ``key_columns`` (a fact's grain), rows of the same keys in other dates are older
    versions silver has since moved into this window: they are deleted, and their dates are
    logged as changed so their downstream partitions follow.
    """
    assert step.window is not None, "gold facts are daily-partitioned"
    result = overwrite_window_and_check(step.store, target, rows, step.window, date_column, checks)
    if key_columns:
        written = step.store.read_window(target, step.window, date_column)
        keys = written.select(*key_columns).distinct()
        dates = step.store.delete_keys_outside_window(target, keys, step.window, date_column)
        log_other_partitions_changed(context, dates, "older versions of its keys deleted")
        metadata = {
            **(result.metadata or {}),
            "other_dates_changed": [d.isoformat() for d in dates],
        }
        result = MaterializeResult(metadata=metadata, check_results=result.check_results)
    return _with_version_verdict(context, result)


def publish_gold_table(
    context: AssetExecutionContext,
    step: SparkStep,
    target: TableSpec,
    rows: DataFrame,
    checks: WindowChecks,
) -> MaterializeResult:
    """Replace the whole (dimension) ``target``, check it, give the verdict."""
    result = overwrite_and_check(step.store, target, rows, checks)
    return _with_version_verdict(context, result)
