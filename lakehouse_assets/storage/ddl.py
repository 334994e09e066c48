"""``CREATE TABLE`` statements (pure: a schema in, SQL out).

Tables are created with SQL rather than Delta's Python table builder: the builder drives the
JVM directly (no Spark Connect) and only parses two-part names outside Databricks; the SQL form
takes ``delta.`<path>``` and ``<catalog>.<schema>.<table>`` everywhere, with the same columns,
comments, layout and properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql.types import StructType


def sql_string(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def column_definitions(schema: StructType) -> str:
    columns = []
    for field in schema.fields:
        column = f"`{field.name}` {field.dataType.simpleString()}"
        if not field.nullable:
            column += " NOT NULL"
        comment = field.metadata.get("comment")
        if comment:
            column += f" COMMENT {sql_string(comment)}"
        columns.append(column)
    return ",\n  ".join(columns)


def create_table_sql(
    identifier: str,
    schema: StructType | None,
    *,
    partition_by: Sequence[str] = (),
    cluster_by: Sequence[str] = (),
    comment: str | None = None,
    properties: Mapping[str, str] | None = None,
    as_select: str | None = None,
) -> str:
    """``CREATE TABLE IF NOT EXISTS <identifier> (...) USING DELTA ...``.

    With ``as_select`` (a view name) the columns are the view's instead of ``schema``'s:
    ``... AS SELECT * FROM <view>``, which keeps each field's metadata.
    """
    if (schema is None) == (as_select is None):
        raise ValueError("create_table_sql needs a schema or a view to select from, not both")
    if schema is not None:
        parts = [f"CREATE TABLE IF NOT EXISTS {identifier} (\n  {column_definitions(schema)}\n)"]
    else:
        parts = [f"CREATE TABLE IF NOT EXISTS {identifier}"]
    parts.append("USING DELTA")
    if partition_by:
        parts.append("PARTITIONED BY (" + ", ".join(f"`{c}`" for c in partition_by) + ")")
    if cluster_by:
        parts.append("CLUSTER BY (" + ", ".join(f"`{c}`" for c in cluster_by) + ")")
    if comment:
        parts.append(f"COMMENT {sql_string(comment)}")
    if properties:
        pairs = ", ".join(f"{sql_string(k)} = {sql_string(v)}" for k, v in properties.items())
        parts.append(f"TBLPROPERTIES ({pairs})")
    if as_select is not None:
        parts.append(f"AS SELECT * FROM `{as_select}`")
    return "\n".join(parts)
