"""Silver assets: cleansed, typed, deduplicated orders and line items per order date, and
customers from their change events (CDC into SCD1 and SCD2)."""

from dagster import AssetExecutionContext, MaterializeResult
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import log_other_partitions_changed, spark_asset, spark_step
from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.contracts import SilverLineItem, SilverOrder
from lakehouse_assets.silver.customer_publish import customer_check_specs, publish_silver_customers
from lakehouse_assets.silver.publish import SilverTarget, publish_silver_window
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


def _moved_keys_reporter(context: AssetExecutionContext):  # type: ignore[no-untyped-def]
    def report(dates):  # type: ignore[no-untyped-def]
        log_other_partitions_changed(
            context, dates, "older versions of keys whose newest version landed later deleted"
        )

    return report


@spark_asset(
    name="silver_orders",
    layer="silver",
    description=(
        "Orders of the order date: the latest version per order_id across all dates, typed "
        "and trimmed; rows breaking a rule or the contract are quarantined."
    ),
    deps=["bronze_orders"],
    check_specs=ORDERS.check_specs("silver_orders"),
)
def silver_orders(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    return publish_silver_window(
        step,
        context.run_id,
        ORDERS,
        bronze=step.store.read(bronze_table(sources.ORDERS)),
        in_window=F.expr(step.window.sql_predicate("o_orderdate")),
        cleanse=cleanse_orders,
        report_other_dates=_moved_keys_reporter(context),
    )


@spark_asset(
    name="silver_line_items",
    layer="silver",
    description=(
        "Order lines of the extract date: the latest version per (order_id, line_number) "
        "across all dates; rows breaking a rule or the contract are quarantined."
    ),
    deps=["bronze_lineitem"],
    check_specs=LINE_ITEMS.check_specs("silver_line_items"),
)
def silver_line_items(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    return publish_silver_window(
        step,
        context.run_id,
        LINE_ITEMS,
        bronze=step.store.read(bronze_table(sources.LINEITEM)),
        in_window=F.expr(step.window.sql_predicate("_landing_date")),
        cleanse=cleanse_line_items,
        report_other_dates=_moved_keys_reporter(context),
    )


@spark_asset(
    name="silver_customers",
    layer="silver",
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
