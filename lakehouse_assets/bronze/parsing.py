"""Type raw records against a source's expected schema, Auto Loader style.

Every record becomes exactly one output row, either

* a bronze row: the expected fields typed, plus ``_rescued_data`` (a JSON object of the fields
  that were unexpected or did not fit their type - kept, never dropped), or
* a dead-letter row (``_error_reason`` set): the record cannot be parsed or keyed at all.

Fields are cast one by one from their raw string values, so one bad field does not null out the
whole record (what ``from_json`` with a typed schema would do), and a value that would be
silently rounded (``12.345`` into ``decimal(15,2)``) is rescued instead. Only records that have
something to rescue pay for building the rescued JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, DecimalType, StringType, TimestampType

from lakehouse_assets.bronze import decoding
from lakehouse_assets.bronze.readers import (
    BLANK,
    FIELDS,
    FORMAT_ERROR,
    KEYS,
    RAW,
    STRINGS,
    record_fields,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

RESCUED = "_rescued_data"
ERROR_REASON = "_error_reason"
UNEXPECTED = "_unexpected_fields"
MISMATCHED = "_mismatched_fields"

# Error reasons, in precedence order (the first that applies is reported): first the problems
# found while decoding (invalid_encoding, invalid_json, multiple_json_values, duplicate_key,
# malformed_csv, unreadable_file), then the required keys.
INVALID_ENCODING = decoding.INVALID_ENCODING
MISSING_REQUIRED_KEY = "missing_required_key"
INVALID_REQUIRED_KEY = "invalid_required_key"

_READER_COLUMNS = (BLANK, FORMAT_ERROR, RAW, KEYS, STRINGS, FIELDS)


def parse_records(
    records: DataFrame, schema: StructType, required_keys: Sequence[str]
) -> DataFrame:
    """Type ``records`` (the readers' shape) against ``schema``.

    Output: the input's other columns (``_source_file`` and any pass-through columns),
    ``_blank`` (blank lines are kept so they can be counted; they are not records), the
    schema's fields in order, ``_rescued_data``, ``_unexpected_fields`` (field names the schema
    does not know), ``_mismatched_fields`` (declared fields whose value did not fit their
    type), ``_error_reason`` (NULL for good rows), ``_raw`` and ``_fields_json`` (the
    record's fields, kept for dead letters only).
    """
    expected = [f.name for f in schema.fields]
    raw_value = {name: F.col(STRINGS)[name] for name in expected}
    typed = {f.name: _typed(raw_value[f.name], f.dataType) for f in schema.fields}
    mismatched = [raw_value[n].isNotNull() & typed[n].isNull() for n in expected]
    unexpected = F.array_except(F.col(KEYS), F.array(*[F.lit(n) for n in expected]))
    any_mismatch = F.lit(False)
    for flag in mismatched:
        any_mismatch = any_mismatch | flag
    mismatched_names = F.array_compact(
        F.array(*[F.when(flag, F.lit(n)) for n, flag in zip(expected, mismatched, strict=True)])
    )
    rescued_keys = F.concat(unexpected, mismatched_names)
    fields = record_fields()
    rescued = F.when(
        any_mismatch | (F.size(unexpected) > 0),
        F.to_json(F.map_from_arrays(rescued_keys, F.transform(rescued_keys, lambda k: fields[k]))),
    )
    reason = _error_reason(required_keys, raw_value, typed)
    passthrough = [c for c in records.columns if c not in (*_READER_COLUMNS, *expected)]
    return records.select(
        *passthrough,
        F.col(BLANK),
        *[typed[name].alias(name) for name in expected],
        rescued.alias(RESCUED),
        F.coalesce(unexpected, F.array().cast("array<string>")).alias(UNEXPECTED),
        mismatched_names.alias(MISMATCHED),
        reason.alias(ERROR_REASON),
        F.col(RAW),
        F.when(reason.isNotNull(), F.to_json(fields)).alias("_fields_json"),
    )


def _error_reason(
    required_keys: Sequence[str], raw_value: dict[str, Column], typed: dict[str, Column]
) -> Column:
    reason = F.when(F.col(BLANK), F.lit(None))
    # Encoding and shape problems were found while decoding the bytes (readers / decoding).
    reason = reason.when(F.col(FORMAT_ERROR).isNotNull(), F.col(FORMAT_ERROR))
    for key in required_keys:
        reason = reason.when(raw_value[key].isNull(), F.lit(MISSING_REQUIRED_KEY))
    for key in required_keys:
        reason = reason.when(typed[key].isNull(), F.lit(INVALID_REQUIRED_KEY))
    return reason


def _typed(raw: Column, dtype: DataType) -> Column:
    """Cast a raw value to ``dtype``; NULL when it does not fit exactly."""
    if isinstance(dtype, StringType):
        return raw
    if isinstance(dtype, DateType):
        # Spark 4.0 has no try_to_date: a strict date pattern, NULL when it does not parse.
        return F.try_to_timestamp(raw, F.lit("yyyy-MM-dd")).cast("date")
    if isinstance(dtype, TimestampType):
        return F.try_to_timestamp(raw)
    cast = raw.try_cast(dtype)
    if isinstance(dtype, DecimalType):
        # A cast to decimal(p,s) rounds; rescue values that would lose digits instead.
        exact = raw.try_cast(DecimalType(38, 18))
        return F.when(cast == exact, cast)
    return cast
