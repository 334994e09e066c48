"""Pure DataFrame transformations from silver to gold."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

MONEY = DecimalType(18, 2)


def _money(amount: Column) -> Column:
    """Round half-up to the cent and store as decimal(18,2)."""
    return F.round(amount, 2).cast(MONEY)


def commented(column: Column, name: str, comment: str) -> Column:
    """``column`` named ``name`` with a column comment (it travels into the Delta schema)."""
    return column.alias(name, metadata={"comment": comment})


def build_fact_sales(line_items: DataFrame, orders: DataFrame) -> DataFrame:
    """One row per order line with its order's attributes and the sales measures.

    A line whose order is not (yet) in silver keeps its row with a NULL customer_id rather than
    disappearing from revenue; the reconciliation check counts rows on both sides.
    """
    o = orders.select("order_id", "customer_id", "order_status", "order_priority")
    joined = line_items.join(o, "order_id", "left")
    gross = F.col("extended_price")
    net = gross * (F.lit(1) - F.col("discount_rate"))
    return joined.select(
        commented(
            F.date_format("order_date", "yyyyMMdd").cast("int"),
            "date_key",
            "Order date as YYYYMMDD.",
        ),
        commented(F.col("order_id"), "order_id", "Degenerate key: TPC-H order key."),
        commented(F.col("line_number"), "line_number", "Degenerate key: line within the order."),
        commented(F.col("customer_id"), "customer_id", "Natural key of the ordering customer."),
        commented(F.col("part_id"), "part_id", "Natural key of the part sold."),
        commented(F.col("supplier_id"), "supplier_id", "Natural key of the supplier."),
        commented(F.col("order_status"), "order_status", "Order status (F, O, P)."),
        commented(F.col("order_priority"), "order_priority", "Order priority."),
        commented(F.col("quantity").cast(MONEY), "quantity", "Quantity ordered."),
        commented(F.col("discount_rate"), "discount_rate", "Discount as a fraction (0.00-0.10)."),
        commented(F.col("tax_rate"), "tax_rate", "Tax as a fraction (0.00-0.08)."),
        commented(_money(gross), "gross_amount", "Extended price before discount."),
        commented(
            _money(gross * F.col("discount_rate")), "discount_amount", "gross * discount_rate."
        ),
        commented(_money(net), "net_amount", "gross * (1 - discount_rate)."),
        commented(_money(net * F.col("tax_rate")), "tax_amount", "net * tax_rate (unrounded net)."),
        commented(
            _money(net * (F.lit(1) + F.col("tax_rate"))), "total_amount", "net * (1 + tax_rate)."
        ),
        commented(F.col("order_date"), "order_date", "Order date (partition column)."),
    )


def build_daily_sales(fact_sales: DataFrame) -> DataFrame:
    """Daily totals of ``fact_sales``: one row per order date."""
    return fact_sales.groupBy("order_date", "date_key").agg(
        F.count_distinct("order_id").alias("order_count"),
        F.count(F.lit(1)).alias("line_count"),
        F.sum("quantity").cast(MONEY).alias("quantity"),
        F.sum("gross_amount").cast(MONEY).alias("gross_amount"),
        F.sum("discount_amount").cast(MONEY).alias("discount_amount"),
        F.sum("net_amount").cast(MONEY).alias("net_amount"),
        F.sum("tax_amount").cast(MONEY).alias("tax_amount"),
        F.sum("total_amount").cast(MONEY).alias("total_amount"),
    )
