"""Gold checks: reconciliation with silver, referential integrity, SCD2 integrity."""

from __future__ import annotations

from dataclasses import dataclass, field

from dagster import AssetCheckResult, AssetCheckSeverity
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse_assets.gold.dimensions import UNKNOWN_KEY


@dataclass(frozen=True)
class Totals:
    """How one side of a reconciliation counts rows and sums an amount."""

    rows: DataFrame
    amount: Column
    row_count: Column = field(default_factory=lambda: F.count(F.lit(1)))


# Dates listed in a failed check's metadata (enough to start re-running them).
_LISTED_DATES = 20


def reconciliation_check(
    check_name: str, *, expected: Totals, actual: Totals, date_column: str = "order_date"
) -> AssetCheckResult:
    """Per date (= per partition), rows and amount of ``actual`` equal those of ``expected``.

    Both sides are reduced to one row per date before they are compared, so the comparison
    costs one aggregation per side whatever the window size; the dates that differ are listed.
    """

    def per_date(side: Totals, prefix: str) -> DataFrame:
        return side.rows.groupBy(date_column).agg(
            side.row_count.alias(f"{prefix}_rows"), side.amount.alias(f"{prefix}_amount")
        )

    compared = per_date(expected, "expected").join(
        per_date(actual, "actual"), date_column, "full_outer"
    )
    totals = compared.collect()
    differing = sorted(
        str(r[date_column])
        for r in totals
        if (r["expected_rows"] or 0) != (r["actual_rows"] or 0)
        or (r["expected_amount"] or 0) != (r["actual_amount"] or 0)
    )

    def total(column: str) -> object:
        return sum((r[column] or 0 for r in totals), start=0)

    return AssetCheckResult(
        check_name=check_name,
        passed=not differing,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "dates_compared": len(totals),
            "dates_differing": len(differing),
            "first_differing_dates": differing[:_LISTED_DATES],
            "expected_rows": int(total("expected_rows")),
            "actual_rows": int(total("actual_rows")),
            "expected_amount": str(total("expected_amount")),
            "actual_amount": str(total("actual_amount")),
        },
    )


@dataclass(frozen=True)
class ForeignKey:
    """A fact column referencing a dimension key (NULL allowed only if ``nullable``)."""

    column: str
    dimension: DataFrame
    dimension_key: str
    nullable: bool = False


def foreign_key_checks(
    ri_check: str,
    unknown_check: str,
    facts: DataFrame,
    foreign_keys: list[ForeignKey],
    date_column: str = "order_date",
) -> list[AssetCheckResult]:
    """Referential integrity (blocking) and facts on unknown members (warning), in one pass.

    Every key must exist in its dimension - the unknown member included, so an unresolved
    reference is not a violation but is counted by ``unknown_check``, with the dates whose
    re-processing will re-key it once the dimension row has arrived.
    """
    marked = facts
    for n, fk in enumerate(foreign_keys):
        keys = fk.dimension.select(
            F.col(fk.dimension_key).alias(fk.column), F.lit(True).alias(f"_found_{n}")
        ).distinct()
        marked = marked.join(F.broadcast(keys), fk.column, "left")
    aggregations = []
    for n, fk in enumerate(foreign_keys):
        missing = F.col(f"_found_{n}").isNull()
        if fk.nullable:
            missing = missing & F.col(fk.column).isNotNull()
        aggregations += [
            F.sum(missing.cast("int")).alias(f"missing_{fk.column}"),
            F.sum((F.col(fk.column) == UNKNOWN_KEY).cast("int")).alias(f"unknown_{fk.column}"),
        ]
    any_unknown = F.lit(False)
    for fk in foreign_keys:
        any_unknown = any_unknown | (F.col(fk.column) == UNKNOWN_KEY)
    aggregations.append(
        F.array_sort(F.collect_set(F.when(any_unknown, F.col(date_column).cast("string")))).alias(
            "unknown_dates"
        )
    )
    stats = marked.agg(*aggregations).first()
    missing = {fk.column: int(stats[f"missing_{fk.column}"] or 0) for fk in foreign_keys}
    unknown = {fk.column: int(stats[f"unknown_{fk.column}"] or 0) for fk in foreign_keys}
    dates = list(stats["unknown_dates"] or [])
    return [
        AssetCheckResult(
            check_name=ri_check,
            passed=not any(missing.values()),
            severity=AssetCheckSeverity.ERROR,
            metadata={f"{c}_missing": v for c, v in missing.items()},
        ),
        AssetCheckResult(
            check_name=unknown_check,
            passed=not any(unknown.values()),
            severity=AssetCheckSeverity.WARN,
            metadata={
                **{f"{c}_unknown": v for c, v in unknown.items()},
                "dates_to_reprocess": len(dates),
                "first_dates_to_reprocess": dates[:_LISTED_DATES],
            },
        ),
    ]


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
