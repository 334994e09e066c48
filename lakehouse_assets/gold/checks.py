"""Gold checks: totals must reconcile with the layer they were built from."""

from __future__ import annotations

from dagster import AssetCheckResult, AssetCheckSeverity
from pyspark.sql import DataFrame
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
