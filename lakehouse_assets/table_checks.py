"""Generic table checks (used by several layers), computed on the written window."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetCheckResult, AssetCheckSeverity
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def unique_key_check(check_name: str, rows: DataFrame, keys: Sequence[str]) -> AssetCheckResult:
    """The business key identifies exactly one row (and is never NULL) in ``rows``."""
    key = F.struct(*[F.col(k) for k in keys])
    null_key = F.lit(False)
    for k in keys:
        null_key = null_key | F.col(k).isNull()
    stats = rows.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct(key).alias("distinct_keys"),
        F.sum(null_key.cast("int")).alias("null_keys"),
    ).first()
    total, distinct, nulls = (
        int(stats["rows"]),
        int(stats["distinct_keys"]),
        int(stats["null_keys"] or 0),
    )
    return AssetCheckResult(
        check_name=check_name,
        passed=total == distinct and nulls == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={"rows": total, "distinct_keys": distinct, "null_keys": nulls, "keys": list(keys)},
    )
