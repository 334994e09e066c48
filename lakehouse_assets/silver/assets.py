"""Silver assets: cleansed, typed, deduplicated orders and line items per order date."""

from dagster import AssetCheckSpec, AssetExecutionContext, MaterializeResult

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders
from lakehouse_assets.table_checks import unique_key_check
from lakehouse_assets.windowed import overwrite_window_and_check


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
        )
    ],
)
def silver_orders(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.ORDERS), step.window, "o_orderdate")
    return overwrite_window_and_check(
        step.store,
        tables.ORDERS,
        cleanse_orders(bronze),
        step.window,
        "order_date",
        lambda written: [unique_key_check("order_id_unique", written, ["order_id"])],
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
        )
    ],
)
def silver_line_items(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    bronze = step.store.read_window(bronze_table(sources.LINEITEM), step.window, "_landing_date")
    return overwrite_window_and_check(
        step.store,
        tables.LINE_ITEMS,
        cleanse_line_items(bronze),
        step.window,
        "order_date",
        lambda written: [unique_key_check("line_key_unique", written, ["order_id", "line_number"])],
    )


silver_assets = [silver_orders, silver_line_items]
