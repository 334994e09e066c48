"""silver_customers as a Dagster asset on landed TPC-H change events, against the CDC oracle."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from lakehouse_assets.gold.tables import DIM_CUSTOMER
from lakehouse_assets.monitoring.tables import DQ_METRICS
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.sample_data.landing import daily_file
from lakehouse_assets.silver import tables
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .cdc_oracle import Event, apply_events
from .lakehouse import checks_by_name, materialize_range, settings_for
from .test_customer_cdc import scd1, scd2

pytestmark = pytest.mark.spark

FIRST, LAST = dt.date(1992, 1, 1), dt.date(1992, 1, 20)


def landed_events(landing, first: dt.date, last: dt.date) -> list[Event]:
    """The change events as landed, read with plain json (independent of Spark)."""
    events = []
    for n in range((last - first).days + 1):
        path = daily_file(landing, "customer_events", first + dt.timedelta(days=n))
        for line in path.read_text().splitlines():
            r = json.loads(line)
            events.append(
                Event(
                    r["op"],
                    r["sequence_num"],
                    r["c_custkey"],
                    dt.datetime.fromisoformat(r["event_ts"]),
                    name=r["c_name"].strip(),
                    address=r["c_address"].strip(),
                    nation_id=r["c_nationkey"],
                    phone=r["c_phone"].strip(),
                    market_segment=r["c_mktsegment"].strip(),
                    account_balance=Decimal(str(r["c_acctbal"])).quantize(Decimal("0.01")),
                    comment=r["c_comment"].strip(),
                )
            )
    return events


def test_silver_customers_applies_landed_change_events(spark, tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, FIRST, LAST)
    settings = settings_for(tmp_path / "lakehouse", landing)

    result = materialize_range(
        settings,
        FIRST,
        LAST,
        selection=[
            "bronze_customer_events",
            "silver_customers",
            "bronze_nation",
            "bronze_region",
            "dim_geography",
            "dim_customer",
        ],
    )

    store = DeltaTableStore(spark, PathLocator(settings.root))
    events = landed_events(landing, FIRST, LAST)
    expected = apply_events(events)
    changes = [e for e in events if e.op != "c"]
    assert changes, "the sample should change some customers within these dates"
    assert scd1(store) == expected.scd1
    assert scd2(store) == expected.scd2
    assert len(expected.scd2) > len(expected.scd1)  # some history beyond current rows

    checks = checks_by_name(result)
    assert all(c.passed for c in checks.values()), {n: c.passed for n, c in checks.items()}
    accounting = checks["quality_accounting"].metadata
    assert accounting["input_rows"].value == len(events)
    assert accounting["unaccounted_rows"].value == 0
    metadata = result.asset_materializations_for_node("silver_customers")[0].metadata
    assert metadata["dagster/row_count"].value == len(expected.scd1)
    assert metadata["history_rows"].value == len(expected.scd2)
    rules = {r["rule"] for r in store.read(DQ_METRICS).collect()}
    assert "customer_segment_known" in rules
    assert store.read(tables.CUSTOMER_EVENTS_QUARANTINE).count() == 0

    # gold.dim_customer: one row per SCD2 version plus the unknown member, with the nation's key.
    dim = store.read(DIM_CUSTOMER)
    assert dim.count() == len(expected.scd2) + 1
    assert dim.where("geography_key = -1 AND NOT is_unknown").count() == 0
    current = {r["customer_id"]: r for r in dim.where("is_current AND NOT is_unknown").collect()}
    assert set(current) == set(expected.scd1)
