"""The gold star build as a hand-written PySpark + Delta script: the gold benchmark's baseline.

Reads the same silver and bronze tables as the assets and writes the same dimensions and the
same fact_sales (same surrogate keys, same point-in-time customer version, same amounts) with
plain DataFrame code: no checks, no contracts, no version log, no metadata, no comments.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F


def _latest(df: DataFrame, key: str) -> DataFrame:
    w = Window.partitionBy(key).orderBy(
        F.col("_landing_date").desc(), F.col("_ingestion_timestamp").desc()
    )
    return df.withColumn("_r", F.row_number().over(w)).where("_r = 1").drop("_r")


def _save(df: DataFrame, path: str, partition: str | None = None) -> None:
    writer = df.write.format("delta").mode("overwrite")
    (writer.partitionBy(partition) if partition else writer).save(path)


def run_plain_gold(spark: SparkSession, root: str, out: str) -> dict[str, int]:
    """Build the dimensions and fact_sales from ``root``'s bronze/silver into ``out``."""
    load = lambda path: spark.read.format("delta").load(f"{root}/{path}")  # noqa: E731

    nations = _latest(load("bronze/nation"), "n_nationkey")
    regions = _latest(load("bronze/region"), "r_regionkey")
    geography = nations.join(regions, nations.n_regionkey == regions.r_regionkey, "left").select(
        F.xxhash64(F.lit("geography"), "n_nationkey").alias("geography_key"),
        F.col("n_nationkey").alias("nation_id"),
        F.trim("n_name").alias("nation_name"),
        F.trim("r_name").alias("region_name"),
    )
    _save(geography, f"{out}/dim_geography")
    geo = spark.read.format("delta").load(f"{out}/dim_geography")

    products = _latest(load("bronze/part"), "p_partkey").select(
        F.xxhash64(F.lit("product"), "p_partkey").alias("product_key"),
        F.col("p_partkey").alias("part_id"),
        F.trim("p_name").alias("product_name"),
        F.trim("p_brand").alias("brand"),
        F.trim("p_type").alias("product_type"),
    )
    _save(products, f"{out}/dim_product")
    suppliers = (
        _latest(load("bronze/supplier"), "s_suppkey")
        .join(geo.select("geography_key", F.col("nation_id").alias("s_nationkey")), "s_nationkey")
        .select(
            F.xxhash64(F.lit("supplier"), "s_suppkey").alias("supplier_key"),
            F.col("s_suppkey").alias("supplier_id"),
            F.trim("s_name").alias("supplier_name"),
            "geography_key",
        )
    )
    _save(suppliers, f"{out}/dim_supplier")
    customers = (
        load("silver/customer_history")
        .join(geo.select("geography_key", "nation_id"), "nation_id", "left")
        .select(
            F.xxhash64(F.lit("customer"), "customer_id", "_start_sequence").alias("customer_key"),
            "customer_id",
            "name",
            "market_segment",
            "geography_key",
            F.to_date("valid_from").alias("start_date"),
            F.coalesce(F.to_date("valid_to"), F.lit("9999-12-31").cast("date")).alias("end_date"),
        )
    )
    _save(customers, f"{out}/dim_customer")

    versions = spark.read.format("delta").load(f"{out}/dim_customer")
    orders = load("silver/orders").select("order_id", "customer_id", "order_date")
    candidates = orders.join(versions, "customer_id", "left")
    day, start = F.col("order_date"), F.col("start_date")
    rank = F.struct(
        F.when((start <= day) & (day < F.col("end_date")), 0).when(day < start, 1).otherwise(2),
        F.abs(F.datediff(day, start)),
    )
    order_keys = candidates.groupBy("order_id").agg(F.min_by("customer_key", rank).alias("ck"))

    lines = load("silver/line_items")
    dim_p = spark.read.format("delta").load(f"{out}/dim_product").select("part_id", "product_key")
    dim_s = spark.read.format("delta").load(f"{out}/dim_supplier")
    gross = F.col("extended_price")
    net = gross * (1 - F.col("discount_rate"))
    cents = lambda c: F.round(c, 2).cast("decimal(18,2)")  # noqa: E731
    day_key = lambda c: F.date_format(c, "yyyyMMdd").cast("int")  # noqa: E731
    fact = (
        lines.join(order_keys, "order_id", "left")
        .join(F.broadcast(dim_p), "part_id", "left")
        .join(F.broadcast(dim_s.select("supplier_id", "supplier_key")), "supplier_id", "left")
        .select(
            day_key("order_date").alias("date_key"),
            "order_id",
            "line_number",
            F.coalesce("ck", F.lit(-1)).alias("customer_key"),
            F.coalesce("product_key", F.lit(-1)).alias("product_key"),
            F.coalesce("supplier_key", F.lit(-1)).alias("supplier_key"),
            day_key("ship_date").alias("ship_date_key"),
            day_key("commit_date").alias("commit_date_key"),
            day_key("receipt_date").alias("receipt_date_key"),
            "return_flag",
            "line_status",
            "ship_mode",
            "quantity",
            "discount_rate",
            "tax_rate",
            cents(gross).alias("gross_amount"),
            cents(gross * F.col("discount_rate")).alias("discount_amount"),
            cents(net).alias("net_amount"),
            cents(net * F.col("tax_rate")).alias("tax_amount"),
            cents(net * (1 + F.col("tax_rate"))).alias("total_amount"),
            "order_date",
        )
    )
    _save(fact, f"{out}/fact_sales", "order_date")
    return {
        name: spark.read.format("delta").load(f"{out}/{name}").count()
        for name in ("dim_geography", "dim_product", "dim_supplier", "dim_customer", "fact_sales")
    }
