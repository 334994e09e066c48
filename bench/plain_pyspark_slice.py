"""The foundation slice as a hand-written PySpark + Delta script: the baseline of the benchmark.

Same input files, same transformations and writes as the Dagster assets, none of the framework:
no stream/checkpoint, no file ledger, no checks, no metadata.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lakehouse_assets.bronze.sources import LINEITEM, ORDERS
from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders


def run_plain_slice(spark: SparkSession, landing_root: str, out_root: str) -> dict[str, int]:
    """Build bronze, silver and gold for every landed day; return row counts per table."""
    counts = {}
    for source in (ORDERS, LINEITEM):
        raw = (
            spark.read.schema(source.schema)
            .json(f"{landing_root}/{source.name}/*/*.jsonl")
            .withColumn("_source_file", F.col("_metadata.file_path"))
            .withColumn(
                "_landing_date",
                F.to_date(F.regexp_extract("_source_file", r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1)),
            )
            .withColumn("_ingestion_timestamp", F.current_timestamp())
            .withColumn("_ingestion_date", F.current_date())
            .withColumn("_batch_id", F.lit("plain"))
        )
        raw.write.format("delta").partitionBy("_ingestion_date").save(
            f"{out_root}/bronze/{source.name}"
        )
    bronze = {
        s.name: spark.read.format("delta").load(f"{out_root}/bronze/{s.name}")
        for s in (ORDERS, LINEITEM)
    }
    silver_orders = cleanse_orders(bronze["orders"])
    silver_lines = cleanse_line_items(bronze["lineitem"])
    silver_orders.write.format("delta").partitionBy("order_date").save(f"{out_root}/silver/orders")
    silver_lines.write.format("delta").partitionBy("order_date").save(
        f"{out_root}/silver/line_items"
    )
    orders = spark.read.format("delta").load(f"{out_root}/silver/orders")
    lines = spark.read.format("delta").load(f"{out_root}/silver/line_items")
    gross = F.col("extended_price")
    net = gross * (1 - F.col("discount_rate"))
    fact = lines.join(orders.select("order_id", "customer_id"), "order_id", "left").select(
        F.date_format("order_date", "yyyyMMdd").cast("int").alias("date_key"),
        "order_id",
        "line_number",
        "customer_id",
        "part_id",
        "supplier_id",
        "quantity",
        "discount_rate",
        "tax_rate",
        *[
            F.round(amount, 2).cast("decimal(18,2)").alias(name)
            for name, amount in (
                ("gross_amount", gross),
                ("discount_amount", gross * F.col("discount_rate")),
                ("net_amount", net),
                ("tax_amount", net * F.col("tax_rate")),
                ("total_amount", net * (1 + F.col("tax_rate"))),
            )
        ],
        "order_date",
    )
    fact.write.format("delta").partitionBy("order_date").save(f"{out_root}/gold/fact_sales")
    facts = spark.read.format("delta").load(f"{out_root}/gold/fact_sales")
    daily = facts.groupBy("order_date").agg(
        F.count(F.lit(1)).alias("line_count"), F.sum("net_amount").alias("net_amount")
    )
    daily.write.format("delta").partitionBy("order_date").save(f"{out_root}/gold/agg_daily_sales")
    for table in (
        "bronze/orders",
        "bronze/lineitem",
        "silver/orders",
        "silver/line_items",
        "gold/fact_sales",
        "gold/agg_daily_sales",
    ):
        counts[table] = spark.read.format("delta").load(f"{out_root}/{table}").count()
    return counts
