"""Customer feature snapshots through Dagster runs: point in time, late data, drift.

One landed TPC-H day plus hand-made orders on the next two days; customer 7 changes segment on
day 3. The tests share one lakehouse and run in file order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from lakehouse_assets.features.drift import measure_drift, population_stability_index
from lakehouse_assets.features.tables import CUSTOMER_FEATURES, FEATURE_DRIFT
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .features_oracle import expected_snapshot
from .lakehouse import (
    ORDER_FACT_PATH,
    checks_by_name,
    materialize_day,
    own_materialization,
    settings_for,
)
from .lakehouse import materialize_range as run_range
from .landing_files import jsonl, land, line, order
from .test_gold_star import customer_event, segment_change

DAY1, DAY2, DAY3, DAY4 = (dt.date(1992, 1, d) for d in (1, 2, 3, 4))
MOVING, QUIET = 7, 8
FEATURES = ["customer_features", "feature_drift"]
# What the features read (fact_orders, dim_customer, dim_geography) and what they are built
# from; products, suppliers and the sales facts are not needed.
UPSTREAM = ORDER_FACT_PATH


def land_orders(landing, day: dt.date, name: str, orders: list[tuple[int, int, float]]) -> None:
    """Orders ``(order_key, customer_key, total_price)`` with one line each."""
    when = day.isoformat()
    records = [order(k, when, o_custkey=c, o_totalprice=p) for k, c, p in orders]
    land(landing, "orders", when, f"{name}.jsonl", jsonl(*records))
    lines = jsonl(*[line(k, 1, when) for k, _, _ in orders])
    land(landing, "lineitem", when, f"{name}.jsonl", lines)


def snapshot_of(store: DeltaTableStore, day: dt.date) -> pd.DataFrame:
    rows = store.read(CUSTOMER_FEATURES).where(F.col("as_of_date") == F.lit(day))
    return rows.toPandas().sort_values("customer_id").reset_index(drop=True)


@pytest.fixture(scope="module")
def lakehouse(spark, tpch_dir, tmp_path_factory):
    """Days 1-3 through gold and features as one run."""
    root = tmp_path_factory.mktemp("features")
    landing = root / "landing"
    land_tpch(tpch_dir, landing, DAY1, DAY1)
    _, moved_to = segment_change(tpch_dir, MOVING)
    land(landing, "customer_events", DAY2.isoformat(), "events.jsonl", "")
    moves = jsonl(customer_event("u", 10_000, DAY3, MOVING, moved_to))
    land(landing, "customer_events", DAY3.isoformat(), "events.jsonl", moves)
    land_orders(landing, DAY2, "day2", [(9_100_001, MOVING, 1000.0), (9_100_002, QUIET, 250.5)])
    land_orders(landing, DAY3, "day3", [(9_100_003, MOVING, 300.0)])
    settings = settings_for(root / "lakehouse", landing)
    result = run_range(settings, DAY1, DAY3, selection=UPSTREAM + FEATURES)
    store = DeltaTableStore(spark, PathLocator(settings.root))
    return settings, landing, store, result, moved_to


@pytest.mark.spark
def test_each_snapshot_sees_only_its_own_past(lakehouse):
    settings, _, store, result, moved_to = lakehouse
    assert result.success
    checks = checks_by_name(result)
    assert checks["customer_features_grain_unique"].passed
    assert checks["customer_features_point_in_time"].passed
    for day in (DAY1, DAY2, DAY3):
        actual = snapshot_of(store, day)
        expected = expected_snapshot(settings.root, day)
        assert len(actual) == len(expected) > 1000
        columns = list(expected.columns)
        pd.testing.assert_frame_equal(actual[columns], expected, check_dtype=False)

    moving = {
        day: snapshot_of(store, day).set_index("customer_id").loc[MOVING]
        for day in (DAY1, DAY2, DAY3)
    }
    # Day 1 was computed in the same run as days 2 and 3, yet knows nothing of them.
    assert moving[DAY1]["total_orders"] == moving[DAY2]["total_orders"] - 1
    assert moving[DAY3]["total_orders"] == moving[DAY2]["total_orders"] + 1
    assert moving[DAY3]["last_purchase_date"] == DAY3
    assert moving[DAY3]["days_since_last_purchase"] == 0
    # Segment as of each day: the change on day 3 does not rewrite days 1 and 2.
    assert moving[DAY2]["market_segment"] != moved_to
    assert moving[DAY3]["market_segment"] == moved_to


@pytest.mark.spark
def test_a_late_order_appears_from_the_next_snapshot_on_until_restated(lakehouse):
    """Snapshots are as known (features/snapshots.py): the late date's run, which covers its
    snapshot as a landing run does, keeps it; the next new snapshot sees the late order; a
    restating run rewrites the old one with exactly that order added."""
    settings, landing, store, _, _ = lakehouse
    before = {day: snapshot_of(store, day) for day in (DAY2, DAY3)}
    land_orders(landing, DAY2, "late", [(9_100_009, QUIET, 5000.0)])
    late = materialize_day(settings, DAY2, selection=[*UPSTREAM, "customer_features"])
    facts = store.read(gold.FACT_ORDERS).where("order_id = 9100009").count()
    assert facts == 1  # the late order reached gold...
    for day, snapshot in before.items():  # ...but no snapshot that was already written
        pd.testing.assert_frame_equal(snapshot_of(store, day), snapshot)
    kept = own_materialization(late, "customer_features").metadata
    assert kept["snapshots_kept_as_known"].value == 1 and kept["snapshots_written"].value == 0
    assert checks_by_name(late)["customer_features_point_in_time"].passed

    assert materialize_day(settings, DAY4, selection=["customer_features"]).success
    old = before[DAY3].set_index("customer_id").loc[QUIET]
    next_day = snapshot_of(store, DAY4).set_index("customer_id").loc[QUIET]
    assert next_day["total_orders"] == old["total_orders"] + 1

    restate = {"ops": {"customer_features": {"config": {"restate": True}}}}
    assert materialize_day(
        settings, DAY2, selection=["customer_features"], run_config=restate
    ).success
    old = before[DAY2].set_index("customer_id").loc[QUIET]
    new = snapshot_of(store, DAY2).set_index("customer_id").loc[QUIET]
    assert new["total_orders"] == old["total_orders"] + 1
    assert new["lifetime_value"] == old["lifetime_value"] + Decimal("5000.00")
    pd.testing.assert_frame_equal(snapshot_of(store, DAY3), before[DAY3])


@pytest.mark.spark
def test_drift_is_recorded_per_feature_and_a_shift_warns(lakehouse):
    settings, _, store, _, _ = lakehouse
    drift = store.read(FEATURE_DRIFT).toPandas()
    # Day 1 has no previous snapshot; days 2 and 3 are compared with the day before.
    assert sorted(set(drift["as_of_date"])) == [DAY2, DAY3]
    assert set(drift["feature_name"]) >= {"total_orders", "lifetime_value", "avg_order_value"}
    day2 = drift[drift["as_of_date"] == DAY2].set_index("feature_name")
    assert (day2["reference_date"] == DAY1).all()
    assert not day2["is_drifting"].any()

    # An upstream bug double-counts half of day 2's customers' orders...
    store.update(
        CUSTOMER_FEATURES,
        {"total_orders": "total_orders + 3"},
        f"as_of_date = DATE'{DAY2}' AND customer_id % 2 = 0",
    )
    result = materialize_day(settings, DAY3, selection=["feature_drift"])
    check = checks_by_name(result)["feature_drift_psi"]
    assert not check.passed and check.severity.value == "WARN"
    assert any("total_orders" in d for d in check.metadata["drifting"].value)
    day3 = store.read(FEATURE_DRIFT).where(F.col("as_of_date") == F.lit(DAY3)).toPandas()
    flagged = day3.set_index("feature_name")
    assert flagged.loc["total_orders", "is_drifting"]
    assert flagged.loc["total_orders", "psi"] > 0.2


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(7)
    reference = rng.normal(100, 10, 20_000)
    assert population_stability_index(reference, rng.normal(100, 10, 20_000)) < 0.01
    # A one-standard-deviation shift is far past the 0.2 "significant" line.
    assert population_stability_index(reference, rng.normal(110, 10, 20_000)) > 0.5
    # Half a standard deviation is moderate-to-significant (~0.25 for a normal).
    assert 0.15 < population_stability_index(reference, rng.normal(105, 10, 20_000)) < 0.4


def test_a_change_in_missing_values_is_drift_and_stats_ignore_them():
    reference = np.array([1.0, 2.0, 3.0, 4.0] * 250)
    current = np.where(np.arange(1000) % 2 == 0, np.nan, reference)
    (drift,) = measure_drift({"f": reference}, {"f": current}, ["f"])
    assert drift.is_drifting and drift.psi > 0.2
    assert drift.current_rows == 1000
    assert drift.reference_mean == pytest.approx(2.5)
    assert drift.current_mean == pytest.approx(np.mean(reference[1::2]))


def test_only_days_without_a_snapshot_are_written_unless_restated():
    from lakehouse_assets.features.snapshots import kept_days, windows_to_write
    from lakehouse_assets.partitions import DateWindow

    window = DateWindow(dt.date(1992, 1, 1), dt.date(1992, 1, 6))
    written = {dt.date(1992, 1, 2), dt.date(1992, 1, 3), dt.date(1992, 1, 5)}
    parts = windows_to_write(window, written)
    assert parts == [
        DateWindow.single(dt.date(1992, 1, 1)),
        DateWindow.single(dt.date(1992, 1, 4)),
        DateWindow.single(dt.date(1992, 1, 6)),
    ]
    assert kept_days(window, parts) == sorted(written)
    assert windows_to_write(window, written, restate=True) == [window]
    assert windows_to_write(window, set()) == [window]
