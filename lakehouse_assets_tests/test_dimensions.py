"""Reference dimensions from the landed TPC-H snapshots, materialized through Dagster."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from lakehouse_assets.gold.tables import DIM_GEOGRAPHY, DIM_PRODUCT, DIM_SUPPLIER
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import checks_by_name, materialize_day, settings_for

pytestmark = pytest.mark.spark

DAY = dt.date(1992, 1, 1)
DIMENSIONS = ["dim_geography", "dim_product", "dim_supplier"]
SNAPSHOTS = ["bronze_nation", "bronze_region", "bronze_part", "bronze_supplier"]


def test_reference_dimensions_match_tpch_and_keep_their_keys(spark, tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, DAY, DAY)
    settings = settings_for(tmp_path / "lakehouse", landing)
    first = materialize_day(settings, DAY, selection=SNAPSHOTS + DIMENSIONS)
    assert all(c.passed for c in checks_by_name(first).values())

    store = DeltaTableStore(spark, PathLocator(settings.root))

    def keys(spec, natural):
        return {r[natural]: r[0] for r in store.read(spec).collect()}

    geography = keys(DIM_GEOGRAPHY, "nation_id")
    products = keys(DIM_PRODUCT, "part_id")
    suppliers = keys(DIM_SUPPLIER, "supplier_id")

    raw = f"read_parquet('{tpch_dir}/{{}}.parquet', hive_partitioning=false)"
    tpch_count = {
        t: duckdb.sql(f"SELECT count(*) FROM {raw.format(t)}").fetchall()[0][0]
        for t in ("nation", "part", "supplier")
    }
    # One row per source row plus the unknown member (natural key NULL, surrogate key -1).
    assert len(geography) == tpch_count["nation"] + 1
    assert len(products) == tpch_count["part"] + 1
    assert len(suppliers) == tpch_count["supplier"] + 1
    assert geography[None] == products[None] == suppliers[None] == -1

    germany = store.read(DIM_GEOGRAPHY).where("nation_name = 'GERMANY'").first()
    assert germany["region_name"] == "EUROPE"
    supplier_nations = duckdb.sql(
        f"SELECT s_suppkey, s_nationkey FROM {raw.format('supplier')}"
    ).fetchall()
    by_key = {r["supplier_id"]: r["geography_key"] for r in store.read(DIM_SUPPLIER).collect()}
    assert all(by_key[s] == geography[n] for s, n in supplier_nations)

    # Surrogate keys are derived, not allocated: a re-run (or a rebuild) gives the same keys.
    materialize_day(settings, DAY, selection=DIMENSIONS)
    assert keys(DIM_PRODUCT, "part_id") == products
    assert keys(DIM_SUPPLIER, "supplier_id") == suppliers
