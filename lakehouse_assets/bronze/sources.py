"""The landed sources: where each lands, its format and the schema the lakehouse expects.

The expected schemas are explicit (no inference): a source that starts sending something else
is detected, not silently absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pyspark.sql.types import (
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

SOURCE_SYSTEM = "tpch"
MONEY = DecimalType(15, 2)


def _schema(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, nullable=True) for name, dtype in fields])


@dataclass(frozen=True)
class LandingSource:
    """One source system feed landing as files under ``<landing_root>/<name>/<YYYY-MM-DD>/``."""

    name: str
    file_format: Literal["jsonl", "csv", "parquet"]
    schema: StructType
    required_keys: tuple[str, ...]
    source_system: str = SOURCE_SYSTEM

    @property
    def file_glob(self) -> str:
        """Files of this source relative to its landing folder (one folder per landing date)."""
        return f"*/*.{self.file_format}"


ORDERS = LandingSource(
    name="orders",
    file_format="jsonl",
    schema=_schema(
        ("o_orderkey", LongType()),
        ("o_custkey", LongType()),
        ("o_orderstatus", StringType()),
        ("o_totalprice", MONEY),
        ("o_orderdate", DateType()),
        ("o_orderpriority", StringType()),
        ("o_clerk", StringType()),
        ("o_shippriority", IntegerType()),
        ("o_comment", StringType()),
    ),
    required_keys=("o_orderkey", "o_orderdate"),
)

LINEITEM = LandingSource(
    name="lineitem",
    file_format="jsonl",
    schema=_schema(
        ("l_orderkey", LongType()),
        ("l_partkey", LongType()),
        ("l_suppkey", LongType()),
        ("l_linenumber", IntegerType()),
        ("l_quantity", MONEY),
        ("l_extendedprice", MONEY),
        ("l_discount", MONEY),
        ("l_tax", MONEY),
        ("l_returnflag", StringType()),
        ("l_linestatus", StringType()),
        ("l_shipdate", DateType()),
        ("l_commitdate", DateType()),
        ("l_receiptdate", DateType()),
        ("l_shipinstruct", StringType()),
        ("l_shipmode", StringType()),
        ("l_comment", StringType()),
    ),
    required_keys=("l_orderkey", "l_linenumber"),
)

DAILY_JSON_SOURCES = (ORDERS, LINEITEM)
