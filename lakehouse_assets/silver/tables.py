"""Silver table specs."""

from __future__ import annotations

from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage import TableSpec
from lakehouse_assets.storage.delta_tables import ROW_LEVEL_CHANGE_PROPERTIES

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

CUSTOMER_EVENTS = TableSpec(
    layer="silver",
    name="customer_events",
    # Clustered by key: a run looks up the earlier events of the customers its window touches,
    # and OPTIMIZE (the daily maintenance) lays each customer's events into few files.
    cluster_by=("customer_id", "_landing_date"),
    comment=(
        "Customer change events, cleansed and typed, one row per landed event (duplicates "
        "and invalid events included): the per-customer log silver_customers replays. Each "
        "landing date is replaced by its run; _event_id identifies an event."
    ),
    properties=ROW_LEVEL_CHANGE_PROPERTIES,
    contains_pii=True,
)

CUSTOMERS = TableSpec(
    layer="silver",
    name="customers",
    comment=(
        "Customers, SCD type 1: the current state of every live customer_id after applying its "
        "change events in sequence order; deleted customers are absent."
    ),
    cluster_by=("customer_id",),
    properties=ROW_LEVEL_CHANGE_PROPERTIES,
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
    cluster_by=("customer_id",),
    properties=ROW_LEVEL_CHANGE_PROPERTIES,
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
