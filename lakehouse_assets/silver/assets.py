"""Silver assets: cleansed, typed, deduplicated orders and line items per order date, and
customers from their change events (CDC into SCD1 and SCD2)."""

import datetime as dt
from collections.abc import Callable, Sequence

from dagster import AssetExecutionContext, MaterializeResult
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import log_other_partitions_changed, spark_asset, spark_step
from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.monitoring.tables import DQ_METRICS
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.contracts import SilverLineItem, SilverOrder
from lakehouse_assets.silver.customer_publish import customer_check_specs, publish_silver_customers
from lakehouse_assets.silver.publish import (
    SilverTarget,
    publish_silver_window,
    require_bronze_rows,
)
from lakehouse_assets.silver.rules import LINE_ITEM_RULES, ORDER_RULES
from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders

ORDERS = SilverTarget(
    tables.ORDERS,
    tables.ORDERS_QUARANTINE,
    ORDER_RULES,
    key_columns=("order_id",),
    bronze_key_columns=("o_orderkey",),
    key_check="order_id_unique",
    contract=SilverOrder,
    contract_check="silver_orders_contract",
)
LINE_ITEMS = SilverTarget(
    tables.LINE_ITEMS,
    tables.LINE_ITEMS_QUARANTINE,
    LINE_ITEM_RULES,
    key_columns=("order_id", "line_number"),
    bronze_key_columns=("l_orderkey", "l_linenumber"),
    key_check="line_key_unique",
    contract=SilverLineItem,
    contract_check="silver_line_items_contract",
)


def _publish_from_bronze(
    context: AssetExecutionContext,
    target: SilverTarget,
    source: sources.LandingSource,
    bronze_date_column: str,
    cleanse: Callable[[DataFrame], DataFrame],
) -> MaterializeResult:
    """Publish the run's window of ``target`` from all of ``source``'s bronze table (versions
    are compared across dates); dates that lost older versions are logged as changed."""
    step = spark_step(context)
    bronze = bronze_table(source)
    require_bronze_rows(step.store, bronze, step.window.first)

    def report_other_dates(dates: Sequence[dt.date]) -> None:
        log_other_partitions_changed(
            context, dates, "older versions of keys whose newest version landed later deleted"
        )

    return publish_silver_window(
        step,
        context.run_id,
        target,
        bronze=step.store.read(bronze),
        in_window=F.expr(step.window.sql_predicate(bronze_date_column)),
        cleanse=cleanse,
        report_other_dates=report_other_dates,
    )


@spark_asset(
    name="silver_orders",
    layer="silver",
    writes=(tables.ORDERS, tables.ORDERS_QUARANTINE, DQ_METRICS),
    description=(
        "Orders of the order date: the latest version per order_id across all dates, typed "
        "and trimmed; rows breaking a rule or the contract are quarantined."
    ),
    deps=["bronze_orders"],
    check_specs=ORDERS.check_specs("silver_orders"),
)
def silver_orders(context: AssetExecutionContext) -> MaterializeResult:
    return _publish_from_bronze(context, ORDERS, sources.ORDERS, "o_orderdate", cleanse_orders)


@spark_asset(
    name="silver_line_items",
    layer="silver",
    writes=(tables.LINE_ITEMS, tables.LINE_ITEMS_QUARANTINE, DQ_METRICS),
    description=(
        "Order lines of the extract date: the latest version per (order_id, line_number) "
        "across all dates; rows breaking a rule or the contract are quarantined."
    ),
    deps=["bronze_lineitem"],
    check_specs=LINE_ITEMS.check_specs("silver_line_items"),
)
def silver_line_items(context: AssetExecutionContext) -> MaterializeResult:
    return _publish_from_bronze(
        context, LINE_ITEMS, sources.LINEITEM, "_landing_date", cleanse_line_items
    )


@spark_asset(
    name="silver_customers",
    layer="silver",
    writes=(
        tables.CUSTOMERS,
        tables.CUSTOMER_HISTORY,
        tables.CUSTOMER_EVENTS,
        tables.CUSTOMER_EVENTS_QUARANTINE,
        DQ_METRICS,
    ),
    description=(
        "Customer change events of the landing date applied as CDC: SCD1 silver.customers and "
        "SCD2 silver.customer_history (consumed by gold dim_customer)."
    ),
    deps=["bronze_customer_events"],
    check_specs=customer_check_specs("silver_customers"),
)
def silver_customers(context: AssetExecutionContext) -> MaterializeResult:
    return publish_silver_customers(spark_step(context), context.run_id)


silver_assets = [silver_orders, silver_line_items, silver_customers]
