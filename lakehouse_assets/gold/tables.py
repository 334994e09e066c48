"""Gold table specs."""

from __future__ import annotations

from lakehouse_assets.storage import TableSpec

FACT_ORDERS = TableSpec(
    layer="gold",
    name="fact_orders",
    cluster_by=("order_date",),
    comment=(
        "Orders at the grain of one order, keyed to the customer version in effect on the "
        "order date, with the source's total price and the net amount of its lines."
    ),
)

FACT_SALES = TableSpec(
    layer="gold",
    name="fact_sales",
    cluster_by=("order_date",),
    comment=(
        "Sales at the grain of one order line, keyed to the dimensions as of the order date "
        "(-1 = unknown member). Amounts are decimal(18,2), rounded half-up to the cent per "
        "line; discount_rate and tax_rate allow exact recomputation."
    ),
)

AGG_DAILY_SALES = TableSpec(
    layer="gold",
    name="agg_daily_sales",
    cluster_by=("order_date",),
    comment=(
        "Daily sales per customer nation and market segment, both as of the order date: one "
        "row per order date x geography_key x market_segment."
    ),
)

DIM_DATE = TableSpec(
    layer="gold",
    name="dim_date",
    comment=(
        "Date dimension: one row per calendar day of the business date range (1992 to the "
        "year after the newest partition; every order, ship and receipt date), keyed by "
        "date_key = YYYYMMDD, with fiscal periods and holidays."
    ),
)

DIM_GEOGRAPHY = TableSpec(
    layer="gold",
    name="dim_geography",
    comment="Geography dimension: one row per nation with its region, plus the unknown member.",
)

DIM_PRODUCT = TableSpec(
    layer="gold",
    name="dim_product",
    comment="Product dimension: one row per TPC-H part (latest snapshot), plus the unknown member.",
)

DIM_SUPPLIER = TableSpec(
    layer="gold",
    name="dim_supplier",
    comment=(
        "Supplier dimension: one row per TPC-H supplier (latest snapshot) with its geography "
        "key, plus the unknown member."
    ),
    contains_pii=True,
)

DIM_CUSTOMER = TableSpec(
    layer="gold",
    name="dim_customer",
    comment=(
        "Customer dimension, SCD type 2: one row per customer version with stable surrogate "
        "customer_key, effective_start_date / effective_end_date (exclusive) and is_current, "
        "plus the unknown member."
    ),
    contains_pii=True,
)
