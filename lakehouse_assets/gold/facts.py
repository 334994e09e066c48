"""Gold facts: pure transforms from silver rows and gold dimensions to the star schema.

Foreign keys are surrogate keys resolved when the fact is built. A reference that is not in
its dimension yet resolves to the unknown member (-1); re-processing the fact's dates after the
dimension row arrived re-keys it (the ``*_unknown_members`` checks list the dates to re-run).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.gold.dimensions import UNKNOWN, UNKNOWN_KEY
from lakehouse_assets.gold.transforms import MONEY, commented, money


def date_key(column: str) -> Column:
    """``YYYYMMDD`` integer key of a DATE column (NULL stays NULL): joins ``dim_date``."""
    return F.date_format(column, "yyyyMMdd").cast("int")


def _known_key(column: str) -> Column:
    return F.coalesce(F.col(column), F.lit(UNKNOWN_KEY))


def resolve_customer_keys(orders: DataFrame, dim_customer: DataFrame) -> DataFrame:
    """``(order_id, customer_key)``: the customer version in effect at the end of the order date.

    An order dated before the customer's first version (the customer was loaded later than
    its first order) takes the first version; one dated after the customer was deleted takes
    the last. Only an order whose customer has no version at all gets the unknown member.
    """
    versions = dim_customer.where("NOT is_unknown").select(
        "customer_id", "customer_key", "effective_start_date", "effective_end_date"
    )
    candidates = orders.select("order_id", "customer_id", "order_date").join(
        versions, "customer_id", "left"
    )
    day, start = F.col("order_date"), F.col("effective_start_date")
    preference = F.struct(
        F.when((start <= day) & (day < F.col("effective_end_date")), 0)
        .when(day < start, 1)
        .otherwise(2),
        # Among versions starting after (before) the day, the nearest one.
        F.abs(F.datediff(day, start)),
    )
    chosen = candidates.groupBy("order_id").agg(
        F.min_by("customer_key", preference).alias("customer_key")
    )
    return chosen.select("order_id", _known_key("customer_key").alias("customer_key"))


def build_fact_orders(
    orders: DataFrame, line_items: DataFrame, customer_keys: DataFrame
) -> DataFrame:
    """One row per order: its customer version, attributes and totals of its lines."""
    lines = line_items.groupBy("order_id").agg(
        F.count(F.lit(1)).alias("line_count"),
        F.sum(money(F.col("extended_price") * (1 - F.col("discount_rate")))).alias("net"),
    )
    joined = orders.join(customer_keys, "order_id", "left").join(lines, "order_id", "left")
    return joined.select(
        commented(date_key("order_date"), "date_key", "Order date key (dim_date)."),
        commented(F.col("order_id"), "order_id", "Degenerate key: TPC-H order key."),
        commented(
            _known_key("customer_key"),
            "customer_key",
            "dim_customer version in effect on the order date (-1: customer unknown).",
        ),
        commented(F.col("order_status"), "order_status", "Order status (F, O, P)."),
        commented(F.col("order_priority"), "order_priority", "Order priority."),
        commented(F.col("ship_priority"), "ship_priority", "Shipping priority."),
        commented(F.col("clerk"), "clerk", "Clerk who took the order."),
        commented(F.col("total_price"), "total_price", "Order total as stated by the source."),
        commented(
            F.coalesce("line_count", F.lit(0)).cast("int"),
            "line_count",
            "Order lines in silver (0 while the lines are late).",
        ),
        commented(
            F.coalesce("net", F.lit(0)).cast(MONEY),
            "net_amount",
            "Sum of the lines' net amounts.",
        ),
        commented(F.col("order_date"), "order_date", "Order date (partition column)."),
    )


def build_fact_sales(
    line_items: DataFrame,
    fact_orders: DataFrame,
    dim_product: DataFrame,
    dim_supplier: DataFrame,
) -> DataFrame:
    """One row per order line with surrogate keys and the sales measures.

    The customer key comes from ``fact_orders`` (resolved once per order). A line whose order
    has not arrived keeps its row - revenue never disappears - on the unknown customer.
    """
    orders = fact_orders.select("order_id", "customer_key")
    products = dim_product.where("NOT is_unknown").select("part_id", "product_key")
    suppliers = dim_supplier.where("NOT is_unknown").select("supplier_id", "supplier_key")
    joined = (
        line_items.join(orders, "order_id", "left")
        .join(F.broadcast(products), "part_id", "left")
        .join(F.broadcast(suppliers), "supplier_id", "left")
    )
    gross = F.col("extended_price")
    net = gross * (F.lit(1) - F.col("discount_rate"))
    return joined.select(
        commented(date_key("order_date"), "date_key", "Order date key (dim_date)."),
        commented(F.col("order_id"), "order_id", "Degenerate key: TPC-H order key."),
        commented(F.col("line_number"), "line_number", "Degenerate key: line within the order."),
        commented(
            _known_key("customer_key"),
            "customer_key",
            "dim_customer version in effect on the order date (-1: unknown).",
        ),
        commented(_known_key("product_key"), "product_key", "dim_product key (-1: unknown)."),
        commented(_known_key("supplier_key"), "supplier_key", "dim_supplier key (-1: unknown)."),
        commented(date_key("ship_date"), "ship_date_key", "Ship date key (dim_date)."),
        commented(date_key("commit_date"), "commit_date_key", "Commit date key (dim_date)."),
        commented(date_key("receipt_date"), "receipt_date_key", "Receipt date key (dim_date)."),
        commented(F.col("return_flag"), "return_flag", "Return flag (R, A, N)."),
        commented(F.col("line_status"), "line_status", "Line status (O, F)."),
        commented(F.col("ship_mode"), "ship_mode", "Ship mode."),
        commented(F.col("quantity"), "quantity", "Quantity ordered."),
        commented(F.col("discount_rate"), "discount_rate", "Discount as a fraction (0.00-0.10)."),
        commented(F.col("tax_rate"), "tax_rate", "Tax as a fraction (0.00-0.08)."),
        commented(money(gross), "gross_amount", "Extended price before discount."),
        commented(
            money(gross * F.col("discount_rate")), "discount_amount", "gross * discount_rate."
        ),
        commented(money(net), "net_amount", "gross * (1 - discount_rate), to the cent."),
        commented(money(net * F.col("tax_rate")), "tax_amount", "net * tax_rate (unrounded net)."),
        commented(
            money(net * (F.lit(1) + F.col("tax_rate"))), "total_amount", "net * (1 + tax_rate)."
        ),
        commented(F.col("order_date"), "order_date", "Order date (partition column)."),
    )


def build_daily_sales(
    fact_sales: DataFrame, dim_customer: DataFrame, dim_geography: DataFrame
) -> DataFrame:
    """Totals per order date x customer nation x market segment, both as of the order date.

    Nation and segment come from the customer version each line was keyed to, so a customer
    who moves or changes segment later does not rewrite past days.
    """
    customers = dim_customer.select(
        "customer_key",
        "geography_key",
        F.coalesce("market_segment", F.lit(UNKNOWN)).alias("market_segment"),
    )
    nations = dim_geography.select("geography_key", "nation_name", "region_name")
    lines = fact_sales.join(F.broadcast(customers), "customer_key", "left").join(
        F.broadcast(nations), "geography_key", "left"
    )
    totals = lines.groupBy(
        "order_date", "date_key", "geography_key", "nation_name", "region_name", "market_segment"
    ).agg(
        F.count_distinct("order_id").alias("order_count"),
        F.count(F.lit(1)).alias("line_count"),
        *[
            F.sum(c).cast(MONEY).alias(c)
            for c in (
                "quantity",
                "gross_amount",
                "discount_amount",
                "net_amount",
                "tax_amount",
                "total_amount",
            )
        ],
    )
    return totals.select(
        commented(F.col("date_key"), "date_key", "Order date key (dim_date)."),
        commented(F.col("geography_key"), "geography_key", "Customer nation (dim_geography)."),
        commented(F.col("nation_name"), "nation_name", "Customer nation name."),
        commented(F.col("region_name"), "region_name", "Customer region name."),
        commented(F.col("market_segment"), "market_segment", "Customer market segment."),
        commented(F.col("order_count"), "order_count", "Distinct orders."),
        commented(F.col("line_count"), "line_count", "Order lines."),
        commented(F.col("quantity"), "quantity", "Sum of quantity."),
        commented(F.col("gross_amount"), "gross_amount", "Sum of gross_amount."),
        commented(F.col("discount_amount"), "discount_amount", "Sum of discount_amount."),
        commented(F.col("net_amount"), "net_amount", "Sum of net_amount."),
        commented(F.col("tax_amount"), "tax_amount", "Sum of tax_amount."),
        commented(F.col("total_amount"), "total_amount", "Sum of total_amount."),
        commented(F.col("order_date"), "order_date", "Order date (partition column)."),
    )
