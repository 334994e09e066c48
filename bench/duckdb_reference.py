"""The fact-table build in DuckDB on the same files: the single-machine speed reference.

Both engines build gold.fact_orders (the customer version in effect on each order date) and
gold.fact_sales (every line with its surrogate keys and amounts) from the same silver and
dimension tables: the Parquet files of the tables' current Delta snapshots. Spark writes Delta,
DuckDB writes Parquet, both partitioned by order date. The results are compared by row count
and net amount, so a faster engine cannot win by doing less.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession

FACT_INPUTS = {
    "orders": "silver/orders",
    "line_items": "silver/line_items",
    "dim_customer": "gold/dim_customer",
    "dim_product": "gold/dim_product",
    "dim_supplier": "gold/dim_supplier",
}

CUSTOMER_KEYS_SQL = """
CREATE TEMP TABLE order_keys AS
SELECT o.order_id,
       coalesce(arg_min(v.customer_key,
           CASE WHEN v.effective_start_date <= o.order_date
                 AND o.order_date < v.effective_end_date THEN 0
                WHEN o.order_date < v.effective_start_date THEN 1
                ELSE 2 END * 1000000
           + abs(date_diff('day', v.effective_start_date, o.order_date))), -1) AS customer_key
FROM orders o
LEFT JOIN (SELECT * FROM dim_customer WHERE NOT is_unknown) v USING (customer_id)
GROUP BY o.order_id
"""

FACT_ORDERS_SQL = """
SELECT CAST(strftime(o.order_date, '%Y%m%d') AS INTEGER) AS date_key, o.order_id,
       coalesce(k.customer_key, -1) AS customer_key, o.order_status, o.order_priority,
       o.ship_priority, o.clerk, o.total_price,
       CAST(coalesce(l.line_count, 0) AS INTEGER) AS line_count,
       CAST(coalesce(l.net, 0) AS DECIMAL(18, 2)) AS net_amount, o.order_date
FROM orders o
LEFT JOIN order_keys k USING (order_id)
LEFT JOIN (
    SELECT order_id, count(*) AS line_count,
           sum(CAST(round(extended_price * (1 - discount_rate), 2) AS DECIMAL(18, 2))) AS net
    FROM line_items GROUP BY order_id
) l USING (order_id)
"""

FACT_SALES_SQL = """
SELECT CAST(strftime(l.order_date, '%Y%m%d') AS INTEGER) AS date_key, l.order_id, l.line_number,
       coalesce(k.customer_key, -1) AS customer_key, coalesce(p.product_key, -1) AS product_key,
       coalesce(s.supplier_key, -1) AS supplier_key,
       CAST(strftime(l.ship_date, '%Y%m%d') AS INTEGER) AS ship_date_key,
       CAST(strftime(l.commit_date, '%Y%m%d') AS INTEGER) AS commit_date_key,
       CAST(strftime(l.receipt_date, '%Y%m%d') AS INTEGER) AS receipt_date_key,
       l.return_flag, l.line_status, l.ship_mode, l.quantity, l.discount_rate, l.tax_rate,
       CAST(round(l.extended_price, 2) AS DECIMAL(18, 2)) AS gross_amount,
       CAST(round(l.extended_price * l.discount_rate, 2) AS DECIMAL(18, 2)) AS discount_amount,
       CAST(round(l.extended_price * (1 - l.discount_rate), 2) AS DECIMAL(18, 2)) AS net_amount,
       CAST(round(l.extended_price * (1 - l.discount_rate) * l.tax_rate, 2) AS DECIMAL(18, 2))
           AS tax_amount,
       CAST(round(l.extended_price * (1 - l.discount_rate) * (1 + l.tax_rate), 2)
           AS DECIMAL(18, 2)) AS total_amount,
       l.order_date
FROM line_items l
LEFT JOIN order_keys k USING (order_id)
LEFT JOIN (SELECT part_id, product_key FROM dim_product WHERE NOT is_unknown) p USING (part_id)
LEFT JOIN (SELECT supplier_id, supplier_key FROM dim_supplier WHERE NOT is_unknown) s
    USING (supplier_id)
"""


def delta_files(table_path: Path) -> list[str]:
    """The Parquet files of the table's current Delta snapshot (what a reader of it sees)."""
    from deltalake import DeltaTable

    return DeltaTable(str(table_path)).file_uris()


def duckdb_fact_build(root: Path, out: Path) -> dict[str, Any]:
    """fact_orders and fact_sales in DuckDB from ``root``'s tables; seconds and fingerprint."""
    import duckdb

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    started = time.perf_counter()
    con = duckdb.connect()
    try:
        for view, table in FACT_INPUTS.items():
            files = ", ".join(f"'{f}'" for f in delta_files(root / table))
            con.execute(
                f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}], "
                "hive_partitioning = true, hive_types = {'order_date': DATE})"
                if table.startswith("silver")
                else f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{files}])"
            )
        con.execute(CUSTOMER_KEYS_SQL)
        for name, sql in (("fact_orders", FACT_ORDERS_SQL), ("fact_sales", FACT_SALES_SQL)):
            con.execute(
                f"COPY ({sql}) TO '{out / name}' (FORMAT PARQUET, PARTITION_BY (order_date))"
            )
        seconds = time.perf_counter() - started
        rows, net = con.execute(
            f"SELECT count(*), sum(net_amount) FROM read_parquet('{out}/fact_sales/**/*.parquet')"
        ).fetchone()
    finally:
        con.close()
    return {"seconds": seconds, "fact_sales_rows": rows, "fact_sales_net": str(net)}


def spark_fact_build(spark: SparkSession, root: Path, out: Path) -> dict[str, Any]:
    """The same two facts with the project's builders and plain Delta writes."""
    from pyspark.sql import functions as F

    from lakehouse_assets.gold.facts import (
        build_fact_orders,
        build_fact_sales,
        resolve_customer_keys,
    )

    shutil.rmtree(out, ignore_errors=True)
    load = lambda table: spark.read.format("delta").load(str(root / table))  # noqa: E731
    started = time.perf_counter()
    orders, lines = load("silver/orders"), load("silver/line_items")
    keys = resolve_customer_keys(orders, load("gold/dim_customer"))
    fact_orders = build_fact_orders(orders, lines, keys).repartition("order_date")
    fact_orders.write.format("delta").partitionBy("order_date").save(str(out / "fact_orders"))
    fact_orders = spark.read.format("delta").load(str(out / "fact_orders"))
    sales = build_fact_sales(
        lines, fact_orders, load("gold/dim_product"), load("gold/dim_supplier")
    )
    sales = sales.repartition("order_date")
    sales.write.format("delta").partitionBy("order_date").save(str(out / "fact_sales"))
    seconds = time.perf_counter() - started
    row = (
        spark.read.format("delta")
        .load(str(out / "fact_sales"))
        .agg(F.count(F.lit(1)), F.sum("net_amount"))
        .first()
    )
    return {"seconds": seconds, "fact_sales_rows": row[0], "fact_sales_net": str(row[1])}
