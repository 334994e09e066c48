"""Personal data: which columns hold it, how it is tagged, and how it is masked. One place.

Every column holding a person's name, address or phone is listed in :data:`PERSONAL_COLUMNS`
with its category. From that list:

* the Delta schema of the table tags the column (field metadata ``lakehouse.personal_data``,
  and a Unity Catalog column tag ``personal_data`` in databricks mode);
* the Dagster asset's column schema tags it (``personal_data: <category>``);
* readers of gold and features who are not entitled see it masked: in databricks mode through a
  Unity Catalog column mask (:func:`column_mask_statements`), locally through
  :func:`mask_personal_data`. Both apply the same SQL expression (:data:`MASKS`), so a masked
  value is the same string everywhere;
* erasure knows what to remove.

Supplier names and addresses are a company's, not a person's, and are not listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

Category = Literal["name", "address", "phone"]

# Field metadata key of a personal column in the Delta schema (and Dagster column tag key).
PERSONAL_DATA_TAG = "lakehouse.personal_data"
DAGSTER_COLUMN_TAG = "personal_data"
# Readers of these layers may be unentitled; the other layers are not granted to readers at all
# (resources/unity_catalog.py), so their columns are tagged but not masked.
MASKED_LAYERS = ("gold", "features")
# A layer's staging schema (storage/staging.py) holds candidate rows of its tables: the same
# personal columns, tagged alike; no reader is granted it.
STAGING_LAYER_SUFFIX = "_staging"
# The group whose members read personal data unmasked (LAKEHOUSE_PII_READERS overrides).
DEFAULT_PII_READERS = "pii_readers"

# The masked value of each category, as one SQL expression of the column value ``{value}``:
# names and addresses become a fixed token, a phone keeps its country code (TPC-H phones begin
# with two digits of the nation), which identifies no one. NULL stays NULL.
MASKS: dict[Category, str] = {
    "name": "CASE WHEN {value} IS NULL THEN NULL ELSE '***' END",
    "address": "CASE WHEN {value} IS NULL THEN NULL ELSE '***' END",
    "phone": (
        "CASE WHEN {value} IS NULL THEN NULL ELSE concat(substr({value}, 1, 3), '***-***-****') END"
    ),
}


@dataclass(frozen=True)
class PersonalColumn:
    """A column of a table (``layer.table``) that holds personal data of one category."""

    table: str
    column: str
    category: Category


def _columns(table: str, **columns: Category) -> tuple[PersonalColumn, ...]:
    return tuple(PersonalColumn(table, column, category) for column, category in columns.items())


PERSONAL_COLUMNS: tuple[PersonalColumn, ...] = (
    *_columns("bronze.customer_events", c_name="name", c_address="address", c_phone="phone"),
    *_columns("bronze.supplier", s_phone="phone"),
    *_columns("silver.customer_events", name="name", address="address", phone="phone"),
    *_columns("silver.customers", name="name", address="address", phone="phone"),
    *_columns("silver.customer_history", name="name", address="address", phone="phone"),
    *_columns("silver.customer_events_quarantine", name="name", address="address", phone="phone"),
    *_columns("gold.dim_customer", customer_name="name", address="address", phone="phone"),
    *_columns("gold.dim_supplier", phone="phone"),
)

# Whose personal data a table holds, by the column holding the customer's key: what erasing a
# customer changes (suppliers are companies; their phone is masked, never erased).
CUSTOMER_KEY_COLUMNS: dict[str, str] = {
    "bronze.customer_events": "c_custkey",
    "silver.customer_events": "customer_id",
    "silver.customers": "customer_id",
    "silver.customer_history": "customer_id",
    "silver.customer_events_quarantine": "customer_id",
    "gold.dim_customer": "customer_id",
}

# Tables whose raw text may hold any of the above (a dead letter is an unparsed record of any
# source): tagged as personal as a whole, erased by content.
RAW_RECORD_TABLES = ("bronze.dead_letter",)


def personal_columns(table: str) -> dict[str, Category]:
    """Column -> category of the personal columns of ``table`` (``layer.table``; a staging
    table's are its published table's)."""
    layer, _, name = table.partition(".")
    published = f"{layer.removesuffix(STAGING_LAYER_SUFFIX)}.{name}"
    return {c.column: c.category for c in PERSONAL_COLUMNS if c.table == published}


def is_masked(table: str) -> bool:
    """Whether unentitled readers see ``table``'s personal columns masked."""
    return table.split(".", 1)[0] in MASKED_LAYERS and bool(personal_columns(table))


def mask_sql(category: Category, value: str) -> str:
    """The masking expression of ``category`` applied to the SQL expression ``value``."""
    return MASKS[category].format(value=value)


def tag_schema(schema: StructType, table: str) -> StructType:
    """``schema`` with each personal column of ``table`` tagged in its field metadata."""
    from pyspark.sql.types import StructField, StructType

    personal = personal_columns(table)
    return StructType(
        [
            StructField(
                f.name,
                f.dataType,
                f.nullable,
                {**f.metadata, PERSONAL_DATA_TAG: personal[f.name]}
                if f.name in personal
                else f.metadata,
            )
            for f in schema.fields
        ]
    )


# Column types Delta keeps min/max statistics of (it refuses to be told to for the others).
STATISTICS_TYPES = frozenset(
    {"byte", "short", "integer", "long", "float", "double", "decimal", "date", "timestamp"}
    | {"timestamp_ntz", "string"}
)

# Columns of raw, unparsed text that may hold anything a source sent, personal data included.
RAW_TEXT_COLUMNS = ("_rescued_data", "raw_record", "raw_bytes", "fields_json")


def statistics_columns(
    schema: StructType, table: str, partition_by: Sequence[str] = ()
) -> list[str] | None:
    """The columns Delta may keep min/max statistics of in its log (the value of
    ``delta.dataSkippingStatsColumns``): every column but the personal and raw-text ones, so
    no name or phone is copied into the transaction log, where erasure could not reach it.
    Partition columns are never listed (their values are in the log anyway). None when the
    table holds neither personal nor raw-text columns (Delta's default then applies)."""
    sensitive = set(personal_columns(table)) | set(RAW_TEXT_COLUMNS)
    if not sensitive & set(schema.fieldNames()):
        return None
    excluded = sensitive | set(partition_by)
    return [
        f.name
        for f in schema.fields
        if f.name not in excluded and f.dataType.typeName() in STATISTICS_TYPES
    ]


def mask_personal_data(df: DataFrame, table: str, *, entitled: bool) -> DataFrame:
    """What a reader of ``table`` sees: the personal columns masked unless ``entitled``
    (the local equivalent of the Unity Catalog column masks)."""
    from pyspark.sql import functions as F

    if entitled or not is_masked(table):
        return df
    personal = personal_columns(table)
    return df.select(
        *[
            F.expr(mask_sql(personal[c], f"`{c}`")).alias(c, metadata=df.schema[c].metadata)
            if c in personal
            else F.col(f"`{c}`")
            for c in df.columns
        ]
    )


def mask_function_name(catalog: str, category: Category) -> str:
    """The Unity Catalog function masking ``category`` (one per category, in ``gold``)."""
    return f"{catalog}.gold.mask_personal_{category}"


def column_mask_statements(catalog: str, tables: Sequence[str], readers: str) -> list[str]:
    """Unity Catalog SQL: the mask functions, the masks and tags of ``tables``' personal
    columns, and EXECUTE on the functions for ``readers`` (the grants of the tables
    themselves are :func:`~lakehouse_assets.resources.unity_catalog.grant_statements`).

    A mask function returns the value to members of ``readers``' entitled group
    (``is_account_group_member``) and the masked value to everyone else."""
    group = readers.replace("'", "''")
    masked = any(is_masked(table) for table in tables)
    statements = [
        f"CREATE OR REPLACE FUNCTION {mask_function_name(catalog, category)}(value STRING) "
        f"RETURNS STRING RETURN CASE WHEN is_account_group_member('{group}') THEN value "
        f"ELSE {mask_sql(category, 'value')} END"
        for category in (MASKS if masked else ())
    ]
    for table in tables:
        statements += column_statements(catalog, table)
    return statements


def column_statements(catalog: str, table: str) -> list[str]:
    """Tag every personal column of ``table``; mask it too where readers may be unentitled."""
    statements = []
    for column, category in personal_columns(table).items():
        target = f"ALTER TABLE {catalog}.{table} ALTER COLUMN `{column}`"
        statements.append(f"{target} SET TAGS ('{DAGSTER_COLUMN_TAG}' = '{category}')")
        if is_masked(table):
            statements.append(f"{target} SET MASK {mask_function_name(catalog, category)}")
    return statements
