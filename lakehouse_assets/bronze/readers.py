"""Read the files of one micro-batch into raw records, whatever their format.

Every reader returns the same shape, one row per record (blank lines included, flagged), so the
rest of ingestion - typing, rescue, dead-lettering, accounting - is format-independent:

    _source_file  string              the file the record came from
    _raw          string              the record as received (a JSON object for Parquet rows)
    _keys         array<string>       the record's field names; NULL if it cannot be parsed
    _strings      struct<...>         the *expected* fields' raw values as strings
    _fields       map<string,string>  every field's raw value (CSV/Parquet; NULL for JSON,
                                      where it is derived from ``_raw`` only when needed)
    _format_error string              why ``_keys`` is NULL (``invalid_json``, ...)
    _blank        boolean             a blank line: not a record, counted and skipped

JSON is parsed straight into a struct of strings (one pass, O(1) field access); a full
``map<string,string>`` of a record is only built for the few records that have something to
rescue or that go to the dead-letter queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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

from lakehouse_assets.bronze.landing_zone import reader_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource

log = logging.getLogger(__name__)

SOURCE_FILE = "_source_file"
RAW = "_raw"
KEYS = "_keys"
STRINGS = "_strings"
FIELDS = "_fields"
FORMAT_ERROR = "_format_error"
BLANK = "_blank"

INVALID_JSON = "invalid_json"
MALFORMED_CSV = "malformed_csv"
UNREADABLE_FILE = "unreadable_file"

_BOM = "\ufeff"
_CSV_OVERFLOW = 8  # extra slots that catch rows with more fields than the header


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    error: str


def read_records(
    spark: SparkSession, source: LandingSource, files: list[str], schema: StructType
) -> DataFrame:
    """Raw records of ``files`` (URIs) in ``source``'s format, shaped for ``schema``."""
    if source.file_format == "jsonl":
        return json_records(_text_lines(spark, files), schema)
    if source.file_format == "csv":
        return _read_csv(spark, files, schema)
    return _read_parquet(spark, files, schema)


def json_records(lines: DataFrame, schema: StructType) -> DataFrame:
    """Records from a DataFrame with ``_source_file``, ``_raw`` and ``_blank``."""
    keys = F.json_object_keys(F.col(RAW))
    invalid = ~F.col(BLANK) & F.col(KEYS).isNull()
    return (
        lines.withColumn(KEYS, F.when(~F.col(BLANK), keys))
        .withColumn(STRINGS, F.from_json(F.col(RAW), _string_struct(schema)))
        .withColumn(FIELDS, F.lit(None).cast(MapType(StringType(), StringType())))
        .withColumn(FORMAT_ERROR, F.when(invalid, F.lit(INVALID_JSON)))
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


def _text_lines(spark: SparkSession, files: list[str]) -> DataFrame:
    lines = spark.read.text([reader_path(f) for f in files]).select(
        F.col("_metadata.file_path").alias(SOURCE_FILE),
        F.regexp_replace(F.col("value"), f"^{_BOM}", "").alias(RAW),
    )
    return lines.withColumn(BLANK, F.trim(F.col(RAW)) == "")


def _read_csv(spark: SparkSession, files: list[str], schema: StructType) -> DataFrame:
    """CSV with a header line per file; each file is parsed with its own header.

    A row with more fields than its header is ``malformed_csv`` (never silently truncated);
    a row with fewer has NULLs for the missing trailing fields, like a JSON record without them.
    """
    headers = {path: _first_line(spark, path) for path in files}
    result = spark.createDataFrame([], _RECORD_SCHEMA)
    for header in sorted({h for h in headers.values() if h is not None}):
        names = [n.strip().lstrip(_BOM) for n in header.split(",")]
        paths = [p for p, h in headers.items() if h == header]
        overflow = [f"__overflow_{i}" for i in range(_CSV_OVERFLOW)]
        columns = [f"c{i}" for i in range(len(names))] + overflow
        csv_schema = StructType([StructField(c, StringType()) for c in columns])
        lines = _text_lines(spark, paths).where(F.col(RAW) != header.lstrip(_BOM))
        parsed = lines.withColumn("__csv", F.from_csv(F.col(RAW), csv_schema.simpleString()))
        too_many = F.lit(False)
        for column in overflow:
            too_many = too_many | F.col(f"__csv.{column}").isNotNull()
        fields = F.map_from_arrays(
            F.array(*[F.lit(n) for n in names]),
            F.array(*[F.col(f"__csv.c{i}") for i in range(len(names))]),
        )
        frame = (
            parsed.withColumn(FIELDS, F.when(~F.col(BLANK) & ~too_many, fields))
            .withColumn(FORMAT_ERROR, F.when(~F.col(BLANK) & too_many, F.lit(MALFORMED_CSV)))
            .drop("__csv")
        )
        result = result.unionByName(frame)
    return map_records(result, schema)


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
    return map_records(result, schema)


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


def _first_line(spark: SparkSession, path: str) -> str | None:
    """First line of a text file, read on the driver through Hadoop's FileSystem."""
    jvm = spark.sparkContext._jvm
    hadoop_path = jvm.org.apache.hadoop.fs.Path(reader_path(path))
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    stream = fs.open(hadoop_path)
    try:
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        line = reader.readLine()
        return None if line is None else str(line)
    finally:
        stream.close()


_RECORD_SCHEMA = StructType(
    [
        StructField(SOURCE_FILE, StringType()),
        StructField(RAW, StringType()),
        StructField(FIELDS, MapType(StringType(), StringType())),
        StructField(FORMAT_ERROR, StringType()),
        StructField(BLANK, BooleanType()),
    ]
)
