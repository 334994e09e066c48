"""Gold facts: orders and order lines keyed to the dimensions, and the daily aggregate.

Each check's name has one source, its ``AssetCheckSpec``: the asset declares the spec and the
result is built from ``spec.name``, so renaming a check cannot break only at run time.
"""

from dataclasses import dataclass

from dagster import AssetCheckResult, AssetCheckSpec, AssetExecutionContext, MaterializeResult
from pandera.pyspark import DataFrameModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.gold import tables
from lakehouse_assets.gold.checks import (
    ForeignKey,
    Totals,
    foreign_key_checks,
    reconciliation_check,
)
from lakehouse_assets.gold.contracts import AggDailySales, FactOrders, FactSales
from lakehouse_assets.gold.facts import (
    build_daily_sales,
    build_fact_orders,
    build_fact_sales,
    resolve_customer_keys,
)
from lakehouse_assets.gold.publish import publish_gold_window
from lakehouse_assets.gold.transforms import money
from lakehouse_assets.monitoring.tables import TABLE_VERSIONS
from lakehouse_assets.quality.contracts import contract_check, contract_check_spec
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.table_checks import unique_key_check


@dataclass(frozen=True)
class FactChecks:
    """A fact's checks: the specs it declares are the names its results carry."""

    grain: AssetCheckSpec
    reconciles: AssetCheckSpec
    foreign_keys: AssetCheckSpec
    unknown_members: AssetCheckSpec
    contract: AssetCheckSpec

    @property
    def specs(self) -> list[AssetCheckSpec]:
        return [self.grain, self.reconciles, self.foreign_keys, self.unknown_members, self.contract]


def fact_checks(
    asset: str, grain: str, reconciles_with: str, contract: type[DataFrameModel]
) -> FactChecks:
    return FactChecks(
        grain=AssetCheckSpec(
            f"{asset}_grain_unique", asset=asset, blocking=True, description=grain
        ),
        reconciles=AssetCheckSpec(
            f"{asset}_reconciles_with_{reconciles_with}",
            asset=asset,
            blocking=True,
            description=f"Per order date, rows and amount equal {reconciles_with}'s.",
        ),
        foreign_keys=AssetCheckSpec(
            f"{asset}_foreign_keys",
            asset=asset,
            blocking=True,
            description="Every foreign key exists in its dimension (unknown member included).",
        ),
        unknown_members=AssetCheckSpec(
            f"{asset}_unknown_members",
            asset=asset,
            description=(
                "Facts keyed to an unknown member; re-run the listed dates once the dimension "
                "rows have arrived to re-key them."
            ),
        ),
        contract=contract_check_spec(asset, f"{asset}_contract", contract),
    )


FACT_ORDERS_CHECKS = fact_checks("fact_orders", "One row per order_id.", "silver", FactOrders)
FACT_SALES_CHECKS = fact_checks(
    "fact_sales", "One row per (order_id, line_number).", "silver", FactSales
)
AGG_GRAIN_CHECK = AssetCheckSpec(
    "agg_daily_sales_grain_unique",
    asset="agg_daily_sales",
    blocking=True,
    description="One row per (order_date, geography_key, market_segment).",
)
AGG_RECONCILES_CHECK = AssetCheckSpec(
    "agg_daily_sales_reconciles_with_fact",
    asset="agg_daily_sales",
    blocking=True,
    description="Per order date, line count and net amount equal fact_sales'.",
)
AGG_CONTRACT_CHECK = contract_check_spec(
    "agg_daily_sales", "agg_daily_sales_contract", AggDailySales
)


def _net_of_silver_lines() -> F.Column:
    return F.sum(money(F.col("extended_price") * (1 - F.col("discount_rate"))))


@spark_asset(
    name="fact_orders",
    layer="gold",
    writes=(tables.FACT_ORDERS, TABLE_VERSIONS),
    description="Orders fact, one row per order keyed to the customer version of its date.",
    deps=["silver_orders", "silver_line_items", "dim_customer", "dim_date"],
    check_specs=FACT_ORDERS_CHECKS.specs,
)
def fact_orders(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    orders = store.read_window(silver.ORDERS, window, "order_date")
    lines = store.read_window(silver.LINE_ITEMS, window, "order_date")
    dim_customer = store.read(tables.DIM_CUSTOMER)
    rows = build_fact_orders(orders, lines, resolve_customer_keys(orders, dim_customer))

    def checks(written: DataFrame) -> list[AssetCheckResult]:
        return [
            unique_key_check(FACT_ORDERS_CHECKS.grain.name, written, ["order_id"]),
            reconciliation_check(
                FACT_ORDERS_CHECKS.reconciles.name,
                expected=Totals(orders, F.sum("total_price")),
                actual=Totals(written, F.sum("total_price")),
            ),
            *foreign_key_checks(
                FACT_ORDERS_CHECKS.foreign_keys.name,
                FACT_ORDERS_CHECKS.unknown_members.name,
                written,
                [
                    ForeignKey("customer_key", dim_customer, "customer_key"),
                    ForeignKey("date_key", store.read(tables.DIM_DATE), "date_key"),
                ],
            ),
            contract_check(FACT_ORDERS_CHECKS.contract.name, FactOrders, written),
        ]

    return publish_gold_window(
        context, step, tables.FACT_ORDERS, rows, "order_date", checks, key_columns=["order_id"]
    )


@spark_asset(
    name="fact_sales",
    layer="gold",
    writes=(tables.FACT_SALES, TABLE_VERSIONS),
    description="Sales fact, one row per order line, keyed to the dimensions as of its order date.",
    deps=["silver_line_items", "fact_orders", "dim_product", "dim_supplier", "dim_date"],
    check_specs=FACT_SALES_CHECKS.specs,
)
def fact_sales(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    lines = store.read_window(silver.LINE_ITEMS, window, "order_date")
    products, suppliers = store.read(tables.DIM_PRODUCT), store.read(tables.DIM_SUPPLIER)
    rows = build_fact_sales(
        lines, store.read_window(tables.FACT_ORDERS, window, "order_date"), products, suppliers
    )

    def checks(written: DataFrame) -> list[AssetCheckResult]:
        dates = store.read(tables.DIM_DATE)
        return [
            unique_key_check(FACT_SALES_CHECKS.grain.name, written, ["order_id", "line_number"]),
            reconciliation_check(
                FACT_SALES_CHECKS.reconciles.name,
                expected=Totals(lines, _net_of_silver_lines()),
                actual=Totals(written, F.sum("net_amount")),
            ),
            *foreign_key_checks(
                FACT_SALES_CHECKS.foreign_keys.name,
                FACT_SALES_CHECKS.unknown_members.name,
                written,
                [
                    ForeignKey("customer_key", store.read(tables.DIM_CUSTOMER), "customer_key"),
                    ForeignKey("product_key", products, "product_key"),
                    ForeignKey("supplier_key", suppliers, "supplier_key"),
                    ForeignKey("date_key", dates, "date_key"),
                    ForeignKey("ship_date_key", dates, "date_key", nullable=True),
                    ForeignKey("commit_date_key", dates, "date_key", nullable=True),
                    ForeignKey("receipt_date_key", dates, "date_key", nullable=True),
                ],
            ),
            contract_check(FACT_SALES_CHECKS.contract.name, FactSales, written),
        ]

    return publish_gold_window(
        context,
        step,
        tables.FACT_SALES,
        rows,
        "order_date",
        checks,
        key_columns=["order_id", "line_number"],
    )


@spark_asset(
    name="agg_daily_sales",
    layer="gold",
    writes=(tables.AGG_DAILY_SALES, TABLE_VERSIONS),
    description="Daily sales per customer nation and market segment (as of the order date).",
    deps=["fact_sales", "dim_customer", "dim_geography"],
    check_specs=[AGG_GRAIN_CHECK, AGG_RECONCILES_CHECK, AGG_CONTRACT_CHECK],
)
def agg_daily_sales(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store, window = step.store, step.window
    facts = store.read_window(tables.FACT_SALES, window, "order_date")
    rows = build_daily_sales(
        facts, store.read(tables.DIM_CUSTOMER), store.read(tables.DIM_GEOGRAPHY)
    )

    def checks(written: DataFrame) -> list[AssetCheckResult]:
        grain = ["order_date", "geography_key", "market_segment"]
        return [
            unique_key_check(AGG_GRAIN_CHECK.name, written, grain),
            reconciliation_check(
                AGG_RECONCILES_CHECK.name,
                expected=Totals(facts, F.sum("net_amount")),
                actual=Totals(written, F.sum("net_amount"), row_count=F.sum("line_count")),
            ),
            contract_check(AGG_CONTRACT_CHECK.name, AggDailySales, written),
        ]

    return publish_gold_window(context, step, tables.AGG_DAILY_SALES, rows, "order_date", checks)


gold_assets = [fact_orders, fact_sales, agg_daily_sales]
