"""Materialization metadata, read from the Delta log and the written partition."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagster import MetadataValue, TableColumn, TableSchema

from lakehouse_assets.privacy import DAGSTER_COLUMN_TAG, personal_columns

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage.delta_tables import DeltaTableStore, TableSpec, WriteResult


def table_schema(schema: StructType, table: str | None = None) -> TableSchema:
    """Dagster's column schema (name, Spark type, comment) of a Spark schema; the personal
    columns of ``table`` (``layer.table``) carry the tag ``personal_data: <category>``."""
    personal = personal_columns(table) if table else {}
    return TableSchema(
        columns=[
            TableColumn(
                name=f.name,
                type=f.dataType.simpleString(),
                description=f.metadata.get("comment"),
                tags={DAGSTER_COLUMN_TAG: personal[f.name]} if f.name in personal else None,
            )
            for f in schema.fields
        ]
    )


def materialization_metadata(
    store: DeltaTableStore,
    spec: TableSpec,
    *,
    write: WriteResult | None,
    window: DateWindow | None = None,
    date_column: str | None = None,
    partition_row_count: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Row counts, Delta version, table location, schema and partition of a materialization.

    ``dagster/row_count`` is the whole table (Delta answers an unfiltered count from file
    statistics); ``dagster/partition_row_count`` is the rows of the materialized window (pass
    ``partition_row_count`` when the caller has already counted it).
    """
    df = store.read(spec)
    metadata: dict[str, Any] = {
        "dagster/table_name": spec.qualified_name,
        "table_location": store.identifier(spec),
        "dagster/row_count": store.row_count(spec),
        "delta_version": write.version if write is not None else store.version(spec),
        "dagster/column_schema": table_schema(df.schema, spec.qualified_name),
    }
    if window is not None and date_column is not None:
        metadata["partition"] = window.label()
        if partition_row_count is None:
            partition_row_count = df.where(window.sql_predicate(date_column)).count()
        metadata["dagster/partition_row_count"] = partition_row_count
    if write is not None:
        metadata["delta_operation"] = write.operation
        metadata["rows_written"] = write.rows_written
        if write.metrics:
            metadata["delta_operation_metrics"] = MetadataValue.json(dict(write.metrics))
    metadata.update(extra or {})
    return metadata
