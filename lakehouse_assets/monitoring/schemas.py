"""Column schemas (with comments) of the monitoring tables built from Dagster's own records."""

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)


def _column(name: str, kind: DataType, nullable: bool, comment: str) -> StructField:
    return StructField(name, kind, nullable, {"comment": comment})


SLA_METRICS_SCHEMA = StructType(
    [
        _column("table_name", StringType(), False, "Asset / table evaluated."),
        _column("layer", StringType(), False, "bronze, silver or gold."),
        _column("sla_timestamp", TimestampType(), False, "Instant of the evaluation (UTC)."),
        _column(
            "expected_freshness_minutes",
            DoubleType(),
            False,
            "Allowed staleness at sla_timestamp, in minutes.",
        ),
        _column(
            "actual_freshness_minutes",
            DoubleType(),
            True,
            "Measured staleness in minutes (null: never materialized).",
        ),
        _column("sla_met", BooleanType(), False, "actual <= expected."),
        _column("last_update", TimestampType(), True, "Last materialization (UTC)."),
        _column("reason", StringType(), False, "Why the SLA was met or missed."),
        _column("run_id", StringType(), False, "Dagster run that evaluated."),
    ]
)

PIPELINE_RUNS_SCHEMA = StructType(
    [
        _column("pipeline_name", StringType(), False, "Dagster job the run belonged to."),
        _column("run_id", StringType(), False, "Dagster run id."),
        _column("asset", StringType(), False, "Asset (table) the row is about."),
        _column(
            "partition",
            StringType(),
            False,
            "Partition, 'first...last' for a single-run range, or 'unpartitioned'.",
        ),
        _column("start_time", TimestampType(), True, "When the asset's step started (UTC)."),
        _column("end_time", TimestampType(), True, "When the asset's step ended (UTC)."),
        _column("status", StringType(), False, "SUCCESS, FAILED, CANCELED or RUNNING."),
        _column("rows_read", LongType(), True, "Input rows the asset reported (null: none)."),
        _column("rows_written", LongType(), True, "Rows the asset wrote (null: none reported)."),
        _column("duration_seconds", DoubleType(), True, "end_time - start_time, in seconds."),
        _column("error_message", StringType(), True, "Why the step failed (redacted)."),
    ]
)

TABLE_MAINTENANCE_SCHEMA = StructType(
    [
        _column("table_name", StringType(), False, "Table maintained (layer.table)."),
        _column("layer", StringType(), False, "Layer of the table."),
        _column("operation", StringType(), False, "OPTIMIZE, VACUUM or RETENTION."),
        _column("maintained_at", TimestampType(), False, "When the operation ended (UTC)."),
        _column("files_before", LongType(), False, "Data files of the current version before."),
        _column("files_after", LongType(), False, "Data files of the current version after."),
        _column("bytes_before", LongType(), False, "Bytes of the current version before."),
        _column("bytes_after", LongType(), False, "Bytes of the current version after."),
        _column("files_added", LongType(), False, "Files the operation wrote."),
        _column(
            "files_removed",
            LongType(),
            False,
            "Files the operation removed from the table (OPTIMIZE, RETENTION) or deleted "
            "from storage (VACUUM).",
        ),
        _column("bytes_removed", LongType(), False, "Bytes of the files removed or deleted."),
        _column("rows_removed", LongType(), False, "Rows expired by a retention policy."),
        _column("duration_seconds", DoubleType(), False, "Wall time of the operation."),
        _column("detail", StringType(), False, "Retention applied, clustering columns."),
        _column("run_id", StringType(), False, "Dagster run that maintained the table."),
    ]
)
