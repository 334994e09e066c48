"""Parsing landed JSON lines against the expected schema."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from lakehouse_assets.bronze.checkpoint_log import parse_source_log
from lakehouse_assets.bronze.landing_zone import normalize_file_uri
from lakehouse_assets.bronze.parsing import parse_json_records, strip_bom_and_blank
from lakehouse_assets.bronze.sources import ORDERS


def test_source_log_parsing_and_uri_normalization():
    log = 'v1\n{"path":"file:///l/orders/1992-01-01/a.jsonl","timestamp":1,"batchId":3}\n'
    assert parse_source_log(log) == [
        {"path": "file:///l/orders/1992-01-01/a.jsonl", "timestamp": 1, "batchId": 3}
    ]
    assert normalize_file_uri("file:///l/a%20b.jsonl") == "file:/l/a b.jsonl"
    assert normalize_file_uri("/l/a.jsonl") == "file:/l/a.jsonl"
    assert normalize_file_uri("s3://b/k.jsonl") == "s3://b/k.jsonl"
    with pytest.raises(ValueError, match="version header"):
        parse_source_log('{"path": "x"}')


@pytest.mark.spark
def test_records_are_typed_rescued_or_rejected_never_lost(spark):
    lines = [
        '{"o_orderkey":1,"o_custkey":2,"o_totalprice":10.25,"o_orderdate":"1992-01-01"}',
        '\ufeff{"o_orderkey":2,"o_orderdate":"1992-01-01","o_totalprice":12.345,"loyalty":"gold"}',
        '{"o_orderkey":3,"o_orderdate":"1992-01-01","o_custkey":"abc"}',
        '{"o_orderkey":4',
        "   ",
        '{"o_orderdate":"1992-01-01"}',
        '{"o_orderkey":"x5","o_orderdate":"1992-01-01"}',
        '{"o_orderkey":6,"o_orderdate":"1992-01-01","o_comment":"caf\ufffd"}',
    ]
    df = spark.createDataFrame([(line, "f") for line in lines], "value string, _source_file string")
    rows = {
        i: r for i, r in enumerate(parse_json_records(strip_bom_and_blank(df), ORDERS).collect())
    }
    by_raw = {r["_raw"]: r for r in rows.values()}
    assert len(rows) == 7  # the blank line is not a record

    good = by_raw[lines[0]]
    assert (good.o_orderkey, good.o_totalprice, good._rescued_data, good._error_reason) == (
        1,
        Decimal("10.25"),
        None,
        None,
    )
    bom = by_raw[lines[1][1:]]  # BOM stripped, record kept
    assert bom.o_orderkey == 2 and bom.o_totalprice is None and bom._error_reason is None
    assert json.loads(bom._rescued_data) == {"loyalty": "gold", "o_totalprice": "12.345"}
    mismatch = by_raw[lines[2]]
    assert mismatch.o_custkey is None and json.loads(mismatch._rescued_data) == {"o_custkey": "abc"}
    assert by_raw[lines[3]]._error_reason == "invalid_json"
    assert by_raw[lines[5]]._error_reason == "missing_required_key"
    assert by_raw[lines[6]]._error_reason == "invalid_required_key"
    assert by_raw[lines[7]]._error_reason == "invalid_encoding"
