"""Pure DataFrame transformations from bronze to silver (no I/O: testable on any DataFrame)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

MONEY = DecimalType(18, 2)
RATE = DecimalType(4, 2)
LINEAGE_COLUMNS = ("_source_file", "_batch_id", "_ingestion_timestamp", "_processing_timestamp")


def latest_per_key(df: DataFrame, keys: Sequence[str], newest_first: Sequence[Column]) -> DataFrame:
    """Keep one row per key: the first by ``newest_first`` ordering (ties broken by file)."""
    window = Window.partitionBy(*keys).orderBy(*newest_first, F.col("_source_file").desc())
    return df.withColumn("_rank", F.row_number().over(window)).where("_rank = 1").drop("_rank")


def _trimmed(name: str) -> Column:
    return F.trim(F.col(name))


def _lineage() -> list[Column]:
    return [
        F.col("_source_file"),
        F.col("_batch_id"),
        F.col("_ingestion_timestamp"),
        F.current_timestamp().alias("_processing_timestamp"),
    ]


def cleanse_orders(bronze_orders: DataFrame) -> DataFrame:
    """Bronze orders -> silver orders: snake_case names, money as decimal(18,2), latest per key."""
    latest = latest_per_key(bronze_orders, ["o_orderkey"], [F.col("_ingestion_timestamp").desc()])
    return latest.select(
        F.col("o_orderkey").alias("order_id"),
        F.col("o_custkey").alias("customer_id"),
        _trimmed("o_orderstatus").alias("order_status"),
        F.col("o_totalprice").cast(MONEY).alias("total_price"),
        F.col("o_orderdate").alias("order_date"),
        _trimmed("o_orderpriority").alias("order_priority"),
        _trimmed("o_clerk").alias("clerk"),
        F.col("o_shippriority").alias("ship_priority"),
        _trimmed("o_comment").alias("comment"),
        *_lineage(),
    )


def cleanse_line_items(bronze_lineitem: DataFrame) -> DataFrame:
    """Bronze line items -> silver line items; ``order_date`` comes from the daily extract."""
    latest = latest_per_key(
        bronze_lineitem, ["l_orderkey", "l_linenumber"], [F.col("_ingestion_timestamp").desc()]
    )
    return latest.select(
        F.col("l_orderkey").alias("order_id"),
        F.col("l_linenumber").alias("line_number"),
        F.col("l_partkey").alias("part_id"),
        F.col("l_suppkey").alias("supplier_id"),
        F.col("l_quantity").cast(MONEY).alias("quantity"),
        F.col("l_extendedprice").cast(MONEY).alias("extended_price"),
        # try_cast: an absurd rate becomes NULL for the quality rules instead of failing the run.
        F.col("l_discount").try_cast(RATE).alias("discount_rate"),
        F.col("l_tax").try_cast(RATE).alias("tax_rate"),
        _trimmed("l_returnflag").alias("return_flag"),
        _trimmed("l_linestatus").alias("line_status"),
        F.col("l_shipdate").alias("ship_date"),
        F.col("l_commitdate").alias("commit_date"),
        F.col("l_receiptdate").alias("receipt_date"),
        _trimmed("l_shipinstruct").alias("ship_instruct"),
        _trimmed("l_shipmode").alias("ship_mode"),
        _trimmed("l_comment").alias("comment"),
        F.col("_landing_date").alias("order_date"),
        *_lineage(),
    )
