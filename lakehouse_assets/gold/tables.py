"""Gold table specs."""

from __future__ import annotations

from lakehouse_assets.storage import TableSpec

FACT_SALES = TableSpec(
    layer="gold",
    name="fact_sales",
    partition_by=("order_date",),
    comment=(
        "Sales at the grain of one order line. Amounts are decimal(18,2), rounded half-up to "
        "the cent per line; discount_rate and tax_rate allow exact recomputation."
    ),
)

AGG_DAILY_SALES = TableSpec(
    layer="gold",
    name="agg_daily_sales",
    partition_by=("order_date",),
    comment="Daily sales totals: one row per order date.",
)
