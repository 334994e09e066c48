"""Gold dimensions rebuilt whole on each run: date (generated) and the reference dimensions.

They are **unpartitioned**: a dimension row is not owned by one order date, so the table has one
state, not one per date, and Dagster records one materialization per run that builds it instead
of one per date (a whole-history run would otherwise write 2,406 events per dimension). They run
in the same jobs, landing runs and backfills as the daily facts: a partitioned run that selects
them builds each once, and the facts read them through Dagster's all-partitions dependency.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    Config,
    MaterializeResult,
)
from pandera.pyspark import DataFrameModel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_asset, spark_step
from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.gold import calendar as calendar_module
from lakehouse_assets.gold import dim_date as dim_date_module
from lakehouse_assets.gold import dimensions as dimensions_module
from lakehouse_assets.gold import tables
from lakehouse_assets.gold.calendar import CalendarConfig
from lakehouse_assets.gold.checks import scd2_date_integrity_check
from lakehouse_assets.gold.contracts import (
    DimCustomer,
    DimDate,
    DimGeography,
    DimProduct,
    DimSupplier,
)
from lakehouse_assets.gold.dim_date import build_dim_date
from lakehouse_assets.gold.dimensions import (
    build_dim_customer,
    build_dim_geography,
    build_dim_product,
    build_dim_supplier,
)
from lakehouse_assets.gold.publish import build_inputs, code_fingerprint, publish_gold_table
from lakehouse_assets.monitoring.tables import TABLE_VERSIONS
from lakehouse_assets.partitions import BUSINESS_DATES, DateWindow
from lakehouse_assets.quality.contracts import contract_check, contract_check_spec
from lakehouse_assets.silver import tables as silver_tables
from lakehouse_assets.silver.customers import read_customer_history
from lakehouse_assets.storage import DeltaTableStore, TableSpec
from lakehouse_assets.table_checks import unique_key_check


@dataclass(frozen=True)
class DimensionChecks:
    """A dimension's key checks: the specs it declares are the names its results carry."""

    key_unique: AssetCheckSpec
    unknown_member: AssetCheckSpec
    contract: AssetCheckSpec
    contract_model: type[DataFrameModel]

    @property
    def specs(self) -> list[AssetCheckSpec]:
        return [self.key_unique, self.unknown_member, self.contract]


def dimension_checks(asset: str, contract: type[DataFrameModel]) -> DimensionChecks:
    return DimensionChecks(
        key_unique=AssetCheckSpec(
            f"{asset}_key_unique",
            asset=asset,
            blocking=True,
            description="The surrogate key and the natural key each identify one row.",
        ),
        unknown_member=AssetCheckSpec(
            f"{asset}_has_unknown_member",
            asset=asset,
            blocking=True,
            description="Exactly one unknown member (key -1) for facts whose reference is late.",
        ),
        contract=contract_check_spec(asset, f"{asset}_contract", contract),
        contract_model=contract,
    )


@cache
def _dimension_code() -> str:
    """The code the snapshot and customer dimensions are built with (their builders and these
    asset bodies): part of what a whole-table rebuild is a function of."""
    return code_fingerprint(dimensions_module, sys.modules[__name__])


def _dimension_key_stats(written: DataFrame, surrogate: str, natural: str) -> dict[str, int]:
    """Rows, distinct and NULL surrogate keys, the same for the natural key of the known
    members, and the unknown members: one aggregation (one Spark job) over the written table."""
    known = F.coalesce(~F.col("is_unknown"), F.lit(False))
    stats = written.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct(F.col(surrogate)).alias("surrogate_distinct"),
        F.count(F.when(F.col(surrogate).isNull(), 1)).alias("surrogate_nulls"),
        F.count(F.when(known, 1)).alias("known_rows"),
        F.count_distinct(F.when(known, F.col(natural))).alias("natural_distinct"),
        F.count(F.when(known & F.col(natural).isNull(), 1)).alias("natural_nulls"),
        F.count(F.when(F.col("is_unknown") & (F.col(surrogate) == -1), 1)).alias("unknown"),
    ).first()
    return {name: int(stats[name] or 0) for name in stats.asDict()}


def _dimension_checks(
    checks: DimensionChecks, written: DataFrame, surrogate: str, natural: str
) -> list[AssetCheckResult]:
    stats = _dimension_key_stats(written, surrogate, natural)
    # A key is unique when every row has one (no NULL) and no two rows share it.
    surrogate_unique = (
        stats["surrogate_nulls"] == 0 and stats["rows"] == stats["surrogate_distinct"]
    )
    natural_unique = (
        stats["natural_nulls"] == 0 and stats["known_rows"] == stats["natural_distinct"]
    )
    return [
        AssetCheckResult(
            check_name=checks.key_unique.name,
            passed=surrogate_unique and natural_unique,
            metadata={
                f"{surrogate}_distinct": stats["surrogate_distinct"],
                f"{natural}_distinct": stats["natural_distinct"],
                "rows": stats["rows"],
            },
        ),
        AssetCheckResult(
            check_name=checks.unknown_member.name,
            passed=stats["unknown"] == 1,
            metadata={"unknown_members": stats["unknown"]},
        ),
        contract_check(checks.contract.name, checks.contract_model, written),
    ]


DIM_DATE_KEY_CHECK = AssetCheckSpec(
    "dim_date_key_unique", asset="dim_date", blocking=True, description="One row per key."
)
DIM_DATE_COMPLETE_CHECK = AssetCheckSpec(
    "dim_date_complete",
    asset="dim_date",
    blocking=True,
    description="Every day of the range is present (no gaps for facts to fall into).",
)
DIM_DATE_CONTRACT_CHECK = contract_check_spec("dim_date", "dim_date_contract", DimDate)


class DimDateConfig(Config):
    """How ``dim_date`` labels days (set in the launchpad or run config)."""

    fiscal_year_start_month: int = 1
    holiday_country: str = "US"
    holiday_subdivision: str | None = None


@spark_asset(
    name="dim_date",
    layer="gold",
    writes=(tables.DIM_DATE, TABLE_VERSIONS),
    partitioned=False,
    description=(
        "Date dimension: calendar and fiscal attributes and holidays, in whole years from "
        "1992 (or the partition start) to the year after the newest partition."
    ),
    check_specs=[DIM_DATE_KEY_CHECK, DIM_DATE_COMPLETE_CHECK, DIM_DATE_CONTRACT_CHECK],
)
def dim_date(context: AssetExecutionContext, config: DimDateConfig) -> MaterializeResult:
    step = spark_step(context)
    calendar = CalendarConfig(
        config.fiscal_year_start_month, config.holiday_country, config.holiday_subdivision
    )
    # The dates contracts allow (partitions.business_date_range): no fact falls outside.
    first, last = BUSINESS_DATES
    days = len(DateWindow(first, last))

    def checks(written: DataFrame) -> list[AssetCheckResult]:
        rows = written.count()
        return [
            unique_key_check(DIM_DATE_KEY_CHECK.name, written, ["date_key"]),
            AssetCheckResult(
                check_name=DIM_DATE_COMPLETE_CHECK.name,
                passed=rows == days,
                metadata={"rows": rows, "days_expected": days},
            ),
            contract_check(DIM_DATE_CONTRACT_CHECK.name, DimDate, written),
        ]

    inputs = build_inputs(
        step.store,
        (),
        code_fingerprint(dim_date_module, calendar_module),
        {
            "calendar": calendar,
            "first": first,
            "last": last,
            "holidays": version("holidays"),
        },
    )
    return publish_gold_table(
        context,
        step,
        tables.DIM_DATE,
        lambda: build_dim_date(step.session, calendar, first, last),
        checks,
        inputs,
    )


@dataclass(frozen=True)
class ReferenceDimension:
    """A dimension rebuilt whole from bronze snapshots (and other dimensions)."""

    name: str
    description: str
    deps: tuple[str, ...]
    table: TableSpec
    contract: type[DataFrameModel]
    surrogate_key: str
    natural_key: str
    build: Callable[[DeltaTableStore], DataFrame]
    inputs: tuple[TableSpec, ...]


def reference_dimension_asset(dimension: ReferenceDimension) -> AssetsDefinition:
    """The asset of ``dimension``: overwrite the whole table, then the dimension checks."""
    checks = dimension_checks(dimension.name, dimension.contract)

    @spark_asset(
        name=dimension.name,
        layer="gold",
        writes=(dimension.table, TABLE_VERSIONS),
        partitioned=False,
        description=dimension.description,
        deps=list(dimension.deps),
        check_specs=checks.specs,
    )
    def _dimension(context: AssetExecutionContext) -> MaterializeResult:
        step = spark_step(context)
        return publish_gold_table(
            context,
            step,
            dimension.table,
            lambda: dimension.build(step.store),
            lambda written: _dimension_checks(
                checks, written, dimension.surrogate_key, dimension.natural_key
            ),
            build_inputs(step.store, dimension.inputs, _dimension_code()),
        )

    return _dimension


GEOGRAPHY = ReferenceDimension(
    "dim_geography",
    "Nations with their regions (latest snapshot), plus the unknown member.",
    ("bronze_nation", "bronze_region"),
    tables.DIM_GEOGRAPHY,
    DimGeography,
    "geography_key",
    "nation_id",
    lambda store: build_dim_geography(
        store.read(bronze_table(sources.NATION)), store.read(bronze_table(sources.REGION))
    ),
    (bronze_table(sources.NATION), bronze_table(sources.REGION)),
)
PRODUCT = ReferenceDimension(
    "dim_product",
    "Parts (latest snapshot), plus the unknown member.",
    ("bronze_part",),
    tables.DIM_PRODUCT,
    DimProduct,
    "product_key",
    "part_id",
    lambda store: build_dim_product(store.read(bronze_table(sources.PART))),
    (bronze_table(sources.PART),),
)
SUPPLIER = ReferenceDimension(
    "dim_supplier",
    "Suppliers (latest snapshot) with their geography key, plus the unknown member.",
    ("bronze_supplier", "dim_geography"),
    tables.DIM_SUPPLIER,
    DimSupplier,
    "supplier_key",
    "supplier_id",
    lambda store: build_dim_supplier(
        store.read(bronze_table(sources.SUPPLIER)), store.read(tables.DIM_GEOGRAPHY)
    ),
    (bronze_table(sources.SUPPLIER), tables.DIM_GEOGRAPHY),
)
dim_geography, dim_product, dim_supplier = (
    reference_dimension_asset(d) for d in (GEOGRAPHY, PRODUCT, SUPPLIER)
)


DIM_CUSTOMER_CHECKS = dimension_checks("dim_customer", DimCustomer)
DIM_CUSTOMER_SCD2_CHECK = AssetCheckSpec(
    "dim_customer_scd2_integrity",
    asset="dim_customer",
    blocking=True,
    description="One current version per customer; effective ranges never overlap.",
)


@spark_asset(
    name="dim_customer",
    layer="gold",
    writes=(tables.DIM_CUSTOMER, TABLE_VERSIONS),
    partitioned=False,
    description="Customers as SCD2 versions from silver.customer_history, plus the unknown member.",
    deps=["silver_customers", "dim_geography"],
    check_specs=[*DIM_CUSTOMER_CHECKS.specs, DIM_CUSTOMER_SCD2_CHECK],
)
def dim_customer(context: AssetExecutionContext) -> MaterializeResult:
    step = spark_step(context)
    store = step.store
    # silver.customers' version names the history version it matches (read_customer_history).
    inputs = build_inputs(
        store,
        (silver_tables.CUSTOMERS, silver_tables.CUSTOMER_HISTORY, tables.DIM_GEOGRAPHY),
        _dimension_code(),
    )

    def rows() -> DataFrame:
        return build_dim_customer(read_customer_history(store), store.read(tables.DIM_GEOGRAPHY))

    def checks(written: DataFrame) -> list[AssetCheckResult]:
        # customer_id repeats once per version: the surrogate key is the grain on both counts.
        key = "customer_key"
        results = _dimension_checks(DIM_CUSTOMER_CHECKS, written, key, key)
        integrity = scd2_date_integrity_check(DIM_CUSTOMER_SCD2_CHECK.name, written, "customer_id")
        return [*results, integrity]

    return publish_gold_table(context, step, tables.DIM_CUSTOMER, rows, checks, inputs)


dimension_assets = [dim_date, dim_geography, dim_product, dim_supplier, dim_customer]
