"""Gold checks: totals must reconcile with the layer they were built from."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def _totals(df: DataFrame, rows_expr: F.Column, amount_column: str) -> tuple[int, object]:
    row = df.agg(rows_expr.alias("rows"), F.sum(amount_column).alias("amount")).first()
    return int(row["rows"] or 0), row["amount"]


def reconciliation_check(
    check_name: str,
    *,
    expected: DataFrame,
    expected_amount: str,
    actual: DataFrame,
    actual_amount: str,
    expected_rows: F.Column | None = None,
    actual_rows: F.Column | None = None,
) -> AssetCheckResult:
    """Row count and an amount total of ``actual`` equal those of ``expected`` exactly."""
    count_all = F.count(F.lit(1))
    exp_rows, exp_amount = _totals(
        expected, count_all if expected_rows is None else expected_rows, expected_amount
    )
    act_rows, act_amount = _totals(
        actual, count_all if actual_rows is None else actual_rows, actual_amount
    )
    return AssetCheckResult(
        check_name=check_name,
        passed=exp_rows == act_rows and exp_amount == act_amount,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "expected_rows": exp_rows,
            "actual_rows": act_rows,
            "expected_amount": str(exp_amount),
            "actual_amount": str(act_amount),
        },
    )


def scd2_date_integrity_check(
    check_name: str, dimension: DataFrame, natural_key: str
) -> AssetCheckResult:
    """Per natural key: at most one current version and no overlapping effective ranges."""
    known = dimension.where("NOT is_unknown")
    by_start = Window.partitionBy(natural_key).orderBy("effective_start_date", "effective_end_date")
    ordered = known.withColumn("_next_start", F.lead("effective_start_date").over(by_start))
    overlaps = ordered.where(F.col("effective_end_date") > F.col("_next_start")).count()
    several_current = (
        known.where("is_current").groupBy(natural_key).count().where("count > 1").count()
    )
    return AssetCheckResult(
        check_name=check_name,
        passed=overlaps == 0 and several_current == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"overlapping_versions": overlaps, "keys_with_several_current": several_current},
    )
