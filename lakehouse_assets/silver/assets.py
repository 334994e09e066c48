"""Silver assets: cleansed, typed, deduplicated orders and line items per order date."""

from dagster import AssetCheckSpec, AssetExecutionContext, MaterializeResult

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.quality.checks import rule_check_specs
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.publish import SilverTarget, publish_silver_window
from lakehouse_assets.silver.rules import LINE_ITEM_RULES, ORDER_RULES
from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders
from lakehouse_assets.table_checks import unique_key_check

ORDERS = SilverTarget(tables.ORDERS, tables.ORDERS_QUARANTINE, ORDER_RULES, ("order_id",))
LINE_ITEMS = SilverTarget(
    tables.LINE_ITEMS,
    tables.LINE_ITEMS_QUARANTINE,
    LINE_ITEM_RULES,
    ("order_id", "line_number"),
)


@spark_asset(
    name="silver_orders",
    layer="silver",
    description="Orders of the order date: latest version per order_id, typed and trimmed.",
    deps=["bronze_orders"],
    check_specs=[
        AssetCheckSpec(
            "order_id_unique",
            asset="silver_orders",
            blocking=True,
            description="order_id is unique and not null within the partition.",
        ),
        *rule_check_specs("silver_orders", ORDER_RULES),
    ],
)
def silver_orders(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.ORDERS), step.window, "o_orderdate")
    return publish_silver_window(
        step,
        context.run.run_id,
        ORDERS,
        input_rows=bronze,
        cleansed=cleanse_orders(bronze),
        checks=lambda written: [unique_key_check("order_id_unique", written, ["order_id"])],
    )


@spark_asset(
    name="silver_line_items",
    layer="silver",
    description="Order lines of the order date: latest version per (order_id, line_number).",
    deps=["bronze_lineitem"],
    check_specs=[
        AssetCheckSpec(
            "line_key_unique",
            asset="silver_line_items",
            blocking=True,
            description="(order_id, line_number) is unique and not null within the partition.",
        ),
        *rule_check_specs("silver_line_items", LINE_ITEM_RULES),
    ],
)
def silver_line_items(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.LINEITEM), step.window, "_landing_date")
    return publish_silver_window(
        step,
        context.run.run_id,
        LINE_ITEMS,
        input_rows=bronze,
        cleansed=cleanse_line_items(bronze),
        checks=lambda written: [
            unique_key_check("line_key_unique", written, ["order_id", "line_number"])
        ],
    )


silver_assets = [silver_orders, silver_line_items]
