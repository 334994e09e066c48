"""Silver table specs."""

from __future__ import annotations

from lakehouse_assets.storage import TableSpec

ORDERS = TableSpec(
    layer="silver",
    name="orders",
    partition_by=("order_date",),
    comment="Orders: one row per order_id (latest landed version), typed and trimmed.",
)

LINE_ITEMS = TableSpec(
    layer="silver",
    name="line_items",
    partition_by=("order_date",),
    comment=(
        "Order lines: one row per (order_id, line_number), latest landed version. order_date "
        "is the order date of the daily extract the line arrived in."
    ),
)
