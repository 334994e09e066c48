"""Publish a window of a silver table: quality rules, quarantine, write, then verify."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, MaterializeResult
from pyspark.sql import functions as F

from lakehouse_assets.quality.checks import (
    accounting_check_result,
    record_dq_metrics,
    rule_check_result,
)
from lakehouse_assets.quality.engine import evaluate_rules
from lakehouse_assets.storage.metadata import materialization_metadata

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.quality.rules import Rule
    from lakehouse_assets.storage import TableSpec

RUN_ID = "_run_id"


@dataclass(frozen=True)
class SilverTarget:
    """A silver table, its quarantine table, rules, business key and date column."""

    table: TableSpec
    quarantine: TableSpec
    rules: Sequence[Rule]
    key_columns: Sequence[str]
    date_column: str = "order_date"


def publish_silver_window(
    step: SparkStep,
    run_id: str,
    target: SilverTarget,
    *,
    input_rows: DataFrame,
    cleansed: DataFrame,
    checks: Callable[[DataFrame], list[AssetCheckResult]],
) -> MaterializeResult:
    """Evaluate ``target.rules`` on ``cleansed`` in one pass, replace the window of the table
    with the kept rows and of the quarantine table with the quarantined ones, then verify.

    ``input_rows`` is the bronze input before deduplication, for the accounting:
    input = written + quarantined + dropped + duplicates removed.
    """
    store, window, date_column = step.store, step.window, target.date_column
    input_count = input_rows.count()
    quality = evaluate_rules(cleansed, target.rules, target.key_columns)
    try:
        write = store.overwrite_window(target.table, quality.kept(), window, date_column)
        # Replacing the window also clears what an earlier run of these dates quarantined.
        quarantined = quality.quarantined().withColumn(RUN_ID, F.lit(run_id))
        store.overwrite_window(target.quarantine, quarantined, window, date_column)
    finally:
        quality.release()
    record_dq_metrics(
        store, run_id=run_id, table=target.table, window=window, outcomes=quality.outcomes
    )
    written = store.read_window(target.table, window, date_column)
    written_count = written.count()
    quarantined_count = store.read_window(target.quarantine, window, date_column).count()
    duplicates = input_count - quality.evaluated_rows
    results = [rule_check_result(o) for o in quality.outcomes]
    results.append(
        accounting_check_result(
            input_rows=input_count,
            written=written_count,
            quarantined=quarantined_count,
            dropped=quality.dropped_rows,
            duplicates=duplicates,
        )
    )
    results += checks(written)
    metadata = materialization_metadata(
        store,
        target.table,
        write=write,
        window=window,
        date_column=date_column,
        partition_row_count=written_count,  # counted above for the accounting
        extra={
            "input_rows": input_count,
            "duplicates_removed": duplicates,
            "quarantined_rows": quarantined_count,
            "dropped_rows": quality.dropped_rows,
            "quarantine_table": store.identifier(target.quarantine),
        },
    )
    return MaterializeResult(metadata=metadata, check_results=results)
