"""Parse landed JSON-lines records against a source's expected schema, Auto Loader style.

Every non-blank line becomes exactly one output row, either

* a bronze row: the expected fields typed, plus ``_rescued_data`` (a JSON object of the fields
  that were unexpected or did not fit their type - kept, never dropped), or
* a rejected row (``_error_reason`` set) that cannot be keyed or parsed at all: the raw line is
  kept for the dead-letter queue.

Parsing goes through ``map<string,string>`` first and casts field by field, so one bad field
does not null out the whole record (what ``from_json`` with a typed schema would do), and a
value that would be silently rounded (``12.345`` into ``decimal(15,2)``) is rescued instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, DateType, DecimalType, StringType, TimestampType

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.bronze.sources import LandingSource

RAW = "_raw"
RESCUED = "_rescued_data"
ERROR_REASON = "_error_reason"

# Error reasons, in precedence order (the first that applies is reported).
INVALID_ENCODING = "invalid_encoding"
INVALID_JSON = "invalid_json"
MISSING_REQUIRED_KEY = "missing_required_key"
INVALID_REQUIRED_KEY = "invalid_required_key"
ERROR_REASONS = (INVALID_ENCODING, INVALID_JSON, MISSING_REQUIRED_KEY, INVALID_REQUIRED_KEY)

_BOM = "\ufeff"
_REPLACEMENT_CHAR = "\ufffd"  # what the text reader puts where bytes were not valid UTF-8
_FIELDS = "__fields"
_RESCUED_KEYS = "__rescued_keys"


def strip_bom_and_blank(lines: DataFrame, value_col: str = "value") -> DataFrame:
    """Drop a leading UTF-8 byte-order mark and blank lines (which are not records)."""
    cleaned = F.regexp_replace(F.col(value_col), f"^{_BOM}", "").alias(RAW)
    others = [c for c in lines.columns if c != value_col]
    return lines.select(*others, cleaned).where(F.trim(F.col(RAW)) != "")


def parse_json_records(lines: DataFrame, source: LandingSource) -> DataFrame:
    """Parse ``lines`` (a ``_raw`` string column plus pass-through columns) into typed rows.

    Output: pass-through columns, the expected fields in schema order, ``_rescued_data``,
    ``_error_reason`` (null for good rows) and ``_raw``.
    """
    fields = F.col(_FIELDS)
    expected = [f.name for f in source.schema.fields]
    typed = {f.name: _typed(fields[f.name], f.dataType) for f in source.schema.fields}
    unexpected = F.array_except(F.map_keys(fields), F.array(*[F.lit(n) for n in expected]))
    mismatched = F.array_compact(
        F.array(*[F.when(fields[n].isNotNull() & typed[n].isNull(), F.lit(n)) for n in expected])
    )
    parsed = lines.withColumn(_FIELDS, F.from_json(F.col(RAW), "map<string,string>"))
    parsed = parsed.withColumn(_RESCUED_KEYS, F.concat(unexpected, mismatched))
    # Only rows that have something to rescue pay for building the rescued object; a lambda
    # over the rescued keys (not over every field) keeps that cost proportional to the problem.
    keys = F.col(_RESCUED_KEYS)
    rescued = F.when(
        F.size(keys) > 0,
        F.to_json(F.map_from_arrays(keys, F.transform(keys, lambda k: fields[k]))),
    )
    passthrough = [c for c in lines.columns if c != RAW]
    return parsed.select(
        *passthrough,
        *[typed[name].alias(name) for name in expected],
        rescued.alias(RESCUED),
        _error_reason(source, typed).alias(ERROR_REASON),
        F.col(RAW),
    )


def _error_reason(source: LandingSource, typed: dict[str, Column]) -> Column:
    fields = F.col(_FIELDS)
    reason = F.when(F.col(RAW).contains(_REPLACEMENT_CHAR), F.lit(INVALID_ENCODING)).when(
        fields.isNull(), F.lit(INVALID_JSON)
    )
    for key in source.required_keys:
        reason = reason.when(fields[key].isNull(), F.lit(MISSING_REQUIRED_KEY))
    for key in source.required_keys:
        reason = reason.when(typed[key].isNull(), F.lit(INVALID_REQUIRED_KEY))
    return reason


def _typed(raw: Column, dtype: DataType) -> Column:
    """Cast a raw JSON value to ``dtype``; NULL when it does not fit exactly."""
    if isinstance(dtype, StringType):
        return raw
    if isinstance(dtype, DateType):
        return F.try_to_date(raw, "yyyy-MM-dd")
    if isinstance(dtype, TimestampType):
        return F.try_to_timestamp(raw)
    cast = raw.try_cast(dtype)
    if isinstance(dtype, DecimalType):
        # A cast to decimal(p,s) rounds; rescue values that would lose digits instead.
        exact = raw.try_cast(DecimalType(38, 18))
        return F.when(cast == exact, cast)
    return cast
