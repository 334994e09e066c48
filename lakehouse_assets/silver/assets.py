"""Silver assets: cleansed, typed, deduplicated orders and line items per order date, and
customers from their change events (CDC into SCD1 and SCD2)."""

from dagster import AssetExecutionContext, MaterializeResult

from lakehouse_assets.asset_factory import spark_asset, spark_step
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
    key_check="order_id_unique",
    contract=SilverOrder,
    contract_check="silver_orders_contract",
)
LINE_ITEMS = SilverTarget(
    tables.LINE_ITEMS,
    tables.LINE_ITEMS_QUARANTINE,
    LINE_ITEM_RULES,
    key_columns=("order_id", "line_number"),
    key_check="line_key_unique",
    contract=SilverLineItem,
    contract_check="silver_line_items_contract",
)


@spark_asset(
    name="silver_orders",
    layer="silver",
    description="Orders of the order date: latest version per order_id, typed and trimmed.",
    deps=["bronze_orders"],
    check_specs=ORDERS.check_specs("silver_orders"),
)
def silver_orders(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.ORDERS), step.window, "o_orderdate")
    return publish_silver_window(
        step, context.run_id, ORDERS, bronze=bronze, cleanse=cleanse_orders
    )


@spark_asset(
    name="silver_line_items",
    layer="silver",
    description="Order lines of the order date: latest version per (order_id, line_number).",
    deps=["bronze_lineitem"],
    check_specs=LINE_ITEMS.check_specs("silver_line_items"),
)
def silver_line_items(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.LINEITEM), step.window, "_landing_date")
    return publish_silver_window(
        step,
        context.run_id,
        LINE_ITEMS,
        bronze=bronze,
        cleanse=cleanse_line_items,
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
