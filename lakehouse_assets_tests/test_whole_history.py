"""The whole TPC-H history through every asset, checked against independent engines.

TPC-H SF 0.01 is landed as daily files for all 2,406 order dates and every asset (bronze
streams, silver, dimensions, facts, data dictionary) is built for the whole range as one
window, once per module. Then:

* TPC-H Q1, Q3, Q5, Q6 and Q10 written against the star schema equal DuckDB running the official
  query texts (validation parameters) on the tpchgen Parquet files - money to the cent,
  averages to 1e-9 (SF 0.1 in a ``slow`` test);
* fact_sales per day equals DuckDB on the raw files, for every day;
* silver customers (SCD1/SCD2) and dim_customer equal a plain-Python CDC oracle fed the landed
  JSON; the reference dimensions equal the TPC-H tables;
* the data dictionary lists every table and the docs page is current.

The asset bodies are invoked directly (see ``invoke_in_dependency_order``); the Dagster run
path is tested on a few days in ``test_slice_end_to_end``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dagster import MaterializeResult
from pyspark.sql import functions as F

from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.catalog import lakehouse_tables
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.monitoring.data_dictionary import describe_lakehouse, table_markdown
from lakehouse_assets.monitoring.tables import DATA_DICTIONARY, DQ_METRICS
from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
from lakehouse_assets.sample_data import generate_tpch, land_tpch
from lakehouse_assets.silver import tables as silver_tables
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .cdc_oracle import apply_events, landed_events
from .lakehouse import failed_checks, invoke_in_dependency_order, settings_for
from .test_customer_cdc import scd1, scd2

pytestmark = pytest.mark.spark

OFFICIAL = {
    "q1": """
        SELECT l_returnflag, l_linestatus,
               round(sum(l_quantity), 2), round(sum(l_extendedprice), 2),
               round(sum(l_extendedprice * (1 - l_discount)), 2),
               round(sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)), 2),
               avg(l_quantity)::DOUBLE, avg(l_extendedprice)::DOUBLE, avg(l_discount)::DOUBLE,
               count(*)
        FROM lineitem
        WHERE l_shipdate <= DATE '1998-12-01' - INTERVAL 90 DAY
        GROUP BY l_returnflag, l_linestatus
        ORDER BY l_returnflag, l_linestatus""",
    "q3": """
        SELECT l_orderkey, round(sum(l_extendedprice * (1 - l_discount)), 2) AS revenue,
               o_orderdate, o_shippriority
        FROM customer, orders, lineitem
        WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
          AND o_orderdate < DATE '1995-03-15' AND l_shipdate > DATE '1995-03-15'
        GROUP BY l_orderkey, o_orderdate, o_shippriority
        ORDER BY revenue DESC, o_orderdate
        LIMIT 10""",
    "q5": """
        SELECT n_name, round(sum(l_extendedprice * (1 - l_discount)), 2) AS revenue
        FROM customer, orders, lineitem, supplier, nation, region
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
          AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey
          AND n_regionkey = r_regionkey AND r_name = 'ASIA'
          AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01'
        GROUP BY n_name
        ORDER BY revenue DESC""",
    "q6": """
        SELECT round(sum(l_extendedprice * l_discount), 2) AS revenue
        FROM lineitem
        WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'
          AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24""",
    "q10": """
        SELECT c_custkey, c_name, round(sum(l_extendedprice * (1 - l_discount)), 2) AS revenue,
               c_acctbal, n_name, c_address, c_phone, c_comment
        FROM customer, orders, lineitem, nation
        WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey
          AND o_orderdate >= DATE '1993-10-01' AND o_orderdate < DATE '1994-01-01'
          AND l_returnflag = 'R' AND c_nationkey = n_nationkey
        GROUP BY c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment
        ORDER BY revenue DESC
        LIMIT 20""",
}

# The same questions against the star schema: facts joined to dimensions by surrogate keys,
# dates filtered through dim_date (role-playing for the ship date).
STAR = {
    "q1": """
        SELECT f.return_flag, f.line_status,
               round(sum(f.quantity), 2), round(sum(f.gross_amount), 2),
               round(sum(f.gross_amount * (1 - f.discount_rate)), 2),
               round(sum(f.gross_amount * (1 - f.discount_rate) * (1 + f.tax_rate)), 2),
               avg(CAST(f.quantity AS DOUBLE)), avg(CAST(f.gross_amount AS DOUBLE)),
               avg(CAST(f.discount_rate AS DOUBLE)), count(*)
        FROM fact_sales f JOIN dim_date ship ON f.ship_date_key = ship.date_key
        WHERE ship.date <= DATE '1998-12-01' - INTERVAL 90 DAYS
        GROUP BY f.return_flag, f.line_status
        ORDER BY f.return_flag, f.line_status""",
    "q3": """
        SELECT f.order_id, round(sum(f.gross_amount * (1 - f.discount_rate)), 2) AS revenue,
               o.order_date, o.ship_priority
        FROM fact_sales f
        JOIN fact_orders o ON f.order_id = o.order_id
        JOIN dim_customer c ON f.customer_key = c.customer_key
        JOIN dim_date ship ON f.ship_date_key = ship.date_key
        WHERE c.market_segment = 'BUILDING'
          AND o.order_date < DATE '1995-03-15' AND ship.date > DATE '1995-03-15'
        GROUP BY f.order_id, o.order_date, o.ship_priority
        ORDER BY revenue DESC, o.order_date
        LIMIT 10""",
    "q5": """
        SELECT g.nation_name, round(sum(f.gross_amount * (1 - f.discount_rate)), 2) AS revenue
        FROM fact_sales f
        JOIN dim_customer c ON f.customer_key = c.customer_key
        JOIN dim_supplier s ON f.supplier_key = s.supplier_key
        JOIN dim_geography g ON c.geography_key = g.geography_key
        JOIN dim_date d ON f.date_key = d.date_key
        WHERE s.geography_key = c.geography_key AND g.region_name = 'ASIA' AND d.year = 1994
        GROUP BY g.nation_name
        ORDER BY revenue DESC""",
    "q6": """
        SELECT round(sum(f.gross_amount * f.discount_rate), 2) AS revenue
        FROM fact_sales f JOIN dim_date ship ON f.ship_date_key = ship.date_key
        WHERE ship.year = 1994
          AND f.discount_rate BETWEEN 0.05 AND 0.07 AND f.quantity < 24""",
    "q10": """
        SELECT c.customer_id, c.customer_name,
               round(sum(f.gross_amount * (1 - f.discount_rate)), 2) AS revenue,
               c.account_balance, g.nation_name, c.address, c.phone, c.comment
        FROM fact_sales f
        JOIN dim_customer c ON f.customer_key = c.customer_key
        JOIN dim_geography g ON c.geography_key = g.geography_key
        WHERE f.order_date >= DATE '1993-10-01' AND f.order_date < DATE '1994-01-01'
          AND f.return_flag = 'R'
        GROUP BY c.customer_id, c.customer_name, c.account_balance, c.phone, g.nation_name,
                 c.address, c.comment
        ORDER BY revenue DESC
        LIMIT 20""",
}

STAR_TABLES = (
    gold.FACT_SALES,
    gold.FACT_ORDERS,
    gold.DIM_CUSTOMER,
    gold.DIM_DATE,
    gold.DIM_GEOGRAPHY,
    gold.DIM_SUPPLIER,
    gold.DIM_PRODUCT,
)


def value(metadata_entry: object) -> object:
    """A metadata entry's value (raw, or wrapped in a MetadataValue)."""
    return getattr(metadata_entry, "value", metadata_entry)


def official_answers(tpch_dir: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    for table in ("lineitem", "orders", "customer", "supplier", "nation", "region"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM '{tpch_dir}/{table}.parquet'")
    return {name: con.execute(sql).fetchall() for name, sql in OFFICIAL.items()}


def star_answers(spark, root: Path) -> dict[str, list[tuple]]:
    store = DeltaTableStore(spark, PathLocator(str(root)))
    for spec in STAR_TABLES:
        store.read(spec).createOrReplaceTempView(spec.name)
    return {name: [tuple(r) for r in spark.sql(sql).collect()] for name, sql in STAR.items()}


def same_value(ours: object, official: object) -> bool:
    if isinstance(ours, float) or isinstance(official, float):
        return math.isclose(float(ours), float(official), rel_tol=1e-9)
    if isinstance(ours, Decimal) or isinstance(official, Decimal):
        return Decimal(str(ours)) == Decimal(str(official))
    if isinstance(official, str):
        return ours == official.strip()
    return ours == official


def assert_same_answers(ours: dict[str, list[tuple]], official: dict[str, list[tuple]]) -> None:
    for query, expected in official.items():
        got = ours[query]
        assert expected, f"{query}: the official query returned nothing (bad parameters?)"
        assert len(got) == len(expected), query
        for n, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert len(a) == len(b), query
            assert all(same_value(x, y) for x, y in zip(a, b, strict=True)), (query, n, a, b)


def build_whole_history(tpch_dir: Path, root: Path) -> dict[str, MaterializeResult]:
    land_tpch(tpch_dir, root / "landing", TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)
    # A history backfill takes each daily source's 2,406 files as one micro-batch.
    one_batch = {"max_files_per_trigger": 10_000}
    return invoke_in_dependency_order(
        settings_for(root / "lakehouse", root / "landing"),
        TPCH_FIRST_ORDER_DATE,
        TPCH_LAST_ORDER_DATE,
        asset_config={f"bronze_{s.name}": one_batch for s in ALL_SOURCES if s.daily_extract},
    )


@pytest.fixture(scope="module")
def history(spark, tpch_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("whole_history")
    results = build_whole_history(tpch_dir, root)
    return root, DeltaTableStore(spark, PathLocator(str(root / "lakehouse"))), results


def test_every_check_passes_on_the_whole_history(history):
    # Unknown members would be wrong here too: every TPC-H reference exists.
    _, _, results = history
    assert failed_checks(results) == {}
    assert "fact_sales_unknown_members" in {
        c.check_name for c in results["fact_sales"].check_results
    }


def test_star_schema_answers_tpch_queries_like_duckdb(spark, history, tpch_dir):
    root, _, _ = history
    assert_same_answers(star_answers(spark, root / "lakehouse"), official_answers(tpch_dir))


@pytest.mark.slow
def test_star_schema_answers_tpch_queries_like_duckdb_at_sf_0_1(spark, tmp_path):
    tpch_dir = generate_tpch(0.1, tmp_path / "tpch_sf0.1")
    results = build_whole_history(tpch_dir, tmp_path)
    assert failed_checks(results) == {}
    assert_same_answers(star_answers(spark, tmp_path / "lakehouse"), official_answers(tpch_dir))


def test_fact_sales_matches_duckdb_on_the_raw_files_every_day(history, tpch_dir):
    _, store, _ = history
    official = {
        day: (rows, Decimal(str(net)))
        for day, rows, net in duckdb.sql(
            f"""
            SELECT o_orderdate, count(*), sum(round(l_extendedprice * (1 - l_discount), 2))
            FROM '{tpch_dir}/lineitem.parquet' JOIN '{tpch_dir}/orders.parquet'
              ON l_orderkey = o_orderkey
            GROUP BY ALL"""
        ).fetchall()
    }
    ours = {
        r["order_date"]: (r["rows"], r["net"])
        for r in store.read(gold.FACT_SALES)
        .groupBy("order_date")
        .agg(F.count(F.lit(1)).alias("rows"), F.sum("net_amount").alias("net"))
        .collect()
    }
    assert len(ours) == len(official) > 2000
    assert ours == official


def test_silver_customers_and_dim_customer_match_the_cdc_oracle(history):
    root, store, results = history
    events = landed_events(root / "landing", TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)
    expected = apply_events(events)
    assert [e for e in events if e.op == "u"] and [e for e in events if e.op == "d"]
    assert scd1(store) == expected.scd1
    assert scd2(store) == expected.scd2
    assert len(expected.scd2) > len(expected.scd1)  # history beyond the current rows

    silver = results["silver_customers"]
    checks = {c.check_name: c for c in silver.check_results}
    accounting = checks["quality_accounting"].metadata
    assert value(accounting["input_rows"]) == len(events)
    assert value(accounting["unaccounted_rows"]) == 0
    assert value(silver.metadata["dagster/row_count"]) == len(expected.scd1)
    assert value(silver.metadata["history_rows"]) == len(expected.scd2)
    assert "customer_segment_known" in {r["rule"] for r in store.read(DQ_METRICS).collect()}
    assert store.read(silver_tables.CUSTOMER_EVENTS_QUARANTINE).count() == 0

    # gold.dim_customer: one row per SCD2 version plus the unknown member, with the nation's key.
    dim = store.read(gold.DIM_CUSTOMER)
    assert dim.count() == len(expected.scd2) + 1
    assert dim.where("geography_key = -1 AND NOT is_unknown").count() == 0
    current = {r["customer_id"] for r in dim.where("is_current AND NOT is_unknown").collect()}
    assert current == set(expected.scd1)


def test_reference_dimensions_match_the_tpch_tables(history, tpch_dir):
    _, store, _ = history

    def keys(spec, natural):
        return {r[natural]: r[0] for r in store.read(spec).collect()}

    geography = keys(gold.DIM_GEOGRAPHY, "nation_id")
    products = keys(gold.DIM_PRODUCT, "part_id")
    suppliers = keys(gold.DIM_SUPPLIER, "supplier_id")
    raw = f"read_parquet('{tpch_dir}/{{}}.parquet', hive_partitioning=false)"
    count = {
        t: duckdb.sql(f"SELECT count(*) FROM {raw.format(t)}").fetchall()[0][0]
        for t in ("nation", "part", "supplier")
    }
    # One row per source row plus the unknown member (natural key NULL, surrogate key -1).
    assert len(geography) == count["nation"] + 1
    assert len(products) == count["part"] + 1
    assert len(suppliers) == count["supplier"] + 1
    assert geography[None] == products[None] == suppliers[None] == -1
    germany = store.read(gold.DIM_GEOGRAPHY).where("nation_name = 'GERMANY'").first()
    assert germany["region_name"] == "EUROPE"
    nations = duckdb.sql(f"SELECT s_suppkey, s_nationkey FROM {raw.format('supplier')}").fetchall()
    by_key = {r["supplier_id"]: r["geography_key"] for r in store.read(gold.DIM_SUPPLIER).collect()}
    assert all(by_key[s] == geography[n] for s, n in nations)


def test_data_dictionary_lists_every_table_and_the_docs_page_is_current(history):
    _, store, results = history
    documented = {c.check_name: c for c in results["data_dictionary"].check_results}
    assert documented["gold_tables_documented"].passed
    rows = store.read(DATA_DICTIONARY).collect()
    assert {(r.layer, r.table_name) for r in rows} == {
        (s.layer, s.name) for s in lakehouse_tables() if store.exists(s)
    }
    customer_key = next(
        r for r in rows if r.table_name == "fact_sales" and r.column_name == "customer_key"
    )
    assert customer_key.data_type == "bigint" and "dim_customer" in customer_key.comment
    docs = (Path(__file__).parents[1] / "docs" / "data_dictionary.md").read_text()
    for table in describe_lakehouse(store, [s for s in lakehouse_tables() if s.layer == "gold"]):
        assert table_markdown(table) in docs, (
            f"docs/data_dictionary.md is stale for {table.qualified_name}: "
            "re-run `lakehouse data-dictionary --output docs/data_dictionary.md`"
        )
