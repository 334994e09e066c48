"""Personal data classified in one place, and the Unity Catalog statements generated from it.

The masked values themselves are proven on a built gold table (test_gold_star.py)."""

from __future__ import annotations

import re

import pytest

from lakehouse_assets.bronze.suppression import raw_key_pattern
from lakehouse_assets.catalog import lakehouse_tables
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.lifecycle.erasure import ErasureError, ErasureRequest
from lakehouse_assets.privacy import (
    PERSONAL_COLUMNS,
    RAW_RECORD_TABLES,
    column_mask_statements,
    is_masked,
    personal_columns,
)
from lakehouse_assets.resources.unity_catalog import grant_statements, personal_data_statements
from lakehouse_assets.table_lineage import PERSONAL_COLUMNS_METADATA_KEY

from .lakehouse import settings_for


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return {
        t.qualified_name: t
        for t in lakehouse_tables(
            build_definitions(settings_for(tmp_path_factory.mktemp("privacy")))
        )
    }


def test_every_classified_table_is_written_and_flagged_and_every_flagged_table_classified(tables):
    classified = {c.table for c in PERSONAL_COLUMNS}
    assert classified <= set(tables)
    flagged = {name for name, spec in tables.items() if spec.contains_pii}
    assert flagged == classified | set(RAW_RECORD_TABLES)
    # The list: customer name, address and phone; supplier phone.
    assert set(personal_columns("gold.dim_customer").values()) == {"name", "address", "phone"}
    assert personal_columns("gold.dim_supplier") == {"phone": "phone"}
    # Features hold no personal column: there is nothing for a reader to unmask there.
    assert not [c for c in PERSONAL_COLUMNS if c.table.startswith("features.")]


def test_the_assets_carry_their_tables_personal_columns(tmp_path):
    defs = build_definitions(settings_for(tmp_path))
    spec = next(s for a in defs.assets for s in a.specs if s.key.to_user_string() == "dim_customer")
    assert spec.metadata[PERSONAL_COLUMNS_METADATA_KEY].data == {
        "gold.dim_customer": {"customer_name": "name", "address": "address", "phone": "phone"}
    }


def test_gold_columns_are_tagged_and_masked_silver_columns_tagged_only():
    gold = column_mask_statements("prod", ["gold.dim_customer"], "pii_readers")
    functions = [s for s in gold if s.startswith("CREATE OR REPLACE FUNCTION")]
    assert [f.split("(")[0].rsplit(".", 1)[1] for f in functions] == [
        "mask_personal_name",
        "mask_personal_address",
        "mask_personal_phone",
    ]
    for function in functions:
        assert (
            "RETURNS STRING RETURN CASE WHEN is_account_group_member('pii_readers') THEN value"
            in function
        )
    assert (
        "ALTER TABLE prod.gold.dim_customer ALTER COLUMN `phone` "
        "SET MASK prod.gold.mask_personal_phone" in gold
    )
    assert (
        "ALTER TABLE prod.gold.dim_customer ALTER COLUMN `customer_name` "
        "SET TAGS ('personal_data' = 'name')" in gold
    )
    assert len([s for s in gold if "SET MASK" in s]) == 3

    silver = column_mask_statements("prod", ["silver.customers"], "pii_readers")
    assert silver and all("SET TAGS" in s for s in silver), "silver: tagged, never granted"
    assert not is_masked("silver.customers") and is_masked("gold.dim_supplier")


def test_entitled_and_unentitled_readers_get_their_grants():
    grants = grant_statements("prod", "sp-1", readers="analysts", pii_readers="hr-pii")
    assert "GRANT USE SCHEMA, SELECT ON SCHEMA prod.gold TO `analysts`" in grants
    assert "GRANT USE SCHEMA, SELECT ON SCHEMA prod.gold TO `hr-pii`" in grants
    assert "GRANT USE SCHEMA, SELECT ON SCHEMA prod.features TO `hr-pii`" in grants
    assert not [g for g in grants if "prod.bronze" in g and ("analysts" in g or "hr-pii" in g)]
    everything = personal_data_statements("prod", "hr-pii")
    assert "is_account_group_member('hr-pii')" in everything[0]
    assert sum("SET MASK" in s for s in everything) == 4  # dim_customer x3, dim_supplier phone
    with pytest.raises(ValueError):
        personal_data_statements("prod; DROP", "x")


def test_a_suppressed_key_is_found_in_raw_records_and_only_that_key():
    pattern = re.compile(raw_key_pattern("c_custkey", [7, 12]))
    assert pattern.search('{"op": "u", "c_custkey": 7, "c_name": "x"')
    assert pattern.search('{"c_custkey":"12"}')
    assert pattern.search('{"c_name": "x", "c_custkey" : 7 }')
    assert not pattern.search('{"c_custkey": 77, "c_name": "x"}')
    assert not pattern.search('{"c_custkey": 17}')
    assert not pattern.search('{"o_custkey": 7}')


def test_an_erasure_request_names_a_key_and_a_reason():
    with pytest.raises(ErasureError, match="positive"):
        ErasureRequest(0, "DSR-1", "dpo")
    with pytest.raises(ErasureError, match="reason"):
        ErasureRequest(7, "  ", "dpo")
    assert ErasureRequest(7, "DSR-1", "dpo").dry_run is False
