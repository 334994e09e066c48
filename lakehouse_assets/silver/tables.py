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


def quarantine_table(table: TableSpec) -> TableSpec:
    """Where the rows of ``table`` that failed a quarantine rule go (same partitioning)."""
    return TableSpec(
        layer=table.layer,
        name=f"{table.name}_quarantine",
        partition_by=table.partition_by,
        comment=(
            f"Rows of {table.qualified_name} held back by quarantine rules: the full row, "
            "_failed_rules (every rule it failed) and the _run_id that quarantined it."
        ),
    )


ORDERS_QUARANTINE = quarantine_table(ORDERS)
LINE_ITEMS_QUARANTINE = quarantine_table(LINE_ITEMS)
