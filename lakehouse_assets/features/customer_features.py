"""Point-in-time customer features: one snapshot per as-of date, from gold. Pure transforms.

A snapshot for day D sees only what was true on D: orders dated on or before D, and the
customer version in effect on D (segment and nation as they were then, not as they are now).
A snapshot is written once by its own partition run; an order that arrives late for an earlier
date reaches that date's facts but not an already-written snapshot, so a training set built
from snapshots never learns from the future. Re-running the partition is the explicit way to
let a snapshot see late data.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse_assets.gold.transforms import MONEY, commented
from lakehouse_assets.partitions import DateWindow

RECENT_DAYS = (30, 90)

# The numeric features drift is measured on (segment and nation are categorical).
NUMERIC_FEATURES = (
    "total_orders",
    "lifetime_value",
    "avg_order_value",
    "days_since_last_purchase",
    "orders_last_30_days",
    "orders_last_90_days",
)


def as_of_dates(window: DateWindow, spark_session: SparkSession) -> DataFrame:
    """One row per as-of date of ``window``."""
    return spark_session.createDataFrame([(day,) for day in window.days()], "as_of_date date")


def customer_orders(fact_orders: DataFrame, dim_customer: DataFrame) -> DataFrame:
    """``(customer_id, order_date, total_price)`` for orders whose customer is known.

    fact_orders carries the customer *version* key; every version of a customer maps back to
    the same natural key, so a customer's history is not split by a segment change.
    """
    versions = dim_customer.where("NOT is_unknown").select("customer_key", "customer_id")
    return fact_orders.join(F.broadcast(versions), "customer_key").select(
        "customer_id", "order_date", "total_price"
    )


def customers_as_of(
    dates: DataFrame, dim_customer: DataFrame, dim_geography: DataFrame
) -> DataFrame:
    """The customer version in effect on each as-of date, with its segment and nation."""
    versions = dim_customer.where("NOT is_unknown")
    in_effect = (versions["effective_start_date"] <= dates["as_of_date"]) & (
        dates["as_of_date"] < versions["effective_end_date"]
    )
    nations = dim_geography.select("geography_key", "nation_name")
    return (
        dates.join(versions, in_effect)
        .join(F.broadcast(nations), "geography_key", "left")
        .select("as_of_date", "customer_id", "customer_key", "market_segment", "nation_name")
    )


def _sum_if(condition: Column, value: Column) -> Column:
    return F.sum(F.when(condition, value))


def order_history_as_of(orders: DataFrame, dates: DataFrame) -> DataFrame:
    """Per as-of date and customer: order count, value, last date and recent counts.

    Each as-of date aggregates only orders dated on or before it (the point-in-time join);
    orders after the as-of date never reach its snapshot.
    """
    visible = orders.join(F.broadcast(dates), orders["order_date"] <= dates["as_of_date"])
    age = F.datediff("as_of_date", "order_date")
    return visible.groupBy("as_of_date", "customer_id").agg(
        F.count(F.lit(1)).alias("total_orders"),
        F.sum("total_price").alias("lifetime_value"),
        F.max("order_date").alias("last_purchase_date"),
        *[_sum_if(age < days, F.lit(1)).alias(f"orders_last_{days}_days") for days in RECENT_DAYS],
    )


def build_customer_features(
    fact_orders: DataFrame,
    dim_customer: DataFrame,
    dim_geography: DataFrame,
    window: DateWindow,
) -> DataFrame:
    """One row per as-of date of ``window`` and customer in effect on it.

    ``fact_orders`` must hold every order up to ``window.last``: lifetime features need the
    whole history, not the window's own days.
    """
    dates = as_of_dates(window, fact_orders.sparkSession)
    population = customers_as_of(dates, dim_customer, dim_geography)
    history = order_history_as_of(customer_orders(fact_orders, dim_customer), dates)
    joined = population.join(history, ["as_of_date", "customer_id"], "left")
    total_orders = F.coalesce("total_orders", F.lit(0)).cast("int")
    lifetime_value = F.coalesce("lifetime_value", F.lit(0)).cast(MONEY)
    return joined.select(
        commented(F.col("as_of_date"), "as_of_date", "Snapshot date (partition column)."),
        commented(F.col("customer_id"), "customer_id", "Natural key: TPC-H customer key."),
        commented(
            F.col("customer_key"), "customer_key", "dim_customer version in effect that day."
        ),
        commented(F.col("market_segment"), "market_segment", "Segment as of the snapshot date."),
        commented(F.col("nation_name"), "nation_name", "Nation as of the snapshot date."),
        commented(total_orders, "total_orders", "Orders dated on or before the snapshot date."),
        commented(lifetime_value, "lifetime_value", "Sum of those orders' total price."),
        commented(
            F.when(total_orders > 0, lifetime_value / total_orders).cast(MONEY),
            "avg_order_value",
            "lifetime_value / total_orders (NULL without orders).",
        ),
        commented(F.col("last_purchase_date"), "last_purchase_date", "Latest order date."),
        commented(
            F.datediff("as_of_date", "last_purchase_date"),
            "days_since_last_purchase",
            "Days from the last order to the snapshot date (NULL without orders).",
        ),
        *[
            commented(
                F.coalesce(f"orders_last_{days}_days", F.lit(0)).cast("int"),
                f"orders_last_{days}_days",
                f"Orders dated in the {days} days ending on the snapshot date.",
            )
            for days in RECENT_DAYS
        ],
    )
