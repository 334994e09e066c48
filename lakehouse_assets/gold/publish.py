"""Publishing a gold table: write, check what was written, record whether the version passed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import AssetExecutionContext, MaterializeResult

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
) -> MaterializeResult:
    """Replace the run's window of ``target``, check what was written, give the verdict."""
    assert step.window is not None, "gold facts are daily-partitioned"
    result = overwrite_window_and_check(step.store, target, rows, step.window, date_column, checks)
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
