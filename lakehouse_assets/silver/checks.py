"""Checks of the customer CDC tables, on the keys a run touched."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity
from pyspark.sql import Window
from pyspark.sql import functions as F

from lakehouse_assets.silver.cdc import KEY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

HISTORY_INTEGRITY_CHECK = "customer_history_integrity"


def history_integrity_check(history: DataFrame, current: DataFrame) -> AssetCheckResult:
    """SCD2 is well formed and agrees with SCD1, for the given keys' rows.

    Counts keys with more than one current version, versions whose validity ends before it
    starts, consecutive versions that overlap, and keys current in one table but not the other.
    """
    by_start = Window.partitionBy(KEY).orderBy("_start_sequence")
    versions = history.withColumn("_next_from", F.lead("valid_from").over(by_start)).withColumn(
        "_next_start", F.lead("_start_sequence").over(by_start)
    )
    stats = versions.agg(
        F.count(F.lit(1)).alias("versions"),
        F.count(F.when(F.col("valid_to") < F.col("valid_from"), 1)).alias("negative_ranges"),
        F.count(
            F.when(
                (F.col("_next_start").isNotNull())
                & (
                    F.col("valid_to").isNull()
                    | (F.col("valid_to") > F.col("_next_from"))
                    | (F.col("_end_sequence") > F.col("_next_start"))
                ),
                1,
            )
        ).alias("overlaps"),
    ).first()
    currents = history.where("is_current").groupBy(KEY).count()
    multiple_current = currents.where("count > 1").count()
    current_keys = currents.select(KEY)
    disagreeing = (
        current_keys.join(current.select(KEY), KEY, "left_anti").count()
        + current.select(KEY).join(current_keys, KEY, "left_anti").count()
    )
    problems = {
        "keys_with_several_current_versions": multiple_current,
        "versions_ending_before_they_start": int(stats["negative_ranges"]),
        "overlapping_versions": int(stats["overlaps"]),
        "keys_current_in_only_one_of_scd1_scd2": disagreeing,
    }
    return AssetCheckResult(
        check_name=HISTORY_INTEGRITY_CHECK,
        passed=not any(problems.values()),
        severity=AssetCheckSeverity.ERROR,
        metadata={"versions_checked": int(stats["versions"]), **problems},
    )
