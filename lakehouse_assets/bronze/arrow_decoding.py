"""The Python-worker side of bronze decoding: Arrow batches in, Arrow batches out.

These functions run inside Spark's Python workers (``mapInArrow``). They are shipped to the
workers **by value** (:func:`shipped`), with the :mod:`decoding` functions they call, so a
worker needs nothing but the standard library and pyarrow: on a Databricks cluster the project
is on the driver (the step launcher ships it there), not necessarily on the executors.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from urllib.parse import unquote

from lakehouse_assets.bronze import decoding
from lakehouse_assets.bronze.decoding import count_records, csv_fields, decode_file, line_problem

SOURCE_FILE = "_source_file"
RAW = "_raw"
RAW_BYTES = "_raw_bytes"
BLANK = "_blank"
FORMAT_ERROR = "_format_error"
FIELDS_JSON = "_csv_fields_json"
MALFORMED_CSV = "malformed_csv"

LINE_COLUMNS = (SOURCE_FILE, RAW, RAW_BYTES, BLANK, FORMAT_ERROR, FIELDS_JSON)
LINES_SCHEMA = (
    f"{SOURCE_FILE} string, {RAW} string, {RAW_BYTES} binary, {BLANK} boolean, "
    f"{FORMAT_ERROR} string, {FIELDS_JSON} string"
)
COUNTS_SCHEMA = "path string, records long"
_ROWS_PER_ARROW_BATCH = 10_000


def shipped(function: Callable) -> Callable:
    """``function`` for ``mapInArrow``, pickled by value together with this module and
    :mod:`decoding` (what it calls), so executors do not import the project."""
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(decoding)
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    return function


def file_name(uri: str) -> str:
    return unquote(uri.rsplit("/", 1)[-1])


def decode_file_batches(batches: Iterator, file_format: str) -> Iterator:
    """(path, content) rows in, one row per line out (:data:`LINES_SCHEMA`)."""
    import pyarrow as pa

    arrow_schema = pa.schema(
        [
            (SOURCE_FILE, pa.string()),
            (RAW, pa.string()),
            (RAW_BYTES, pa.binary()),
            (BLANK, pa.bool_()),
            (FORMAT_ERROR, pa.string()),
            (FIELDS_JSON, pa.string()),
        ]
    )
    columns: dict[str, list] = {name: [] for name in LINE_COLUMNS}

    def flush():  # type: ignore[no-untyped-def]
        batch = pa.RecordBatch.from_pydict(columns, schema=arrow_schema)
        for values in columns.values():
            values.clear()
        return batch

    for batch in batches:
        paths, contents = batch.column("path").to_pylist(), batch.column("content").to_pylist()
        for path, content in zip(paths, contents, strict=True):
            for row in file_rows(path, content or b"", file_format):
                for name, value in zip(LINE_COLUMNS, row, strict=True):
                    columns[name].append(value)
                if len(columns[SOURCE_FILE]) >= _ROWS_PER_ARROW_BATCH:
                    yield flush()
    if columns[SOURCE_FILE]:
        yield flush()


def file_rows(path: str, content: bytes, file_format: str) -> Iterator[tuple]:
    """(file, text, bytes, blank, problem, fields_json) per line; a CSV file's first non-blank
    line is its header and not a record."""
    header: str | None = None
    for line in decode_file(content, file_name(path), file_format):
        if file_format != "csv" or line.blank or line.problem:
            yield path, line.text, line.raw_bytes, line.blank, line.problem, None
            continue
        if header is None:
            header = line.text
            continue
        fields = csv_fields(header, line.text)
        problem = MALFORMED_CSV if fields is None else None
        yield path, line.text, None, False, problem, None if fields is None else json.dumps(fields)


def count_file_batches(batches: Iterator, file_format: str) -> Iterator:
    """(path, content) rows in, (path, records) out: :func:`decoding.count_records`."""
    import pyarrow as pa

    for batch in batches:
        paths, contents = batch.column("path").to_pylist(), batch.column("content").to_pylist()
        records = [
            count_records(content or b"", file_name(path), file_format)
            for path, content in zip(paths, contents, strict=True)
        ]
        yield pa.RecordBatch.from_pydict({"path": paths, "records": pa.array(records, pa.int64())})


def redecode_line_batches(batches: Iterator, id_column: str) -> Iterator:
    """(id, file, original bytes) rows of stored JSON lines in, decoded lines out."""
    import pyarrow as pa

    for batch in batches:
        ids, files = batch.column(id_column).to_pylist(), batch.column(SOURCE_FILE).to_pylist()
        originals = batch.column(RAW_BYTES).to_pylist()
        lines = [line_problem(b or b"", "jsonl") for b in originals]
        yield pa.RecordBatch.from_pydict(
            {
                id_column: ids,
                SOURCE_FILE: files,
                RAW: [line.text for line in lines],
                RAW_BYTES: pa.array([line.raw_bytes for line in lines], pa.binary()),
                BLANK: [line.blank for line in lines],
                FORMAT_ERROR: pa.array([line.problem for line in lines], pa.string()),
            }
        )
