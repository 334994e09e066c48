"""Feature assets: daily customer feature snapshots and their drift report."""

import datetime as dt
from functools import reduce

import numpy as np
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
)
from pydantic import Field
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.features.customer_features import (
    NUMERIC_FEATURES,
    build_customer_features,
)
from lakehouse_assets.features.drift import PSI_ALERT_THRESHOLD, FeatureDrift, measure_drift
from lakehouse_assets.features.snapshots import kept_days, windows_to_write
from lakehouse_assets.features.tables import CUSTOMER_FEATURES, FEATURE_DRIFT
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.partitions import DateWindow
from lakehouse_assets.storage import DeltaTableStore
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.storage.staging import keep_rejected, publish_window, stage_window
from lakehouse_assets.table_checks import unique_key_check
from lakehouse_assets.table_lineage import AS_KNOWN, SNAPSHOT_SEMANTICS_TAG
from lakehouse_assets.windowed import (
    audit_and_publish_window,
    blocking_checks_passed,
    overwrite_window_and_check,
    rejected,
)

POINT_IN_TIME_CHECK = "customer_features_point_in_time"
DRIFT_CHECK = "feature_drift_psi"
DRIFT_READ_DAYS = 31
EMPTY_SNAPSHOT = {c: np.empty(0) for c in NUMERIC_FEATURES}


def point_in_time_check(written: DataFrame) -> AssetCheckResult:
    """No snapshot row knows about anything after its as-of date, and counts nest."""
    stats = written.agg(
        F.count(F.when(F.col("last_purchase_date") > F.col("as_of_date"), 1)).alias("future"),
        F.count(
            F.when(
                (F.col("orders_last_30_days") > F.col("orders_last_90_days"))
                | (F.col("orders_last_90_days") > F.col("total_orders")),
                1,
            )
        ).alias("inconsistent"),
    ).first()
    problems = {
        "rows_with_purchases_after_as_of_date": int(stats["future"]),
        "rows_with_recent_orders_exceeding_totals": int(stats["inconsistent"]),
    }
    return AssetCheckResult(
        check_name=POINT_IN_TIME_CHECK,
        passed=not any(problems.values()),
        severity=AssetCheckSeverity.ERROR,
        metadata=problems,
    )


class CustomerFeaturesConfig(Config):
    """How a run treats snapshots that exist already (features/snapshots.py)."""

    restate: bool = Field(
        default=False,
        description=(
            "Rewrite this run's existing snapshots with everything known now (late orders "
            "included). Default: a snapshot is kept as it was first known."
        ),
    )


@spark_asset(
    name="customer_features",
    layer="features",
    writes=(CUSTOMER_FEATURES,),
    description=(
        "Daily point-in-time customer features (partition = as-of date): orders, lifetime and "
        "average value, recency, recent order counts, segment and nation as of that day. "
        "As known: an existing snapshot is never rewritten unless a run asks to restate it."
    ),
    deps=["fact_orders", "dim_customer", "dim_geography"],
    tags={SNAPSHOT_SEMANTICS_TAG: AS_KNOWN},
    check_specs=[
        AssetCheckSpec(
            "customer_features_grain_unique",
            asset="customer_features",
            blocking=True,
            description="One row per (as_of_date, customer_id).",
        ),
        AssetCheckSpec(
            POINT_IN_TIME_CHECK,
            asset="customer_features",
            blocking=True,
            description="No row sees an order after its as-of date; recent counts nest.",
        ),
    ],
)
def customer_features(
    context: AssetExecutionContext, config: CustomerFeaturesConfig
) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    assert window is not None, "customer_features is daily-partitioned"
    # A restating run rewrites every day: no need to read which exist.
    exists = store.exists(CUSTOMER_FEATURES) and not config.restate
    written = snapshot_dates(store, window) if exists else set()
    parts = windows_to_write(window, written, restate=config.restate)

    def checks(snapshots: DataFrame) -> list[AssetCheckResult]:
        return [
            unique_key_check(
                "customer_features_grain_unique", snapshots, ["as_of_date", "customer_id"]
            ),
            point_in_time_check(snapshots),
        ]

    if parts == [window]:
        return audit_and_publish_window(
            store, CUSTOMER_FEATURES, snapshot_rows(store, window), window, "as_of_date", checks
        )
    kept = kept_days(window, parts)
    context.log.info(
        f"customer_features: {len(kept)} existing snapshots kept as known ({kept[0]}..{kept[-1]})"
        f"; {len(window) - len(kept)} new"
    )
    extra = {"snapshots_kept_as_known": len(kept), "snapshots_written": len(window) - len(kept)}
    if not parts:
        metadata = materialization_metadata(
            store, CUSTOMER_FEATURES, write=None, window=window, date_column="as_of_date",
            extra=extra,
        )  # fmt: skip
        snapshots = store.read_window(CUSTOMER_FEATURES, window, "as_of_date")
        return MaterializeResult(metadata=metadata, check_results=checks(snapshots))
    staged = [
        stage_window(store, CUSTOMER_FEATURES, snapshot_rows(store, part), part, "as_of_date")
        for part in parts
    ]
    results = checks(reduce(DataFrame.unionByName, staged))
    if not blocking_checks_passed(results):
        for part, rows in zip(parts, staged, strict=True):
            keep_rejected(store, CUSTOMER_FEATURES, rows, part, "as_of_date")
        return rejected(store, CUSTOMER_FEATURES, results, window, "as_of_date")
    # One commit per run of new days (one in every run but a backfill over holes).
    rows_written = sum(
        publish_window(store, CUSTOMER_FEATURES, rows, part, "as_of_date").rows_written
        for part, rows in zip(parts, staged, strict=True)
    )
    metadata = materialization_metadata(
        store, CUSTOMER_FEATURES, write=None, window=window, date_column="as_of_date",
        extra={**extra, "rows_written": rows_written, "published": True},
    )  # fmt: skip
    return MaterializeResult(metadata=metadata, check_results=results)


def snapshot_rows(store: DeltaTableStore, window: DateWindow) -> DataFrame:
    """The snapshots of ``window`` from gold as it is now."""
    # Lifetime features need every order up to the window's end, not only the window's days.
    orders = store.read(gold.FACT_ORDERS, where=f"order_date <= DATE'{window.last.isoformat()}'")
    return build_customer_features(
        orders, store.read(gold.DIM_CUSTOMER), store.read(gold.DIM_GEOGRAPHY), window
    )


def snapshot_dates(store: DeltaTableStore, window: DateWindow) -> set[dt.date]:
    """The as-of dates of ``window`` that have a snapshot."""
    rows = (
        store.read(CUSTOMER_FEATURES, where=window.sql_predicate("as_of_date"))
        .select("as_of_date")
        .distinct()
        .collect()
    )
    return {r["as_of_date"] for r in rows}


def previous_snapshot_date(store: DeltaTableStore, day: dt.date) -> dt.date | None:
    """The latest customer_features snapshot before ``day`` (None for the first)."""
    row = (
        store.read(CUSTOMER_FEATURES, where=f"as_of_date < DATE'{day.isoformat()}'")
        .agg(F.max("as_of_date").alias("day"))
        .first()
    )
    return row["day"] if row else None


Snapshot = dict[str, np.ndarray]


def snapshots_between(
    store: DeltaTableStore, first: dt.date, last: dt.date
) -> dict[dt.date, Snapshot]:
    """The numeric feature columns (NULL as NaN) of every snapshot in ``first..last``, one read."""
    rows = (
        store.read(CUSTOMER_FEATURES, where=DateWindow(first, last).sql_predicate("as_of_date"))
        .select("as_of_date", *[F.col(c).cast("double") for c in NUMERIC_FEATURES])
        .toPandas()
    )
    return {
        day: {c: frame[c].to_numpy(dtype=float, na_value=np.nan) for c in NUMERIC_FEATURES}
        for day, frame in rows.groupby("as_of_date", sort=True)
    }


def window_chunks(window: DateWindow, days: int) -> list[DateWindow]:
    """``window`` cut into consecutive windows of at most ``days`` days."""
    chunks, first = [], window.first
    while first <= window.last:
        last = min(first + dt.timedelta(days=days - 1), window.last)
        chunks.append(DateWindow(first, last))
        first = last + dt.timedelta(days=1)
    return chunks


def drift_rows(
    store: DeltaTableStore, window: DateWindow
) -> list[tuple[dt.date, dt.date, FeatureDrift]]:
    """Every day's drift against its previous snapshot (nothing before the first snapshot).

    Snapshots are read a month at a time, each once: a range backfill costs one read per month,
    not two per day, and the driver holds at most a month of numeric columns.
    """
    reference_day = previous_snapshot_date(store, window.first)
    reference = snapshots_between(store, reference_day, reference_day) if reference_day else {}
    rows = []
    for chunk in window_chunks(window, DRIFT_READ_DAYS):
        snapshots = {**reference, **snapshots_between(store, chunk.first, chunk.last)}
        for day in chunk.days():
            if reference_day is None:
                reference_day = day if day in snapshots else None
                continue
            current = snapshots.get(day, EMPTY_SNAPSHOT)
            drifts = measure_drift(snapshots[reference_day], current, NUMERIC_FEATURES)
            rows.extend((day, reference_day, drift) for drift in drifts)
            if day in snapshots:
                reference_day = day
        reference = {reference_day: snapshots[reference_day]} if reference_day else {}
    return rows


DRIFT_SCHEMA = (
    "as_of_date date, reference_date date, feature_name string, reference_rows bigint, "
    "current_rows bigint, reference_mean double, reference_std double, current_mean double, "
    "current_std double, psi double, alert_threshold double, is_drifting boolean"
)


def drift_check(written: DataFrame) -> AssetCheckResult:
    """WARN when any feature's PSI is above the threshold (a shift worth a look, not a stop)."""
    drifting = written.where("is_drifting").orderBy(F.col("psi").desc()).collect()
    return AssetCheckResult(
        check_name=DRIFT_CHECK,
        passed=not drifting,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "alert_threshold": PSI_ALERT_THRESHOLD,
            "features_compared": written.count(),
            "drifting": [
                f"{r['as_of_date']} {r['feature_name']}: PSI {r['psi']:.3f}" for r in drifting
            ],
            "max_psi": float(written.agg(F.max("psi")).first()[0] or 0.0),
        },
    )


@spark_asset(
    name="feature_drift",
    layer="features",
    writes=(FEATURE_DRIFT,),
    description=(
        "monitoring.feature_drift: per snapshot and numeric feature, mean, std and PSI against "
        "the previous snapshot."
    ),
    deps=["customer_features"],
    check_specs=[
        AssetCheckSpec(
            DRIFT_CHECK,
            asset="feature_drift",
            description=f"Warns when a feature's PSI exceeds {PSI_ALERT_THRESHOLD}.",
        )
    ],
)
def feature_drift(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    assert window is not None, "feature_drift is daily-partitioned"
    rows = [
        (as_of, reference_day, *drift.as_row().values())
        for as_of, reference_day, drift in drift_rows(store, window)
    ]
    frame = step.session.createDataFrame(rows, DRIFT_SCHEMA)
    # A report with a WARN check only: nothing to hold back, so no staging.
    return overwrite_window_and_check(
        store, FEATURE_DRIFT, frame, window, "as_of_date", lambda w: [drift_check(w)]
    )


feature_assets = [customer_features, feature_drift]
