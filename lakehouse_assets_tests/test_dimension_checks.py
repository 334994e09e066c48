"""The dimension key checks (one aggregation) judge duplicates, NULL keys and unknown members."""

from __future__ import annotations

import pytest

from lakehouse_assets.gold.contracts import DimGeography
from lakehouse_assets.gold.dimension_assets import _dimension_checks, dimension_checks
from lakehouse_assets.gold.dimensions import build_dim_geography

pytestmark = pytest.mark.spark


def _verdicts(df) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    specs = dimension_checks("dim_geography", DimGeography)
    checks = _dimension_checks(specs, df, "geography_key", "nation_id")
    return {c.check_name: c.passed for c in checks}


@pytest.fixture(scope="module")
def geography(spark):
    nation = spark.createDataFrame(
        [(0, "ALGERIA", 0), (1, "ARGENTINA", 1)],
        "n_nationkey long, n_name string, n_regionkey long",
    ).selectExpr("*", "DATE'1992-01-01' AS _landing_date", "now() AS _ingestion_timestamp")
    region = spark.createDataFrame(
        [(0, "AFRICA"), (1, "AMERICA")], "r_regionkey long, r_name string"
    ).selectExpr("*", "DATE'1992-01-01' AS _landing_date", "now() AS _ingestion_timestamp")
    return build_dim_geography(nation, region).cache()


def test_a_built_dimension_passes(geography):
    assert _verdicts(geography) == {
        "dim_geography_key_unique": True,
        "dim_geography_has_unknown_member": True,
        "dim_geography_contract": True,
    }


def test_a_repeated_natural_key_fails_and_the_unknown_member_is_not_a_duplicate(geography):
    first = geography.where("nation_id = 0")
    repeated = geography.unionByName(
        first.withColumn("geography_key", first["geography_key"] + 100)
    )
    assert not _verdicts(repeated)["dim_geography_key_unique"]
    # The unknown member has no natural key; it is not counted among the known keys.
    assert _verdicts(geography)["dim_geography_key_unique"]


def test_a_repeated_surrogate_key_fails(geography):
    # A new nation (5) given nation 0's surrogate key: only the surrogate key repeats.
    clash = geography.where("nation_id = 0").selectExpr("* EXCEPT (nation_id)", "5L AS nation_id")
    assert not _verdicts(geography.unionByName(clash))["dim_geography_key_unique"]


def test_a_missing_or_second_unknown_member_fails(geography):
    assert not _verdicts(geography.where("NOT is_unknown"))["dim_geography_has_unknown_member"]
    unknown = geography.where("is_unknown")
    twice = geography.unionByName(unknown)
    assert not _verdicts(twice)["dim_geography_has_unknown_member"]
