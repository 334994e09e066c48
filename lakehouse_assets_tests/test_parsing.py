"""Reading landed files of every format and typing them against the expected schema."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse_assets.bronze.checkpoint_log import parse_source_log
from lakehouse_assets.bronze.landing_zone import normalize_file_uri, reader_path
from lakehouse_assets.bronze.parsing import parse_records
from lakehouse_assets.bronze.readers import read_records
from lakehouse_assets.bronze.sources import NATION, ORDERS, PART

from .landing_files import land, order, uri


def test_source_log_parsing_and_uri_normalization():
    log = 'v1\n{"path":"file:///l/orders/1992-01-01/a%20b.jsonl","timestamp":1,"batchId":3}\n'
    assert parse_source_log(log)[0]["batchId"] == 3
    assert normalize_file_uri("file:///l/a%20b.jsonl") == "file:/l/a%20b.jsonl"
    assert normalize_file_uri("/l/a.jsonl") == "file:/l/a.jsonl"
    assert normalize_file_uri("s3://b/k.jsonl") == "s3://b/k.jsonl"
    assert reader_path("file:/l/a%20b.jsonl") == "file:/l/a b.jsonl"
    with pytest.raises(ValueError, match="version header"):
        parse_source_log('{"path": "x"}')


def _parse(spark, source, paths):
    records = read_records(spark, source, [uri(p) for p in paths], source.schema)
    parsed = parse_records(records, source.schema, source.required_keys)
    return {(r["_raw"] or r["_source_file"]): r for r in parsed.where("NOT _blank").collect()}


@pytest.mark.spark
def test_json_records_are_typed_rescued_or_rejected_never_lost(spark, tmp_path):
    lines = [
        json.dumps(order(1)),
        "\ufeff" + json.dumps(order(2, o_totalprice=12.345, loyalty="gold")),
        json.dumps(order(3, o_custkey="abc")),
        '{"o_orderkey": 4',
        json.dumps({"o_orderdate": "1992-01-02"}),
        json.dumps(order("x5")),
        '{"o_orderkey": 6, "o_orderdate": "1992-01-02", "o_comment": "caf\udce9"}',
        "[1, 2]",
    ]
    # Line 7 carries a Latin-1 byte (0xE9) that is not valid UTF-8.
    content = ("\n".join(lines) + "\n\n   \n").encode("utf-8", "surrogateescape")
    path = land(tmp_path, "orders", "1992-01-02", "mixed.jsonl", content)
    rows = _parse(spark, ORDERS, [path])
    assert len(rows) == 8  # blank lines are not records
    lines[6] = lines[6].replace("\udce9", "\ufffd")  # what the reader sees

    good = rows[lines[0]]
    assert (good.o_orderkey, good.o_totalprice, good._rescued_data, good._error_reason) == (
        1,
        Decimal("100.25"),
        None,
        None,
    )
    bom = rows[lines[1][1:]]  # BOM stripped, record kept, odd fields rescued
    assert bom.o_orderkey == 2 and bom.o_totalprice is None and bom._error_reason is None
    assert json.loads(bom._rescued_data) == {"loyalty": "gold", "o_totalprice": "12.345"}
    assert bom._unexpected_fields == ["loyalty"]
    mismatch = rows[lines[2]]
    assert mismatch.o_custkey is None and json.loads(mismatch._rescued_data) == {"o_custkey": "abc"}
    assert [rows[line]._error_reason for line in lines[3:]] == [
        "invalid_json",
        "missing_required_key",
        "invalid_required_key",
        "invalid_encoding",
        "invalid_json",
    ]


@pytest.mark.spark
def test_csv_rows_map_by_header_and_too_many_fields_is_malformed(spark, tmp_path):
    content = (
        "\ufeffn_nationkey,n_name,n_regionkey,n_comment,n_iso\n"
        "1,ARGENTINA,1,fine,AR\n"
        "2,BRAZIL,1\n"
        "3,CANADA,1,too,many,fields\n"
        "x,DENMARK,3,bad key,DK\n"
    )
    path = land(tmp_path, "nation", "1992-01-01", "nation.csv", content)
    rows = _parse(spark, NATION, [path])
    assert len(rows) == 4  # the header is not a record
    argentina = rows["1,ARGENTINA,1,fine,AR"]
    assert (argentina.n_nationkey, argentina.n_name, argentina._error_reason) == (
        1,
        "ARGENTINA",
        None,
    )
    assert json.loads(argentina._rescued_data) == {"n_iso": "AR"}
    brazil = rows["2,BRAZIL,1"]
    assert brazil.n_comment is None and brazil._error_reason is None
    assert rows["3,CANADA,1,too,many,fields"]._error_reason == "malformed_csv"
    assert rows["x,DENMARK,3,bad key,DK"]._error_reason == "invalid_required_key"


@pytest.mark.spark
def test_parquet_rows_and_unreadable_files(spark, tmp_path):
    table = pa.table(
        {
            "p_partkey": pa.array([1, 2], pa.int64()),
            "p_name": ["bolt", "nut"],
            "p_retailprice": pa.array([Decimal("901.00"), Decimal("2.50")], pa.decimal128(15, 2)),
            "p_colour": ["red", "blue"],
        }
    )
    good = tmp_path / "part" / "1992-01-01" / "part.parquet"
    good.parent.mkdir(parents=True)
    pq.write_table(table, good)
    broken = land(tmp_path, "part", "1992-01-02", "part.parquet", b"PAR1 not really parquet")
    rows = _parse(spark, PART, [good, broken])
    parsed = [r for r in rows.values() if r._error_reason is None]
    assert sorted((r.p_partkey, r.p_retailprice) for r in parsed) == [
        (1, Decimal("901.00")),
        (2, Decimal("2.50")),
    ]
    assert {json.loads(r._rescued_data)["p_colour"] for r in parsed} == {"red", "blue"}
    unreadable = rows[uri(broken)]
    assert unreadable._error_reason == "unreadable_file" and unreadable._raw is None
