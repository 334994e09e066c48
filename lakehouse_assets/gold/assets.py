"""Gold assets: the date dimension, the sales fact at order-line grain and its daily aggregate."""

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
)
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.gold import tables
from lakehouse_assets.gold.checks import reconciliation_check
from lakehouse_assets.gold.contracts import AggDailySales, FactSales
from lakehouse_assets.gold.transforms import build_daily_sales, build_fact_sales
from lakehouse_assets.quality.contracts import contract_check, contract_check_spec
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.table_checks import unique_key_check
from lakehouse_assets.windowed import overwrite_window_and_check


@spark_asset(
    name="fact_sales",
    layer="gold",
    description="Sales fact, one row per order line, partitioned by order date.",
    deps=["silver_orders", "silver_line_items"],
    check_specs=[
        AssetCheckSpec(
            "fact_sales_grain_unique",
            asset="fact_sales",
            blocking=True,
            description="One row per (order_id, line_number).",
        ),
        AssetCheckSpec(
            "fact_sales_reconciles_with_silver",
            asset="fact_sales",
            blocking=True,
            description="Rows and gross amount equal silver line items of the same dates.",
        ),
        contract_check_spec("fact_sales", "fact_sales_contract", FactSales),
    ],
)
def fact_sales(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    line_items = store.read_window(silver.LINE_ITEMS, window, "order_date")
    orders = store.read_window(silver.ORDERS, window, "order_date")

    def checks(written):  # type: ignore[no-untyped-def]
        return [
            unique_key_check("fact_sales_grain_unique", written, ["order_id", "line_number"]),
            reconciliation_check(
                "fact_sales_reconciles_with_silver",
                expected=line_items,
                expected_amount="extended_price",
                actual=written,
                actual_amount="gross_amount",
            ),
            contract_check("fact_sales_contract", FactSales, written),
        ]

    return overwrite_window_and_check(
        store,
        tables.FACT_SALES,
        build_fact_sales(line_items, orders),
        window,
        "order_date",
        checks,
    )


@spark_asset(
    name="agg_daily_sales",
    layer="gold",
    description="Daily sales totals built from fact_sales.",
    deps=["fact_sales"],
    check_specs=[
        AssetCheckSpec(
            "agg_daily_sales_reconciles_with_fact",
            asset="agg_daily_sales",
            blocking=True,
            description="Line count and net amount equal fact_sales of the same dates.",
        ),
        contract_check_spec("agg_daily_sales", "agg_daily_sales_contract", AggDailySales),
    ],
)
def agg_daily_sales(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    facts = store.read_window(tables.FACT_SALES, window, "order_date")
    return overwrite_window_and_check(
        store,
        tables.AGG_DAILY_SALES,
        build_daily_sales(facts),
        window,
        "order_date",
        lambda written: [
            reconciliation_check(
                "agg_daily_sales_reconciles_with_fact",
                expected=facts,
                expected_amount="net_amount",
                actual=written,
                actual_amount="net_amount",
                actual_rows=F.sum("line_count"),
            ),
            contract_check("agg_daily_sales_contract", AggDailySales, written),
        ],
    )


gold_assets = [fact_sales, agg_daily_sales]
