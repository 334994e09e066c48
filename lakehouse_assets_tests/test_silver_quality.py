"""Silver quality on a day with known bad rows: quarantine, drops, accounting, dq_metrics, and a
blocking rule that keeps gold from materializing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from dagster import DagsterInstance
from deltalake import DeltaTable

from lakehouse_assets.silver.assets import LINE_ITEMS, ORDERS

from .lakehouse import SLICE, checks_by_name, materialize_day, own_materialization, settings_for
from .landing_files import jsonl, land, line, order

pytestmark = pytest.mark.spark
DAY = dt.date(1992, 1, 2)
SILVER = ["bronze_orders", "bronze_lineitem", "silver_orders", "silver_line_items"]


def _rows(path, **filters):
    rows = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    return [r for r in rows if all(r[k] == v for k, v in filters.items())]


def _land_known_bad_day(landing):
    land(
        landing,
        "orders",
        "1992-01-02",
        "orders.jsonl",
        jsonl(
            order(1),
            order(2),
            order(3, o_totalprice=-5.0),  # quarantine
            order(4, o_orderstatus="X", o_totalprice=-1.0),  # quarantine, two rules
            order(5, o_orderpriority="9-WHENEVER"),  # warn: kept
        ),
    )
    # A later extract corrects order 2: the older version is a duplicate, removed and counted.
    land(landing, "orders", "1992-01-02", "orders_correction.jsonl", jsonl(order(2)))
    land(
        landing,
        "lineitem",
        "1992-01-02",
        "lineitem.jsonl",
        jsonl(
            line(1, 1),
            line(1, 2, l_quantity=0),  # quarantine
            line(1, 3, l_discount=0.5),  # quarantine
            line(2, 1, l_returnflag="Z"),  # drop
            line(2, 2),
        ),
    )


def test_quarantine_drop_and_accounting_on_known_bad_rows(spark, tmp_path):
    settings = settings_for(tmp_path / "lh")
    _land_known_bad_day(tmp_path / "lh" / "landing")
    result = materialize_day(settings, DAY, selection=SILVER)
    root = tmp_path / "lh"

    assert sorted(r["order_id"] for r in _rows(root / "silver" / "orders")) == [1, 2, 5]
    quarantined = {r["order_id"]: r for r in _rows(root / "silver" / "orders_quarantine")}
    assert set(quarantined) == {3, 4}
    assert quarantined[3]["_failed_rules"] == ["order_total_price_non_negative"]
    assert sorted(quarantined[4]["_failed_rules"]) == [
        "order_status_known",
        "order_total_price_non_negative",
    ]
    assert quarantined[4]["_run_id"] == result.run_id
    assert quarantined[4]["order_status"] == "X"  # the full row is kept

    meta = own_materialization(result, "silver_orders").metadata
    assert meta["input_rows"].value == 6
    assert meta["duplicates_removed"].value == 1
    assert meta["quarantined_rows"].value == 2
    assert meta["dropped_rows"].value == 0
    assert meta["dagster/partition_row_count"].value == 3

    lines = {(r["order_id"], r["line_number"]) for r in _rows(root / "silver" / "line_items")}
    assert lines == {(1, 1), (2, 2)}
    line_meta = own_materialization(result, "silver_line_items").metadata
    assert line_meta["quarantined_rows"].value == 2
    assert line_meta["dropped_rows"].value == 1

    checks = checks_by_name(result)
    assert all(checks[name].passed for name in ("quality_accounting", "order_id_unique"))
    price = checks["order_total_price_non_negative"]
    assert price.passed  # quarantined rows are handled, not a failure of the run
    assert price.metadata["failed_rows"].value == 2
    assert price.metadata["failure_rate"].value == pytest.approx(2 / 5)
    sample = [json.loads(k) for k in price.metadata["sample_failing_keys"].value]
    assert sample == [{"order_id": 3}, {"order_id": 4}]
    priority = checks["order_priority_known"]
    assert not priority.passed and priority.severity.value == "WARN"  # 20 % > warn_above 1 %

    metrics = _rows(root / "monitoring" / "dq_metrics", run_id=result.run_id)
    by_rule = {(m["table_name"], m["rule"]): m for m in metrics}
    rules = len(ORDERS.all_rules) + len(LINE_ITEMS.all_rules)  # the tables' and contracts' rules
    assert len(metrics) == len(by_rule) == rules  # one row per table x rule
    assert by_rule[("silver.line_items", "line_flags_known")]["failed_rows"] == 1
    assert by_rule[("silver.orders", "order_priority_known")]["status"] == "warned"


def test_rerunning_the_day_gives_the_same_tables(spark, tmp_path):
    settings = settings_for(tmp_path / "lh")
    _land_known_bad_day(tmp_path / "lh" / "landing")
    materialize_day(settings, DAY, selection=SILVER)
    root = tmp_path / "lh"
    first = sorted(r["order_id"] for r in _rows(root / "silver" / "orders_quarantine"))
    materialize_day(settings, DAY, selection=["silver_orders"])
    assert sorted(r["order_id"] for r in _rows(root / "silver" / "orders_quarantine")) == first


def test_a_failing_blocking_rule_stops_gold(spark, tmp_path):
    settings = settings_for(tmp_path / "lh")
    landing = tmp_path / "lh" / "landing"
    land(landing, "orders", "1992-01-02", "o.jsonl", jsonl(order(1), order(2, o_custkey=None)))
    land(landing, "lineitem", "1992-01-02", "l.jsonl", jsonl(line(1, 1), line(2, 1)))
    instance = DagsterInstance.ephemeral()
    result = materialize_day(
        settings, DAY, selection=SLICE, raise_on_error=False, instance=instance
    )

    check = checks_by_name(result, instance)["order_customer_present"]
    assert not check.passed and check.severity.value == "ERROR"
    assert check.metadata["sample_failing_keys"].value == ['{"order_id":2}']
    assert not result.success
    assert result.asset_materializations_for_node("fact_sales") == []
    assert not (tmp_path / "lh" / "gold" / "fact_sales").exists()
    # Audit before publish: silver.orders was never written; the candidate waits in staging,
    # where the failing check says.
    root = tmp_path / "lh"
    assert not (root / "silver" / "orders").exists()
    assert sorted(r["order_id"] for r in _rows(root / "silver_staging" / "orders")) == [1, 2]
    where = check.metadata["rejected_rows"].value
    assert "silver_staging/orders" in where and "1992-01-02" in where


def test_a_rejected_rerun_of_a_published_day_leaves_its_previous_version(spark, tmp_path):
    """Audit before publish on a window that already has a version: a second extract for the
    day brings an order without a customer (a blocking rule). The re-run publishes nothing:
    delta-rs and Spark read exactly the previous version's rows, the candidate waits in
    staging, and the next day's correct landing publishes normally."""
    settings, instance = settings_for(tmp_path / "lh"), DagsterInstance.ephemeral()
    landing, root = tmp_path / "lh" / "landing", tmp_path / "lh"
    land(landing, "orders", "1992-01-02", "o.jsonl", jsonl(order(1), order(2)))
    land(landing, "lineitem", "1992-01-02", "l.jsonl", jsonl(line(1, 1), line(2, 1)))
    assert materialize_day(settings, DAY, selection=SILVER, instance=instance).success
    orders = root / "silver" / "orders"
    version = DeltaTable(str(orders)).version()

    land(landing, "orders", "1992-01-02", "late.jsonl", jsonl(order(3, o_custkey=None)))
    failed = materialize_day(
        settings, DAY, selection=SILVER, raise_on_error=False, instance=instance
    )
    assert not failed.success
    assert not checks_by_name(failed, instance)["order_customer_present"].passed
    assert DeltaTable(str(orders)).version() == version
    assert sorted(r["order_id"] for r in _rows(orders)) == [1, 2]
    by_spark = spark.read.format("delta").load(str(orders)).select("order_id").collect()
    assert sorted(r[0] for r in by_spark) == [1, 2]
    assert sorted(r["order_id"] for r in _rows(root / "silver_staging" / "orders")) == [1, 2, 3]

    day3 = "1992-01-03"
    land(landing, "orders", day3, "o.jsonl", jsonl(order(4, day3)))
    land(landing, "lineitem", day3, "l.jsonl", jsonl(line(4, 1, day3)))
    next_day = dt.date(1992, 1, 3)
    assert materialize_day(settings, next_day, selection=SILVER, instance=instance).success
    assert sorted(r["order_id"] for r in _rows(orders)) == [1, 2, 4]
    assert DeltaTable(str(orders)).version() > version


def test_a_contract_violation_is_quarantined_and_a_later_correction_supersedes_it(spark, tmp_path):
    """Row-level contract violations go to quarantine naming the constraint (the date flows
    on); the corrected row landed on a later date replaces the quarantined one."""
    settings = settings_for(tmp_path / "lh")
    landing = tmp_path / "lh" / "landing"
    land(landing, "orders", "1992-01-02", "o.jsonl", jsonl(order(1)))
    land(landing, "lineitem", "1992-01-02", "l.jsonl", jsonl(line(1, 1), line(1, 3, l_partkey=-3)))
    first = materialize_day(settings, DAY, selection=SILVER)
    root = tmp_path / "lh"
    [bad] = _rows(root / "silver" / "line_items_quarantine")
    assert (bad["line_number"], bad["part_id"]) == (3, -3)
    assert bad["_failed_rules"] == ["contract_part_id_greater_than_0"]
    contract = checks_by_name(first)["silver_line_items_contract"]
    assert contract.passed
    assert contract.metadata["quarantined_by_contract"].data == {"part_id:greater_than(0)": 1}

    next_day = dt.date(1992, 1, 3)
    land(landing, "orders", "1992-01-03", "o.jsonl", "")
    land(landing, "lineitem", "1992-01-03", "fix.jsonl", jsonl(line(1, 3, "1992-01-03")))
    second = materialize_day(settings, next_day, selection=SILVER)
    assert _rows(root / "silver" / "line_items_quarantine") == []
    lines = {(r["line_number"], r["order_date"]) for r in _rows(root / "silver" / "line_items")}
    assert lines == {(1, DAY), (3, next_day)}
    assert checks_by_name(second)["line_key_unique"].passed
