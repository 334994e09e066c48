"""Read the files of one micro-batch into raw records, whatever their format.

Every reader returns the same shape, one row per record (blank lines included, flagged), so the
rest of ingestion - typing, rescue, dead-lettering, accounting - is format-independent:

    _source_file  string              the file the record came from
    _raw          string              the record as received (a JSON object for Parquet rows)
    _keys         array<string>       the record's field names; NULL if it cannot be parsed
    _strings      struct<...>         the *expected* fields' raw values as strings
    _fields       map<string,string>  every field's raw value (CSV/Parquet; NULL for JSON,
                                      where it is derived from ``_raw`` only when needed)
    _format_error string              why the record is unusable (``invalid_json``, ...)
    _blank        boolean             a blank line: not a record, counted and skipped
    _raw_bytes    binary              the original bytes where ``_raw`` cannot hold them
                                      (not valid UTF-8); NULL otherwise

JSON lines and CSV are read as bytes and decoded in Python first (gzip by content, strict
UTF-8, one JSON object per line without duplicate keys; see
:mod:`lakehouse_assets.bronze.decoding`); Parquet is read by Spark's reader.

JSON is parsed straight into a struct of strings (one pass, O(1) field access); a full
``map<string,string>`` of a record is only built for the few records that have something to
rescue or that go to the dead-letter queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    MapType,
    StringType,
    StructField,
    StructType,
)

from lakehouse_assets.bronze import arrow_decoding, decoding
from lakehouse_assets.bronze.landing_zone import reader_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource

log = logging.getLogger(__name__)

SOURCE_FILE = arrow_decoding.SOURCE_FILE
RAW = arrow_decoding.RAW
KEYS = "_keys"
STRINGS = "_strings"
FIELDS = "_fields"
FORMAT_ERROR = arrow_decoding.FORMAT_ERROR
BLANK = arrow_decoding.BLANK
RAW_BYTES = arrow_decoding.RAW_BYTES
FIELDS_JSON = arrow_decoding.FIELDS_JSON

INVALID_JSON = decoding.INVALID_JSON
MALFORMED_CSV = arrow_decoding.MALFORMED_CSV
UNREADABLE_FILE = decoding.UNREADABLE_FILE


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    error: str


def read_records(
    spark: SparkSession, source: LandingSource, files: list[str], schema: StructType
) -> DataFrame:
    """Raw records of ``files`` (URIs) in ``source``'s format, shaped for ``schema``."""
    if source.file_format == "parquet":
        return _read_parquet(spark, files, schema)
    lines = decoded_lines(spark, files, source.file_format)
    if source.file_format == "jsonl":
        return json_records(lines.drop(FIELDS_JSON), schema)
    return _csv_records(lines, schema)


def decoded_lines(spark: SparkSession, files: list[str], file_format: str) -> DataFrame:
    """One row per line of ``files`` (JSON lines or CSV), decoded strictly in Python
    (:mod:`lakehouse_assets.bronze.decoding`): gzip by content, original bytes kept where the
    text cannot hold them, and the line's problem (encoding, JSON shape, CSV width) set."""
    binary = (
        spark.read.format("binaryFile")
        .load([reader_path(f) for f in files])
        .select(F.col("_metadata.file_path").alias("path"), "content")
    )
    return binary.mapInArrow(
        partial(
            arrow_decoding.shipped(arrow_decoding.decode_file_batches), file_format=file_format
        ),
        arrow_decoding.LINES_SCHEMA,
    )


def redecoded_lines(records: DataFrame, id_column: str) -> DataFrame:
    """Re-decode stored records (``id_column``, ``_source_file``, ``_raw_bytes``: one JSON line
    each, e.g. dead letters) exactly as ingestion decodes a landed line."""
    return records.select(id_column, SOURCE_FILE, RAW_BYTES).mapInArrow(
        partial(arrow_decoding.shipped(arrow_decoding.redecode_line_batches), id_column=id_column),
        f"{id_column} string, {SOURCE_FILE} string, {RAW} string, {RAW_BYTES} binary, "
        f"{BLANK} boolean, {FORMAT_ERROR} string",
    )


def json_records(lines: DataFrame, schema: StructType) -> DataFrame:
    """Records from a DataFrame with ``_source_file``, ``_raw``, ``_blank`` and, if the lines
    were decoded, ``_format_error`` (a problem found before parsing)."""
    keys = F.json_object_keys(F.col(RAW))
    found = F.col(FORMAT_ERROR) if FORMAT_ERROR in lines.columns else F.lit(None)
    invalid = ~F.col(BLANK) & F.col(KEYS).isNull()
    return (
        lines.withColumn(KEYS, F.when(~F.col(BLANK) & found.isNull(), keys))
        .withColumn(STRINGS, F.from_json(F.col(RAW), _string_struct(schema)))
        .withColumn(FIELDS, F.lit(None).cast(MapType(StringType(), StringType())))
        .withColumn(FORMAT_ERROR, F.coalesce(found, F.when(invalid, F.lit(INVALID_JSON))))
    )


def map_records(records: DataFrame, schema: StructType) -> DataFrame:
    """Records from a DataFrame whose ``_fields`` map is known (CSV, Parquet, dead letters)."""
    fields = F.col(FIELDS)
    strings = F.struct(*[fields[f.name].alias(f.name) for f in schema.fields])
    return records.withColumn(KEYS, F.map_keys(fields)).withColumn(
        STRINGS, F.when(fields.isNotNull(), strings)
    )


def record_fields() -> Column:
    """Every field of a record as ``map<string,string>`` (built on demand for JSON)."""
    return F.coalesce(F.col(FIELDS), F.from_json(F.col(RAW), "map<string,string>"))


def _string_struct(schema: StructType) -> StructType:
    return StructType([StructField(f.name, StringType()) for f in schema.fields])


def _csv_records(lines: DataFrame, schema: StructType) -> DataFrame:
    """CSV rows, each parsed with its own file's header (done in :func:`_file_rows`).

    A row with more fields than its header is ``malformed_csv`` (never silently truncated);
    a row with fewer has NULLs for the missing trailing fields, like a JSON record without them.
    """
    fields = F.from_json(F.col(FIELDS_JSON), "map<string,string>")
    records = lines.withColumn(FIELDS, F.when(F.col(FORMAT_ERROR).isNull() & ~F.col(BLANK), fields))
    return map_records(records.drop(FIELDS_JSON), schema)


def _read_parquet(spark: SparkSession, files: list[str], schema: StructType) -> DataFrame:
    """Parquet rows as JSON objects; a file that cannot be read becomes one failed record."""
    readable, unreadable = _split_readable_parquet(spark, files)
    result = spark.createDataFrame(
        [(u.path, None, None, UNREADABLE_FILE, False) for u in unreadable], _RECORD_SCHEMA
    )
    if readable:
        rows = spark.read.option("mergeSchema", "true").parquet(*map(reader_path, readable))
        as_json = F.to_json(F.struct(*[F.col(f"`{c}`") for c in rows.columns]))
        records = rows.select(
            F.col("_metadata.file_path").alias(SOURCE_FILE),
            as_json.alias(RAW),
            F.from_json(as_json, "map<string,string>").alias(FIELDS),
            F.lit(None).cast("string").alias(FORMAT_ERROR),
            F.lit(False).alias(BLANK),
        )
        result = result.unionByName(records)
    return map_records(result.withColumn(RAW_BYTES, F.lit(None).cast("binary")), schema)


def unreadable_reason(spark: SparkSession, path: str) -> str | None:
    """Why a Parquet file cannot be read (None if it can)."""
    try:
        spark.read.parquet(reader_path(path)).schema  # noqa: B018 - reading the footer is the test
    except Exception as exc:  # any reader failure makes the file unreadable
        return str(exc).splitlines()[0][:500]
    return None


def _split_readable_parquet(
    spark: SparkSession, files: list[str]
) -> tuple[list[str], list[UnreadableFile]]:
    try:
        spark.read.option("mergeSchema", "true").parquet(*map(reader_path, files)).schema  # noqa: B018
        return list(files), []
    except Exception:
        log.warning("a parquet file of the batch is unreadable; checking files one by one")
    readable, unreadable = [], []
    for path in files:
        reason = unreadable_reason(spark, path)
        if reason is None:
            readable.append(path)
        else:
            unreadable.append(UnreadableFile(path, reason))
    return readable, unreadable


_RECORD_SCHEMA = StructType(
    [
        StructField(SOURCE_FILE, StringType()),
        StructField(RAW, StringType()),
        StructField(FIELDS, MapType(StringType(), StringType())),
        StructField(FORMAT_ERROR, StringType()),
        StructField(BLANK, BooleanType()),
    ]
)
