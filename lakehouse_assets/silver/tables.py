"""Silver table specs."""

from __future__ import annotations

from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage import TableSpec

ORDERS = TableSpec(
    layer="silver",
    name="orders",
    cluster_by=("order_date",),
    comment="Orders: one row per order_id (latest landed version), typed and trimmed.",
)

LINE_ITEMS = TableSpec(
    layer="silver",
    name="line_items",
    cluster_by=("order_date",),
    comment=(
        "Order lines: one row per (order_id, line_number), latest landed version. order_date "
        "is the order date of the daily extract the line arrived in."
    ),
)


def quarantine_table(table: TableSpec) -> TableSpec:
    """Where the rows of ``table`` that failed a quarantine rule go (same layout)."""
    return TableSpec(
        layer=table.layer,
        name=f"{table.name}_quarantine",
        cluster_by=table.cluster_by,
        comment=(
            f"Rows of {table.qualified_name} held back by quarantine rules: the full row, "
            "_failed_rules (every rule it failed) and the _run_id that quarantined it."
        ),
        retention=RowRetention("quarantine", "_ingestion_timestamp"),
    )


ORDERS_QUARANTINE = quarantine_table(ORDERS)
LINE_ITEMS_QUARANTINE = quarantine_table(LINE_ITEMS)

CUSTOMERS = TableSpec(
    layer="silver",
    name="customers",
    comment=(
        "Customers, SCD type 1: the current state of every live customer_id after applying its "
        "change events in sequence order; deleted customers are absent."
    ),
    contains_pii=True,
)

CUSTOMER_HISTORY = TableSpec(
    layer="silver",
    name="customer_history",
    comment=(
        "Customers, SCD type 2: one version per change of a tracked column, valid from "
        "valid_from (inclusive) to valid_to (exclusive, NULL while current); a delete closes "
        "the current version. Untracked columns hold the version's latest value."
    ),
    contains_pii=True,
)

CUSTOMER_EVENTS_QUARANTINE = TableSpec(
    layer="silver",
    name="customer_events_quarantine",
    comment=(
        "Customer change events that were not applied, with _quarantine_reason: "
        "null_customer_id, null_sequence_num, null_event_ts, unknown_op or "
        "conflicting_duplicate_sequence (same customer and sequence, different content)."
    ),
    contains_pii=True,
    retention=RowRetention("quarantine", "_ingestion_timestamp"),
)
