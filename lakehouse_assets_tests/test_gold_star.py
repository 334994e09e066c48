"""Gold star schema through Dagster runs: point-in-time keys, late data, restore.

One landed TPC-H day (the snapshots and every customer's insert event) plus hand-made orders,
so each expectation is written out. The tests share one lakehouse and run in file order: the
first builds days 1-3, the next ones add late data and a corruption on top.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, build_run_status_sensor_context
from deltalake import DeltaTable as RsDeltaTable
from pyspark.sql import functions as F

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.privacy import (
    PERSONAL_DATA_TAG,
    column_mask_statements,
    mask_personal_data,
)
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import (
    TABLE_ASSET_NAMES,
    checks_by_name,
    materialize_day,
    materialize_range,
    own_materialization,
    rejected_candidate,
    settings_for,
)
from .landing_files import jsonl, land, line, order

pytestmark = pytest.mark.spark

DAY1, DAY2, DAY3, DAY4 = (dt.date(1992, 1, d) for d in (1, 2, 3, 4))
MOVING, LATE = 7, 99_999  # TPC-H customer 7 changes segment on day 3; 99999 arrives on day 4
STAR = TABLE_ASSET_NAMES  # the data dictionary is tested on the whole history


def customer_event(op: str, seq: int, day: dt.date, key: int, segment: str) -> dict:
    return {
        "op": op,
        "sequence_num": seq,
        "event_ts": f"{day.isoformat()}T12:00:00",
        "c_custkey": key,
        "c_name": f"Customer#{key:09d}",
        "c_address": "Somewhere 1",
        "c_nationkey": 5,
        "c_phone": "15-000-000-0000",
        "c_acctbal": 10.5,
        "c_mktsegment": segment,
        "c_comment": "hand-made",
    }


def segment_change(tpch_dir, customer: int) -> tuple[str, str]:
    """``customer``'s TPC-H segment and another valid segment to move it to."""
    original = duckdb.sql(
        f"SELECT c_mktsegment FROM '{tpch_dir}/customer.parquet' WHERE c_custkey = {customer}"
    ).fetchall()[0][0]
    return original, "HOUSEHOLD" if original != "HOUSEHOLD" else "MACHINERY"


def land_orders(landing, day: dt.date, orders: list[tuple[int, int]]) -> None:
    """Orders ``(order_key, customer_key)`` with one line each, as ``day``'s extract."""
    when = day.isoformat()
    records = [order(k, when, o_custkey=c) for k, c in orders]
    land(landing, "orders", when, "orders.jsonl", jsonl(*records))
    land(landing, "lineitem", when, "lines.jsonl", jsonl(*[line(k, 1, when) for k, _ in orders]))


def rows_of(store, spec, day: dt.date) -> dict:
    rows = store.read(spec).where(F.col("order_date") == F.lit(day)).collect()
    if spec == gold.FACT_SALES:
        return {(r["order_id"], r["line_number"]): r for r in rows}
    return {r["order_id"]: r for r in rows}


def contents(store, spec, day: dt.date | None = None) -> list[tuple]:
    df = store.read(spec)
    df = df if day is None else df.where(F.col("order_date") == F.lit(day))
    return sorted(map(tuple, df.collect()))


@pytest.fixture(scope="module")
def star(spark, tpch_dir, tmp_path_factory):
    """Days 1-3 built as one run: customer 7 moves on day 3, customer 99999 is not known."""
    root = tmp_path_factory.mktemp("gold_star")
    landing = root / "landing"
    land_tpch(tpch_dir, landing, DAY1, DAY1)
    original, moved_to = segment_change(tpch_dir, MOVING)
    # The customer change feed is a daily extract: a quiet day still lands an (empty) file.
    land(landing, "customer_events", DAY2.isoformat(), "events.jsonl", "")
    moves = jsonl(customer_event("u", 10_000, DAY3, MOVING, moved_to))
    land(landing, "customer_events", DAY3.isoformat(), "events.jsonl", moves)
    land_orders(landing, DAY2, [(9_000_001, MOVING), (9_000_003, LATE)])
    land_orders(landing, DAY3, [(9_000_002, MOVING)])
    settings = settings_for(root / "lakehouse", landing)
    instance = DagsterInstance.ephemeral()
    first = materialize_range(settings, DAY1, DAY3, selection=STAR, instance=instance)
    store = DeltaTableStore(spark, PathLocator(settings.root))
    return settings, landing, store, instance, first, (original, moved_to)


def test_facts_take_the_customer_version_in_effect_on_their_date(star):
    _, _, store, _, first, (original, moved_to) = star
    assert first.success
    checks = checks_by_name(first)
    for name in (
        "fact_orders_reconciles_with_silver",
        "fact_sales_reconciles_with_silver",
        "agg_daily_sales_reconciles_with_fact",
        "fact_sales_foreign_keys",  # the unknown member is a valid target
        "fact_sales_grain_unique",
    ):
        assert checks[name].passed, name
    unknown = checks["fact_sales_unknown_members"]
    assert not unknown.passed and unknown.severity.value == "WARN"
    assert unknown.metadata["customer_key_unknown"].value == 1
    assert unknown.metadata["first_dates_to_reprocess"].value == [DAY2.isoformat()]

    versions = {
        r["effective_start_date"]: r["customer_key"]
        for r in store.read(gold.DIM_CUSTOMER).where(f"customer_id = {MOVING}").collect()
    }
    assert sorted(versions) == [DAY1, DAY3]
    orders = {**rows_of(store, gold.FACT_ORDERS, DAY2), **rows_of(store, gold.FACT_ORDERS, DAY3)}
    assert orders[9_000_001]["customer_key"] == versions[DAY1]  # the version of day 2...
    assert orders[9_000_002]["customer_key"] == versions[DAY3]  # ...not the current one
    assert orders[9_000_003]["customer_key"] == -1
    lines = rows_of(store, gold.FACT_SALES, DAY2)
    assert lines[(9_000_001, 1)]["customer_key"] == versions[DAY1]
    assert lines[(9_000_003, 1)]["customer_key"] == -1

    # The aggregate reads segment and nation through the key: as of the order date.
    agg = store.read(gold.AGG_DAILY_SALES)
    day3 = agg.where(F.col("order_date") == F.lit(DAY3)).collect()
    assert [(r["market_segment"], r["line_count"]) for r in day3] == [(moved_to, 1)]
    day2 = agg.where(F.col("order_date") == F.lit(DAY2)).collect()
    assert {r["market_segment"] for r in day2} == {original, "Unknown"}


def test_personal_data_is_tagged_and_masked_for_unentitled_readers(star, spark):
    """dim_customer's name, address and phone: tagged in the Delta schema and the Dagster
    column schema, masked for an unentitled reader (locally and by the generated Unity Catalog
    mask functions, evaluated here by Spark SQL), real for an entitled one, and never copied
    into the Delta log's statistics."""
    _, _, store, _, first, _ = star
    table = "gold.dim_customer"
    path = store.identifier(gold.DIM_CUSTOMER)
    delta_schema = {
        f["name"]: f["metadata"]
        for f in json.loads(RsDeltaTable(path).schema().to_json())["fields"]
    }
    expected = {"customer_name": "name", "address": "address", "phone": "phone"}
    assert {
        name: meta[PERSONAL_DATA_TAG]
        for name, meta in delta_schema.items()
        if meta.get(PERSONAL_DATA_TAG)
    } == expected
    columns = own_materialization(first, "dim_customer").metadata["dagster/column_schema"]
    tagged = {c.name: c.tags.get("personal_data") for c in columns.schema.columns if c.tags}
    assert tagged == expected

    raw = store.read(gold.DIM_CUSTOMER).where("NOT is_unknown")
    real = raw.select("customer_id", "customer_name", "address", "phone").orderBy("customer_key")
    entitled = mask_personal_data(raw, table, entitled=True)
    masked = mask_personal_data(raw, table, entitled=False)
    shown = masked.select("customer_id", "customer_name", "address", "phone").orderBy(
        "customer_key"
    )
    assert entitled.collect() == raw.collect()
    real_rows, masked_rows = real.collect(), shown.collect()
    assert len(real_rows) == len(masked_rows) > 100
    for real_row, masked_row in zip(real_rows, masked_rows, strict=True):
        assert masked_row["customer_id"] == real_row["customer_id"]
        assert masked_row["customer_name"] == masked_row["address"] == "***"
        assert masked_row["phone"] == real_row["phone"][:3] + "***-***-****"
        assert real_row["customer_name"].startswith("Customer#")

    # The Unity Catalog mask functions, with the group test answered by Spark: the same values.
    for member in (True, False):
        for statement in column_mask_statements("spark_catalog", [table], "pii_readers"):
            if statement.startswith("CREATE OR REPLACE FUNCTION"):
                local = statement.replace("spark_catalog.gold.", "").replace(
                    "CREATE OR REPLACE FUNCTION", "CREATE OR REPLACE TEMPORARY FUNCTION"
                )
                spark.sql(local.replace("is_account_group_member('pii_readers')", str(member)))
        raw.createOrReplaceTempView("dim_customer_under_test")
        through_uc = spark.sql(
            "SELECT customer_id, mask_personal_name(customer_name) AS customer_name, "
            "mask_personal_address(address) AS address, mask_personal_phone(phone) AS phone "
            "FROM dim_customer_under_test ORDER BY customer_key"
        ).collect()
        assert through_uc == (real_rows if member else masked_rows)

    log_text = "".join(p.read_text() for p in (Path(path) / "_delta_log").glob("*.json"))
    assert real_rows[0]["customer_name"] not in log_text
    assert real_rows[0]["phone"] not in log_text


def test_late_customers_are_rekeyed_and_late_facts_merge_into_their_date(star):
    settings, landing, store, instance, _, _ = star
    day3_before = contents(store, gold.FACT_SALES, DAY3)
    # Day 4: the late customer's insert event lands and reaches dim_customer.
    late = jsonl(customer_event("c", 10_001, DAY4, LATE, "BUILDING"))
    land(landing, "customer_events", DAY4.isoformat(), "events.jsonl", late)
    customer_path = ["bronze_customer_events", "silver_customers", "dim_customer"]
    assert materialize_day(settings, DAY4, selection=customer_path, instance=instance).success
    # Meanwhile a second extract for day 2 brought one more line of order 9000001.
    late_line = jsonl(line(9_000_001, 2, DAY2.isoformat(), l_extendedprice=250.0))
    land(landing, "lineitem", DAY2.isoformat(), "late.jsonl", late_line)

    rerun = materialize_day(settings, DAY2, selection=STAR, instance=instance)
    checks = checks_by_name(rerun)
    assert all(c.passed for c in checks.values()), [n for n, c in checks.items() if not c.passed]
    late_key = store.read(gold.DIM_CUSTOMER).where(f"customer_id = {LATE}").first()[0]
    assert rows_of(store, gold.FACT_ORDERS, DAY2)[9_000_003]["customer_key"] == late_key
    lines = rows_of(store, gold.FACT_SALES, DAY2)
    assert lines[(9_000_003, 1)]["customer_key"] == late_key
    assert sorted(lines) == [(9_000_001, 1), (9_000_001, 2), (9_000_003, 1)]
    assert rows_of(store, gold.FACT_ORDERS, DAY2)[9_000_001]["line_count"] == 2
    assert contents(store, gold.FACT_SALES, DAY3) == day3_before  # other dates untouched


def test_a_blocking_gold_failure_publishes_nothing_and_keeps_the_rejected_rows(star):
    """Audit before publish: the failing candidate never reaches the table (same version, same
    rows, no restore needed); its rows wait in the staging table the check names; the run
    fails; the auto-restore sensor has nothing to restore. A bad version that gets past the
    checks (written behind them) is what the restore job is for."""
    from lakehouse_assets.storage.staging import staging_table

    settings, _, store, instance, _, _ = star
    good = contents(store, gold.FACT_SALES)
    good_version = store.version(gold.FACT_SALES)
    silver_version = store.version(silver.LINE_ITEMS)

    # Corrupt silver behind the checks' back: a duplicated line breaks fact_sales' grain.
    store.append(silver.LINE_ITEMS, store.read(silver.LINE_ITEMS).where("order_id = 9000002"))
    failed = materialize_day(
        settings, DAY3, selection=["fact_sales"], raise_on_error=False, instance=instance
    )
    assert not failed.success
    check = checks_by_name(failed, instance)["fact_sales_grain_unique"]
    assert not check.passed
    assert store.version(gold.FACT_SALES) == good_version  # nothing was published
    assert RsDeltaTable(store.identifier(gold.FACT_SALES)).version() == good_version
    assert contents(store, gold.FACT_SALES) == good
    # Not a materialization: the table did not change, so its freshness must not say so.
    meta = rejected_candidate(instance, failed.run_id, "fact_sales")
    assert meta["published"] is False and meta["blocking_checks_passed"] is False
    assert meta["last_good_version"] == good_version
    latest = instance.get_latest_materialization_event(AssetKey("fact_sales"))
    assert latest is not None and latest.run_id != failed.run_id
    where = meta["rejected_rows"]
    assert where == check.metadata["rejected_rows"].value and "rejected rows" in check.description
    assert "fact_sales" in where and str(DAY3) in where
    rejected = store.read(staging_table(gold.FACT_SALES)).where(f"order_date = DATE'{DAY3}'")
    day3 = contents(store, gold.FACT_SALES, DAY3)
    assert rejected.count() == len(day3) + 1  # the candidate, duplicate included

    failure = instance.all_logs(failed.run_id, of_type=DagsterEventType.RUN_FAILURE)[0]
    context = build_run_status_sensor_context(
        sensor_name="restore_gold_on_blocking_check_failure",
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(failed.run_id),
    ).for_run_failure()
    sensor = build_definitions(settings).resolve_sensor_def(
        "restore_gold_on_blocking_check_failure"
    )
    assert "no published gold version" in sensor(context).skip_message

    # A bad version written behind the checks: restore goes back to the last good one.
    store.append(gold.FACT_SALES, store.read(gold.FACT_SALES).limit(1))
    by_default = {"ops": {"restore_table_op": {"config": {"table": "fact_sales"}}}}
    restore = build_definitions(settings).get_job_def("restore_table")
    restored = restore.execute_in_process(run_config=by_default, instance=instance)
    output = restored.output_for_node("restore_table_op")
    assert output["restored_to"] == good_version
    assert output["metrics"]["num_removed_files"] >= 1
    assert contents(store, gold.FACT_SALES) == good
    assert store.history(gold.FACT_SALES, 1)[0]["operation"] == "RESTORE"

    # Any table, to a given version: silver back to before the corruption.
    config = {"table": "silver.line_items", "version": silver_version}
    restore.execute_in_process(
        run_config={"ops": {"restore_table_op": {"config": config}}}, instance=instance
    )
    assert store.read(silver.LINE_ITEMS).where("order_id = 9000002").count() == 1


def test_a_blocking_customer_failure_publishes_neither_scd_table(star):
    """The CDC MERGE path is audited too: a candidate the contract rejects (a customer key no
    contract allows) leaves silver.customers and silver.customer_history at their versions for
    every reader, its rows wait in the staging tables the check names, dim_customer is not
    built on it, and the next day's correct events publish normally."""
    from lakehouse_assets.storage.staging import staging_table

    settings, landing, store, instance, _, _ = star
    day5, day6 = DAY4 + dt.timedelta(days=1), DAY4 + dt.timedelta(days=2)
    pair = (silver.CUSTOMERS, silver.CUSTOMER_HISTORY)
    versions = [store.version(t) for t in pair]
    before = [contents(store, t) for t in pair]

    bad = jsonl(customer_event("c", 20_000, day5, -7, "BUILDING"))  # keys are > 0
    land(landing, "customer_events", day5.isoformat(), "events.jsonl", bad)
    path = ["bronze_customer_events", "silver_customers", "dim_customer"]
    failed = materialize_day(
        settings, day5, selection=path, raise_on_error=False, instance=instance
    )
    assert not failed.success
    check = checks_by_name(failed, instance)["silver_customers_contract"]
    assert not check.passed and "rejected rows" in check.description
    assert [store.version(t) for t in pair] == versions
    assert [contents(store, t) for t in pair] == before
    # delta-rs (which cannot read these tables' deletion vectors) sees the same latest version.
    assert [RsDeltaTable(store.identifier(t)).version() for t in pair] == versions
    meta = rejected_candidate(instance, failed.run_id, "silver_customers")
    assert meta["published"] is False
    assert "customers" in check.metadata["rejected_rows"].value
    staged = store.read(staging_table(silver.CUSTOMERS))
    assert [r["customer_id"] for r in staged.collect()] == [-7]
    history_at = meta["rejected_history_rows"]
    assert "customer_history" in history_at
    assert store.spark.sql(f"SELECT customer_id FROM {history_at}").collect()[0][0] == -7
    assert not any(m.asset_key.path[-1] == "dim_customer" for m in _materializations(failed))

    good = jsonl(customer_event("c", 20_001, day6, LATE + 1, "BUILDING"))
    land(landing, "customer_events", day6.isoformat(), "events.jsonl", good)
    assert materialize_day(settings, day6, selection=path, instance=instance).success
    assert store.read(silver.CUSTOMERS).where(f"customer_id = {LATE + 1}").count() == 1
    assert store.read(silver.CUSTOMERS).where("customer_id < 0").count() == 0
    assert store.read(staging_table(silver.CUSTOMERS)).count() == 0  # emptied once published


def _materializations(result):
    return [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.event_type == DagsterEventType.ASSET_MATERIALIZATION
    ]


def _land_part(tpch_dir, landing, day: dt.date, part: int, size: int) -> None:
    """A one-part snapshot file for ``day``: TPC-H part ``part`` with its size set to ``size``."""
    target = landing / "part" / day.isoformat() / "part.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    select = (
        f"SELECT * REPLACE ({int(size)} AS p_size) FROM read_parquet('{tpch_dir}/part.parquet', "
        f"hive_partitioning = false) WHERE p_partkey = {int(part)}"
    )
    duckdb.sql(f"COPY ({select}) TO '{target}' (FORMAT PARQUET)")


def test_a_blocking_failure_of_a_whole_table_rebuild_keeps_the_table(star, tpch_dir):
    """A whole-table rebuild (dim_product) whose candidate breaks its contract (a part of size
    99; sizes are 1-50) publishes nothing: Spark and delta-rs see the previous version, the
    rejected candidate is in staging, and the corrected snapshot publishes normally."""
    from lakehouse_assets.storage.staging import staging_table

    settings, landing, store, instance, _, _ = star
    day7, day8 = DAY4 + dt.timedelta(days=3), DAY4 + dt.timedelta(days=4)
    version, before = store.version(gold.DIM_PRODUCT), contents(store, gold.DIM_PRODUCT)

    _land_part(tpch_dir, landing, day7, part=1, size=99)
    path = ["bronze_part", "dim_product"]
    failed = materialize_day(
        settings, day7, selection=path, raise_on_error=False, instance=instance
    )
    assert not failed.success
    check = checks_by_name(failed, instance)["dim_product_contract"]
    assert not check.passed and "rejected rows" in check.description
    assert store.version(gold.DIM_PRODUCT) == version
    assert RsDeltaTable(store.identifier(gold.DIM_PRODUCT)).version() == version
    assert contents(store, gold.DIM_PRODUCT) == before
    assert rejected_candidate(instance, failed.run_id, "dim_product")["published"] is False
    staged = store.read(staging_table(gold.DIM_PRODUCT))
    assert staged.count() == len(before)  # the whole candidate, part 1 at size 99
    assert staged.where("part_id = 1").first()["size"] == 99

    _land_part(tpch_dir, landing, day8, part=1, size=7)
    assert materialize_day(settings, day8, selection=path, instance=instance).success
    assert store.version(gold.DIM_PRODUCT) > version
    assert store.read(gold.DIM_PRODUCT).where("part_id = 1").first()["size"] == 7
    assert store.read(staging_table(gold.DIM_PRODUCT)).count() == 0
