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

from lakehouse_assets.gold.transforms import MONEY, commented

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


def _known_member(reference: str) -> Column:
    """``is_unknown`` = false for a real row (the unknown member sets it true)."""
    comment = f"The unknown member (facts whose {reference} is unknown)."
    return commented(F.lit(False), "is_unknown", comment)


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
        commented(surrogate_key("geography", "n_nationkey"), "geography_key", "Surrogate key."),
        commented(F.col("n_nationkey"), "nation_id", "Natural key: TPC-H nation key."),
        commented(F.trim("n_name"), "nation_name", "Nation name."),
        commented(F.col("n_regionkey"), "region_id", "TPC-H region key."),
        commented(F.trim("r_name"), "region_name", "Region name."),
        _known_member("nation"),
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
        commented(surrogate_key("product", "p_partkey"), "product_key", "Surrogate key."),
        commented(F.col("p_partkey"), "part_id", "Natural key: TPC-H part key."),
        commented(F.trim("p_name"), "product_name", "Part name."),
        commented(F.trim("p_mfgr"), "manufacturer", "Manufacturer."),
        commented(F.trim("p_brand"), "brand", "Brand."),
        commented(F.trim("p_type"), "product_type", "Part type, e.g. ECONOMY ANODIZED STEEL."),
        commented(F.col("p_size"), "size", "Part size."),
        commented(F.trim("p_container"), "container", "Container."),
        commented(F.col("p_retailprice").cast(MONEY), "retail_price", "Retail price."),
        _known_member("part"),
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
        commented(surrogate_key("supplier", "s_suppkey"), "supplier_key", "Surrogate key."),
        commented(F.col("s_suppkey"), "supplier_id", "Natural key: TPC-H supplier key."),
        commented(F.trim("s_name"), "supplier_name", "Supplier name."),
        commented(F.trim("s_address"), "address", "Address."),
        commented(F.trim("s_phone"), "phone", "Phone."),
        commented(F.col("s_acctbal").cast(MONEY), "account_balance", "Account balance."),
        commented(
            F.coalesce("geography_key", F.lit(UNKNOWN_KEY)),
            "geography_key",
            "The supplier's nation in dim_geography (-1 if unknown).",
        ),
        _known_member("supplier"),
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
        commented(
            surrogate_key("customer", "customer_id", "_start_sequence"),
            "customer_key",
            "Surrogate key of the customer version (stable across re-runs and backfills).",
        ),
        commented(F.col("customer_id"), "customer_id", "Natural key: TPC-H customer key."),
        commented(F.col("name"), "customer_name", "Customer name."),
        commented(F.col("address"), "address", "Address."),
        commented(F.col("phone"), "phone", "Phone."),
        commented(F.col("market_segment"), "market_segment", "Market segment."),
        commented(F.col("account_balance"), "account_balance", "Latest balance of the version."),
        commented(F.col("comment"), "comment", "Free-text comment (latest of the version)."),
        commented(
            F.coalesce("geography_key", F.lit(UNKNOWN_KEY)),
            "geography_key",
            "The customer's nation in dim_geography (-1 if unknown).",
        ),
        commented(F.to_date("valid_from"), "effective_start_date", "First day of the version."),
        commented(
            F.coalesce(F.to_date("valid_to"), F.lit(END_OF_TIME)),
            "effective_end_date",
            "Day the next version (or the delete) took effect; 9999-12-31 while current.",
        ),
        commented(F.col("is_current"), "is_current", "The customer's current version."),
        _known_member("customer"),
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
