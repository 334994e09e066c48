"""Decoding landed bytes, without Spark: what is a file, a line, a record, and what is wrong."""

from __future__ import annotations

import bz2
import gzip
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakehouse_assets.bronze import decoding
from lakehouse_assets.bronze.arrow_decoding import file_rows
from lakehouse_assets.bronze.checkpoint_log import log_text_problem


@pytest.mark.parametrize(
    ("name", "fmt", "reason"),
    [
        ("orders.jsonl", "jsonl", None),
        ("ORDERS.JSONL", "jsonl", None),
        ("orders.json", "jsonl", None),
        ("orders.ndjson", "jsonl", None),
        ("orders.jsonl.gz", "jsonl", None),
        ("orders.JSON.GZ", "jsonl", None),
        ("orders.jsonl.bz2", "jsonl", None),
        ("nation.csv.gz", "csv", None),
        ("part.parquet", "parquet", None),
        ("part.PARQUET", "parquet", None),
        ("orders.txt", "jsonl", decoding.UNSUPPORTED_EXTENSION),
        ("orders.jsonl.zip", "jsonl", decoding.UNSUPPORTED_EXTENSION),
        ("orders.csv", "jsonl", decoding.UNSUPPORTED_EXTENSION),
        ("part.parquet.gz", "parquet", decoding.COMPRESSED_COLUMNAR),
        ("README", "csv", decoding.UNSUPPORTED_EXTENSION),
    ],
)
def test_which_files_a_source_reads(name, fmt, reason):
    assert decoding.reject_reason(name, fmt) == reason


def test_gzip_is_recognised_by_content_whatever_the_name():
    text = b'{"a": 1}\n{"a": 2}\n'
    assert decoding.decompress(gzip.compress(text), "orders.jsonl") == text
    assert decoding.decompress(gzip.compress(text), "orders.jsonl.gz") == text
    assert decoding.decompress(bz2.compress(text), "orders.jsonl.bz2") == text
    assert decoding.decompress(text, "orders.jsonl") == text


def test_multi_member_gzip_is_read_whole():
    data = gzip.compress(b'{"a": 1}\n') + gzip.compress(b'{"a": 2}\n')
    assert decoding.count_records(data, "x.jsonl.gz", "jsonl") == 2


def _torn_gzip() -> bytes:
    data = gzip.compress(b"".join(b'{"a": %d}\n' % n for n in range(500)))
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (_torn_gzip(), "cut.jsonl.gz"),  # truncated archive
        (b'{"a": 1}\n', "not-really.jsonl.gz"),  # named .gz, is not
    ],
)
def test_an_archive_that_cannot_be_read_is_one_unreadable_record(data, name):
    lines = list(decoding.decode_file(data, name, "jsonl"))
    assert [line.problem for line in lines] == [decoding.UNREADABLE_FILE]
    assert decoding.count_records(data, name, "jsonl") == 1


def test_lines_split_at_newline_drop_cr_and_bom_and_keep_an_unterminated_last_line():
    content = b'\xef\xbb\xbf{"a": 1}\r\n\n  \n{"a": 2}'
    assert decoding.split_lines(content) == [b'{"a": 1}', b"", b"  ", b'{"a": 2}']
    assert decoding.split_lines(b"") == []
    assert decoding.count_records(content, "x.jsonl", "jsonl") == 2


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"a": 1}', None),
        (b'{"a": {"b": 1, "c": [1, 2]}}', None),
        (b'{"a": 1} {"a": 2}', decoding.MULTIPLE_JSON_VALUES),
        (b'{"a": 1}{"a": 2}', decoding.MULTIPLE_JSON_VALUES),
        (b'{"a": 1} trailing words', decoding.INVALID_JSON),
        (b'{"a": 1, "a": 2}', decoding.DUPLICATE_KEY),
        (b'{"a": {"b": 1, "b": 1}}', decoding.DUPLICATE_KEY),
        (b"[1, 2]", decoding.INVALID_JSON),
        (b"not json", decoding.INVALID_JSON),
        (b'{"o_orderkey": 7, "o_ord', decoding.INVALID_JSON),
        (b'{"c": "caf\xe9"}', decoding.INVALID_ENCODING),
    ],
)
def test_line_problems(line, problem):
    assert decoding.line_problem(line, "jsonl").problem == problem


def test_a_line_that_is_not_utf8_keeps_its_original_bytes():
    line = b'{"o_orderkey": 11, "c": "caf\xe9"}'
    decoded = decoding.line_problem(line, "jsonl")
    assert decoded.raw_bytes == line and decoded.problem == decoding.INVALID_ENCODING
    assert decoding.line_problem(b'{"c": "caf\xc3\xa9"}', "jsonl").raw_bytes is None


def test_csv_rows_use_their_files_header_and_wide_rows_are_malformed():
    content = b'\xef\xbb\xbfr_regionkey,r_name,r_comment\n0,AFRICA,x\n1,"AMERICA, N"\n2,A,b,extra\n'
    rows = list(file_rows("file:/l/region/2024-01-01/r.csv", content, "csv"))
    assert [r[4] for r in rows] == [None, None, "malformed_csv"]
    assert rows[1][5] == '{"r_regionkey": "1", "r_name": "AMERICA, N"}'
    assert decoding.count_records(content, "r.csv", "csv") == 3


def test_parquet_records_are_counted_from_the_footer():
    buffer = io.BytesIO()
    pq.write_table(pa.table({"p_partkey": list(range(7))}), buffer)
    assert decoding.count_records(buffer.getvalue(), "p.parquet", "parquet") == 7
    assert decoding.count_records(b"PAR1 garbage", "p.parquet", "parquet") == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('v1\n{"batchWatermarkMs":0}\n{"logOffset":3}', None),
        ('v1\n{"path":"file:/a","batchId":0}\n{"path":"file:/b","batchId":0}\n', None),
        ('v1\n{"batchWatermarkMs":0}\n{"logOff', "line 3 is not JSON"),
        ("v1\n", "no entry after the version header"),
        ("", "missing version header"),
    ],
)
def test_checkpoint_files_cut_mid_write_are_detected(text, problem):
    found = log_text_problem(text)
    assert (found is None) if problem is None else (problem in found)


def test_the_worker_side_runs_without_the_project_installed(tmp_path):
    """mapInArrow bodies are shipped by value: an executor without lakehouse_assets (a
    Databricks worker, where the step launcher put the project on the driver only) runs them."""
    import subprocess
    import sys
    from functools import partial

    from pyspark import cloudpickle

    from lakehouse_assets.bronze import arrow_decoding

    body = partial(arrow_decoding.shipped(arrow_decoding.decode_file_batches), file_format="jsonl")
    (tmp_path / "body.pkl").write_bytes(cloudpickle.dumps(body))
    worker = """
import sys, pickle, pyarrow as pa

class NoProject:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "lakehouse_assets":
            raise ImportError("lakehouse_assets is not installed on this worker")

sys.meta_path.insert(0, NoProject())
body = pickle.loads(open(sys.argv[1], "rb").read())
files = pa.RecordBatch.from_pydict(
    {"path": ["file:/l/orders/2024-01-01/a.jsonl"], "content": [b'{"a": 1}\\n{"a": 1, "a": 2}\\n']}
)
out = pa.Table.from_batches(list(body(iter([files]))))
print(out.column("_format_error").to_pylist())
"""
    done = subprocess.run(
        [sys.executable, "-c", worker, str(tmp_path / "body.pkl")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[None, 'duplicate_key']"
