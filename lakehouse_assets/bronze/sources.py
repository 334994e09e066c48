"""The landed sources: where each lands, its format and the schema the lakehouse expects.

The expected schemas are explicit (no inference): a source that starts sending something else
is detected, not silently absorbed. What happens to fields the schema does not expect is the
source's schema-evolution mode, named after Auto Loader's:

* ``rescue`` (default): unexpected fields and values that do not fit their type go to the
  ``_rescued_data`` JSON column; the row is kept.
* ``addNewColumns``: unexpected fields become new (string) columns of the bronze table; each new
  column is recorded in ``monitoring.schema_changes``.
* ``failOnNewColumns``: the run stops with an error naming the file and the column.
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
    TimestampType,
)

SOURCE_SYSTEM = "tpch"
MONEY = DecimalType(15, 2)
SchemaEvolutionMode = Literal["rescue", "addNewColumns", "failOnNewColumns"]
SCHEMA_EVOLUTION_MODES: tuple[SchemaEvolutionMode, ...] = (
    "rescue",
    "addNewColumns",
    "failOnNewColumns",
)


def _schema(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, nullable=True) for name, dtype in fields])


@dataclass(frozen=True)
class LandingSource:
    """One source-system feed landing as files under ``<landing_root>/<name>/<YYYY-MM-DD>/``.

    Attributes:
        daily_extract: The source lands a file every day (possibly empty); a day without a file
            is an incident. Snapshot sources land only when they have a new snapshot.
        required_keys: Fields without which a record cannot be used at all; records missing
            them go to the dead-letter queue.
        max_files_per_trigger / max_bytes_per_trigger: default micro-batch rate limits.
        business_date_field: The date silver partitions the records by, when it is not the
            landing date (an order's ``o_orderdate``): records whose business date is not their
            folder's are reported (``bronze/dating.py``).
    """

    name: str
    file_format: Literal["jsonl", "csv", "parquet"]
    schema: StructType
    required_keys: tuple[str, ...]
    daily_extract: bool = True
    evolution_mode: SchemaEvolutionMode = "rescue"
    max_files_per_trigger: int | None = 1000
    max_bytes_per_trigger: int | None = None
    source_system: str = SOURCE_SYSTEM
    # Records hold personal data (a customer's name, address, phone; a supplier's phone).
    contains_pii: bool = False
    # Raw records may expire (LAKEHOUSE_RETENTION_RAW_RECORDS_DAYS): only for sources whose
    # silver tables are rebuilt per date window (customer events are replayed from silver's
    # event log, not from bronze). Snapshot sources feed dimensions rebuilt from the whole
    # bronze table, so their raw records are kept.
    raw_records_expire: bool = False
    business_date_field: str | None = None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.schema.fields]


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
    raw_records_expire=True,
    business_date_field="o_orderdate",
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
    raw_records_expire=True,
)

_CUSTOMER_FIELDS = (
    ("c_custkey", LongType()),
    ("c_name", StringType()),
    ("c_address", StringType()),
    ("c_nationkey", LongType()),
    ("c_phone", StringType()),
    ("c_acctbal", MONEY),
    ("c_mktsegment", StringType()),
    ("c_comment", StringType()),
)

CUSTOMER_EVENTS = LandingSource(
    name="customer_events",
    contains_pii=True,
    file_format="jsonl",
    schema=_schema(
        ("op", StringType()),
        ("sequence_num", LongType()),
        ("event_ts", TimestampType()),
        *_CUSTOMER_FIELDS,
    ),
    # Keys and sequence numbers are validated by silver's CDC, which quarantines events with a
    # NULL key or sequence with a reason; bronze keeps every parseable event.
    required_keys=(),
    raw_records_expire=True,
)

PART = LandingSource(
    name="part",
    file_format="parquet",
    schema=_schema(
        ("p_partkey", LongType()),
        ("p_name", StringType()),
        ("p_mfgr", StringType()),
        ("p_brand", StringType()),
        ("p_type", StringType()),
        ("p_size", IntegerType()),
        ("p_container", StringType()),
        ("p_retailprice", MONEY),
        ("p_comment", StringType()),
    ),
    required_keys=("p_partkey",),
    daily_extract=False,
)

SUPPLIER = LandingSource(
    name="supplier",
    contains_pii=True,
    file_format="parquet",
    schema=_schema(
        ("s_suppkey", LongType()),
        ("s_name", StringType()),
        ("s_address", StringType()),
        ("s_nationkey", LongType()),
        ("s_phone", StringType()),
        ("s_acctbal", MONEY),
        ("s_comment", StringType()),
    ),
    required_keys=("s_suppkey",),
    daily_extract=False,
)

NATION = LandingSource(
    name="nation",
    file_format="csv",
    schema=_schema(
        ("n_nationkey", LongType()),
        ("n_name", StringType()),
        ("n_regionkey", LongType()),
        ("n_comment", StringType()),
    ),
    required_keys=("n_nationkey",),
    daily_extract=False,
)

REGION = LandingSource(
    name="region",
    file_format="csv",
    schema=_schema(
        ("r_regionkey", LongType()),
        ("r_name", StringType()),
        ("r_comment", StringType()),
    ),
    required_keys=("r_regionkey",),
    daily_extract=False,
)

ALL_SOURCES: tuple[LandingSource, ...] = (
    ORDERS,
    LINEITEM,
    CUSTOMER_EVENTS,
    PART,
    SUPPLIER,
    NATION,
    REGION,
)
SOURCES_BY_NAME = {s.name: s for s in ALL_SOURCES}
