"""Reference dimensions (geography, product, supplier) from the bronze snapshots. Pure transforms.

Surrogate keys are ``xxhash64(<dimension>, natural key)``: deterministic, so they are the same
on every re-run and backfill and need no key-allocation state; the grain checks would catch a
collision. Each dimension has an **unknown member** (key -1) for facts whose reference has not
arrived yet.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse_assets.gold.transforms import MONEY

UNKNOWN_KEY = -1
UNKNOWN = "Unknown"


def surrogate_key(dimension: str, *natural_key: str) -> Column:
    """A stable BIGINT key for ``natural_key`` within ``dimension``."""
    return F.xxhash64(F.lit(dimension), *[F.col(c) for c in natural_key])


def latest_snapshot(bronze: DataFrame, key: str) -> DataFrame:
    """The latest landed row per ``key`` (snapshots are re-landed whole)."""
    newest = Window.partitionBy(key).orderBy(
        F.col("_landing_date").desc(), F.col("_ingestion_timestamp").desc()
    )
    return (
        bronze.where(F.col(key).isNotNull())
        .withColumn("_rank", F.row_number().over(newest))
        .where("_rank = 1")
        .drop("_rank")
    )


def _c(column: Column, name: str, comment: str) -> Column:
    return column.alias(name, metadata={"comment": comment})


def _with_unknown(df: DataFrame, unknown: dict[str, object]) -> DataFrame:
    """Append the unknown member (values for the listed columns, NULL for the rest)."""
    row = df.sparkSession.range(1).select(
        *[
            (F.lit(unknown[f.name]) if f.name in unknown else F.lit(None))
            .cast(f.dataType)
            .alias(f.name, metadata=f.metadata)
            for f in df.schema.fields
        ]
    )
    return df.unionByName(row)


def build_dim_geography(bronze_nation: DataFrame, bronze_region: DataFrame) -> DataFrame:
    """One row per nation with its region."""
    nations = latest_snapshot(bronze_nation, "n_nationkey")
    regions = latest_snapshot(bronze_region, "r_regionkey")
    joined = nations.join(regions, nations.n_regionkey == regions.r_regionkey, "left")
    dim = joined.select(
        _c(surrogate_key("geography", "n_nationkey"), "geography_key", "Surrogate key."),
        _c(F.col("n_nationkey"), "nation_id", "Natural key: TPC-H nation key."),
        _c(F.trim("n_name"), "nation_name", "Nation name."),
        _c(F.col("n_regionkey"), "region_id", "TPC-H region key."),
        _c(F.trim("r_name"), "region_name", "Region name."),
        _c(F.lit(False), "is_unknown", "The unknown member (facts whose nation is unknown)."),
    )
    return _with_unknown(
        dim,
        {
            "geography_key": UNKNOWN_KEY,
            "nation_name": UNKNOWN,
            "region_name": UNKNOWN,
            "is_unknown": True,
        },
    )


def build_dim_product(bronze_part: DataFrame) -> DataFrame:
    """One row per part."""
    parts = latest_snapshot(bronze_part, "p_partkey")
    dim = parts.select(
        _c(surrogate_key("product", "p_partkey"), "product_key", "Surrogate key."),
        _c(F.col("p_partkey"), "part_id", "Natural key: TPC-H part key."),
        _c(F.trim("p_name"), "product_name", "Part name."),
        _c(F.trim("p_mfgr"), "manufacturer", "Manufacturer."),
        _c(F.trim("p_brand"), "brand", "Brand."),
        _c(F.trim("p_type"), "product_type", "Part type, e.g. ECONOMY ANODIZED STEEL."),
        _c(F.col("p_size"), "size", "Part size."),
        _c(F.trim("p_container"), "container", "Container."),
        _c(F.col("p_retailprice").cast(MONEY), "retail_price", "Retail price."),
        _c(F.lit(False), "is_unknown", "The unknown member (facts whose part is unknown)."),
    )
    return _with_unknown(
        dim, {"product_key": UNKNOWN_KEY, "product_name": UNKNOWN, "is_unknown": True}
    )


def build_dim_supplier(bronze_supplier: DataFrame, dim_geography: DataFrame) -> DataFrame:
    """One row per supplier, with its nation's geography key."""
    suppliers = latest_snapshot(bronze_supplier, "s_suppkey")
    geography = dim_geography.where("NOT is_unknown").select("geography_key", "nation_id")
    joined = suppliers.join(geography, suppliers.s_nationkey == geography.nation_id, "left")
    dim = joined.select(
        _c(surrogate_key("supplier", "s_suppkey"), "supplier_key", "Surrogate key."),
        _c(F.col("s_suppkey"), "supplier_id", "Natural key: TPC-H supplier key."),
        _c(F.trim("s_name"), "supplier_name", "Supplier name."),
        _c(F.trim("s_address"), "address", "Address."),
        _c(F.trim("s_phone"), "phone", "Phone."),
        _c(F.col("s_acctbal").cast(MONEY), "account_balance", "Account balance."),
        _c(
            F.coalesce("geography_key", F.lit(UNKNOWN_KEY)),
            "geography_key",
            "The supplier's nation in dim_geography (-1 if unknown).",
        ),
        _c(F.lit(False), "is_unknown", "The unknown member (facts whose supplier is unknown)."),
    )
    return _with_unknown(
        dim,
        {
            "supplier_key": UNKNOWN_KEY,
            "supplier_name": UNKNOWN,
            "geography_key": UNKNOWN_KEY,
            "is_unknown": True,
        },
    )


# The open end of a current version, so as-of joins need no NULL handling.
END_OF_TIME = dt.date(9999, 12, 31)


def build_dim_customer(customer_history: DataFrame, dim_geography: DataFrame) -> DataFrame:
    """SCD2 customer dimension from silver's history, one row per version.

    ``customer_key`` hashes (customer_id, the version's first sequence number): re-runs and
    backfills that rebuild the same history give the same keys, and a version split by a late
    event gets new keys only for the versions that actually changed. Effective dates are day
    granular, end exclusive: a fact on day D takes the version in effect at the end of D (so a
    version that opens and closes within one day is never chosen).
    """
    geography = dim_geography.where("NOT is_unknown").select("geography_key", "nation_id")
    versions = customer_history.join(geography, "nation_id", "left")
    dim = versions.select(
        _c(
            surrogate_key("customer", "customer_id", "_start_sequence"),
            "customer_key",
            "Surrogate key of the customer version (stable across re-runs and backfills).",
        ),
        _c(F.col("customer_id"), "customer_id", "Natural key: TPC-H customer key."),
        _c(F.col("name"), "customer_name", "Customer name."),
        _c(F.col("address"), "address", "Address."),
        _c(F.col("phone"), "phone", "Phone."),
        _c(F.col("market_segment"), "market_segment", "Market segment."),
        _c(F.col("account_balance"), "account_balance", "Account balance (latest of the version)."),
        _c(
            F.coalesce("geography_key", F.lit(UNKNOWN_KEY)),
            "geography_key",
            "The customer's nation in dim_geography (-1 if unknown).",
        ),
        _c(F.to_date("valid_from"), "effective_start_date", "First day of the version."),
        _c(
            F.coalesce(F.to_date("valid_to"), F.lit(END_OF_TIME)),
            "effective_end_date",
            "Day the next version (or the delete) took effect; 9999-12-31 while current.",
        ),
        _c(F.col("is_current"), "is_current", "The customer's current version."),
        _c(F.lit(False), "is_unknown", "The unknown member (facts whose customer is unknown)."),
    )
    return _with_unknown(
        dim,
        {
            "customer_key": UNKNOWN_KEY,
            "customer_name": UNKNOWN,
            "geography_key": UNKNOWN_KEY,
            "effective_start_date": dt.date(1900, 1, 1),
            "effective_end_date": END_OF_TIME,
            "is_current": True,
            "is_unknown": True,
        },
    )
