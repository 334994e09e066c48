"""Every asset end to end, as Dagster runs: landed TPC-H files -> bronze -> silver -> gold.

Checked against DuckDB computing the same numbers straight from the raw tpchgen files.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal

import duckdb
import pytest
from pyspark.sql import functions as F

from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.catalog import lakehouse_tables
from lakehouse_assets.gold.tables import AGG_DAILY_SALES, FACT_SALES
from lakehouse_assets.monitoring.tables import (
    DQ_METRICS,
    INGESTION_EVENTS,
    TABLE_VERSIONS,
)
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .connect_servers import connect_server
from .lakehouse import (
    TABLE_ASSET_NAMES,
    materialize_day,
    materialize_range,
    own_materialization,
    settings_for,
)
from .landing_files import jsonl, land, line, order

pytestmark = pytest.mark.spark

# From the first day: it lands every customer's insert event (the customer dimension's start).
DAYS = [dt.date(1992, 1, 1), dt.date(1992, 1, 2)]
# Run logs grow with every run by design; every other table must be identical.
RUN_LOGS = (INGESTION_EVENTS, DQ_METRICS, TABLE_VERSIONS)
DATA_TABLES = [spec for spec in lakehouse_tables() if spec not in RUN_LOGS]
# Columns that record *when* or *which run* wrote a row; everything else must be identical.
VOLATILE = {
    "_ingestion_timestamp",
    "_ingestion_date",
    "_processing_timestamp",
    "_batch_id",
    "batch_id",
    "ingested_at",
    "_run_id",
}


# An order outside TPC-H (no line items, so fact_sales still matches DuckDB): it lands on the
# first day, then again after that day's run with new content and a new order date.
RELANDED = 9_000_001
RELANDED_V1 = order(RELANDED, "1992-01-01", o_custkey=1, o_totalprice=100.00)
RELANDED_V2 = order(RELANDED, "1992-01-02", o_custkey=1, o_totalprice=200.00)
# A line breaking the silver contract (line numbers are 1..7): quarantined, not blocking.
OUT_OF_RANGE_LINE = line(RELANDED, 9, "1992-01-01")


@pytest.fixture(scope="module")
def landing(tpch_dir, tmp_path_factory):
    """Three landed days; the runs materialize the first two."""
    root = tmp_path_factory.mktemp("landing")
    land_tpch(tpch_dir, root, dt.date(1992, 1, 1), dt.date(1992, 1, 3))
    land(root, "orders", "1992-01-01", "corrections.jsonl", jsonl(RELANDED_V1))
    land(root, "lineitem", "1992-01-01", "corrections.jsonl", jsonl(OUT_OF_RANGE_LINE))
    return root


@pytest.fixture(scope="module")
def day_by_day(spark, landing, tmp_path_factory):
    """The days materialized as one run each, then the last day once more. The re-landed
    order's new version lands between the two days (the range run sees both from the start)."""
    settings = settings_for(tmp_path_factory.mktemp("day_by_day"), landing)
    for day in DAYS:
        if day == DAYS[1]:
            land(landing, "orders", "1992-01-02", "corrections.jsonl", jsonl(RELANDED_V2))
        assert materialize_day(settings, day, selection=TABLE_ASSET_NAMES).success
    store = DeltaTableStore(spark, PathLocator(settings.root))
    before_rerun = {spec: _contents(store, spec) for spec in DATA_TABLES}
    rerun = materialize_day(settings, DAYS[-1], selection=TABLE_ASSET_NAMES)
    return settings, store, before_rerun, rerun


def _contents(store, spec):
    if not store.exists(spec):
        return None
    df = store.read(spec)
    stable = [c for c in df.columns if c not in VOLATILE]
    return sorted(tuple(row) for row in df.select(*stable).collect())


def _duckdb_day_totals(tpch_dir, day):
    return duckdb.sql(
        f"""
        SELECT count(*),
               sum(round(l_extendedprice * (1 - l_discount), 2)),
               sum(l_extendedprice * (1 - l_discount))
        FROM '{tpch_dir}/lineitem.parquet' l JOIN '{tpch_dir}/orders.parquet' o
          ON l.l_orderkey = o.o_orderkey
        WHERE o.o_orderdate = DATE '{day}'
        """
    ).fetchall()[0]


def test_fact_sales_matches_duckdb_on_the_raw_tpch_files(day_by_day, tpch_dir):
    _, store, _, _ = day_by_day
    facts = store.read(FACT_SALES)
    for day in DAYS:
        rows, net_cents, net_exact = _duckdb_day_totals(tpch_dir, day)
        ours = (
            facts.where(F.col("order_date") == F.lit(day))
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.sum("net_amount").alias("net"),
                F.sum(F.col("gross_amount") * (1 - F.col("discount_rate"))).alias("exact"),
            )
            .first()
        )
        assert rows > 0
        assert ours["rows"] == rows
        # Per-line amounts are rounded to the cent (an invoice line is money)...
        assert ours["net"] == Decimal(str(net_cents))
        # ...and the exact TPC-H figure is recoverable from gross and rate, to the cent.
        assert round(ours["exact"], 2) == round(Decimal(str(net_exact)), 2)
        assert abs(ours["net"] - Decimal(str(net_exact))) <= Decimal("0.005") * rows


def test_sample_data_lands_exactly_the_expected_schema(day_by_day):
    """Nothing unexpected in the landed TPC-H files: no rescued fields, no dead letters."""
    from lakehouse_assets.bronze.sources import LINEITEM, ORDERS
    from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table

    _, store, _, _ = day_by_day
    for source in (ORDERS, LINEITEM):
        bronze = store.read(bronze_table(source))
        assert bronze.count() > 0
        assert bronze.where(F.col("_rescued_data").isNotNull()).count() == 0
    assert not store.exists(DEAD_LETTER)


def test_daily_aggregate_sums_to_the_facts_of_each_materialized_day(day_by_day):
    _, store, _, _ = day_by_day
    rows = store.read(AGG_DAILY_SALES).collect()
    # One row per nation x segment with sales that day; every customer is known.
    assert all(r["market_segment"] != "Unknown" for r in rows)
    assert len({(r["order_date"], r["geography_key"], r["market_segment"]) for r in rows}) == len(
        rows
    )
    per_day = {}
    for r in rows:
        lines, net = per_day.get(r["order_date"], (0, 0))
        per_day[r["order_date"]] = (lines + r["line_count"], net + r["net_amount"])
    assert sorted(per_day) == DAYS
    facts = store.read(FACT_SALES)
    for day, (lines, net) in per_day.items():
        day_facts = facts.where(F.col("order_date") == F.lit(day))
        assert lines == day_facts.count()
        assert net == day_facts.agg(F.sum("net_amount")).first()[0]


def test_an_order_relanded_later_with_new_content_is_counted_once(day_by_day):
    """Newest version wins across dates in silver and gold, run day by day."""
    from lakehouse_assets.gold.tables import FACT_ORDERS
    from lakehouse_assets.silver.tables import LINE_ITEMS_QUARANTINE, ORDERS

    _, store, _, _ = day_by_day
    silver = store.read(ORDERS).where(F.col("order_id") == RELANDED).collect()
    assert [(r.order_date, r.total_price) for r in silver] == [(DAYS[1], Decimal("200.00"))]
    facts = store.read(FACT_ORDERS).where(F.col("order_id") == RELANDED).collect()
    assert [(r.order_date, r.total_price) for r in facts] == [(DAYS[1], Decimal("200.00"))]
    quarantined = store.read(LINE_ITEMS_QUARANTINE).where(F.col("order_id") == RELANDED)
    assert [r._failed_rules for r in quarantined.collect()] == [
        ["contract_line_number_in_range_1_7"]
    ]


def test_rematerializing_a_day_changes_nothing(day_by_day):
    _, store, before_rerun, rerun = day_by_day
    assert rerun.success
    bronze_meta = own_materialization(rerun, "bronze_orders").metadata
    assert bronze_meta["files_processed"].value == 0  # nothing new landed
    for spec in DATA_TABLES:
        assert _contents(store, spec) == before_rerun[spec], spec.qualified_name
    events = store.read(INGESTION_EVENTS).where(F.col("run_id") == rerun.run_id).collect()
    assert sorted(e.source for e in events) == sorted(s.name for s in ALL_SOURCES)
    assert all(e.files_processed == 0 and e.status == "succeeded" for e in events)


def test_single_run_backfill_equals_the_one_day_runs(spark, day_by_day, landing, tmp_path_factory):
    _, day_store, _, _ = day_by_day
    settings = settings_for(tmp_path_factory.mktemp("backfill"), landing)
    result = materialize_range(settings, DAYS[0], DAYS[-1], selection=TABLE_ASSET_NAMES)
    assert result.success
    # One run, one step per asset, each covering the whole range.
    materializations = [
        m
        for m in result.asset_materializations_for_node("fact_sales")
        if m.asset_key.to_user_string() == "fact_sales"  # not its side table's
    ]
    assert {m.partition for m in materializations} == {d.isoformat() for d in DAYS}
    backfill_store = DeltaTableStore(spark, PathLocator(settings.root))
    for spec in DATA_TABLES:
        assert _contents(backfill_store, spec) == _contents(day_store, spec), spec.qualified_name


def test_materialization_metadata_and_checks(day_by_day):
    settings, _, _, rerun = day_by_day
    meta = own_materialization(rerun, "fact_sales").metadata
    assert meta["partition"].value == DAYS[-1].isoformat()
    assert meta["table_location"].value == f"{settings.root}/gold/fact_sales"
    assert meta["dagster/partition_row_count"].value > 0
    assert meta["delta_version"].value >= 2
    assert "net_amount" in {c.name for c in meta["dagster/column_schema"].value.columns}
    evaluations = rerun.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    assert {e.check_name for e in evaluations} >= {
        "landed_files_ingested",
        "order_id_unique",
        "line_key_unique",
        "fact_sales_grain_unique",
        "fact_sales_reconciles_with_silver",
        "agg_daily_sales_reconciles_with_fact",
    }


def test_a_rerun_rewrites_no_dimension_whose_inputs_are_unchanged(day_by_day):
    """The re-run day landed no new snapshot: the snapshot dimensions and the date dimension
    are not rebuilt or rewritten, and their checks still judge the table as it stands."""
    from lakehouse_assets.gold import tables as gold

    _, store, _, rerun = day_by_day
    evaluations = {e.check_name: e.passed for e in rerun.get_asset_check_evaluations()}
    for spec in (gold.DIM_DATE, gold.DIM_GEOGRAPHY, gold.DIM_PRODUCT, gold.DIM_SUPPLIER):
        meta = own_materialization(rerun, spec.name).metadata
        assert meta["rewritten"].value is False, spec.name
        # No commit since the write the re-run stood on, which recorded those same inputs.
        assert meta["delta_version"].value == store.version(spec), spec.name
        assert store.last_commit_metadata(spec) == meta["built_from"].value, spec.name
        own = [name for name in evaluations if name.startswith(spec.name)]
        assert own and all(evaluations[name] for name in own), spec.name


def test_other_engines_read_the_tables_at_the_path_contract(day_by_day):
    """delta-rs finds the table at <root>/<layer>/<table>; DuckDB queries it through delta-rs."""
    from deltalake import DeltaTable

    settings, store, _, _ = day_by_day
    dataset = DeltaTable(f"{settings.root}/gold/fact_sales").to_pyarrow_dataset()  # noqa: F841
    duck = dict(
        duckdb.sql("SELECT order_date, sum(net_amount) FROM dataset GROUP BY ALL").fetchall()
    )
    spark_totals = {
        r["order_date"]: r["net"]
        for r in store.read(FACT_SALES)
        .groupBy("order_date")
        .agg(F.sum("net_amount").alias("net"))
        .collect()
    }
    assert duck == spark_totals and len(duck) == len(DAYS)


@pytest.fixture(scope="module")
def spark_connect_url(tmp_path_factory):
    """A local Spark Connect server (PySpark's own, with Delta) for this module's tests."""
    with connect_server(tmp_path_factory.mktemp("spark_connect")) as url:
        yield url


def test_the_slice_through_spark_connect_builds_the_same_tables(
    spark, day_by_day, landing, spark_connect_url, tmp_path_factory
):
    """Every table asset over both days as one run through a Spark Connect server, the way
    Databricks serverless and Databricks Connect run code: the same tables, row for row, as
    the classic session's day-by-day runs. A process that opens a Connect session switches
    PySpark to Connect for good, so the run has a process of its own."""
    _, day_store, _, _ = day_by_day
    root = tmp_path_factory.mktemp("through_connect")
    env = {
        **os.environ,
        "LAKEHOUSE_ENV": "local",
        "LAKEHOUSE_SPARK_REMOTE": spark_connect_url,
        "LAKEHOUSE_ROOT": str(root),
        "LAKEHOUSE_LANDING_ROOT": str(landing),
    }
    env.pop("LAKEHOUSE_CHECKPOINT_ROOT", None)
    first, last = DAYS[0].isoformat(), DAYS[-1].isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse_assets_tests.connect_run", first, last],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["session"] == "pyspark.sql.connect.session.SparkSession"
    assert outcome["ok"], outcome["failures"]
    connect_store = DeltaTableStore(spark, PathLocator(str(root)))
    for spec in DATA_TABLES:
        assert _contents(connect_store, spec) == _contents(day_store, spec), spec.qualified_name
