"""Specs of the monitoring tables (the lakehouse's own operational record)."""

from __future__ import annotations

from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage import TableSpec

# The file ledger never expires: it is what makes re-landing an old file a no-op.
INGESTED_FILES = TableSpec(
    layer="monitoring",
    name="ingested_files",
    partition_by=("source",),
    comment=(
        "File ledger of bronze ingestion: one row per landed file a stream consumed, with its "
        "accounting: records = bronze_rows + dead_lettered (blank lines counted apart)."
    ),
    # One small write per micro-batch; auto-compaction merges the files, a shuffle per write
    # would only slow the stream down.
    properties=(("delta.autoOptimize.optimizeWrite", "false"),),
)

INGESTION_EVENTS = TableSpec(
    layer="monitoring",
    name="ingestion_events",
    comment=(
        "One row per bronze ingestion run and source: files processed, input records, "
        "records/s, dead-lettered records and the backlog of files still outstanding."
    ),
    retention=RowRetention("monitoring", "started_at"),
)

SCHEMA_CHANGES = TableSpec(
    layer="monitoring",
    name="schema_changes",
    comment=(
        "Schema drift per bronze batch: fields a source sent that it does not declare "
        "(new_field) or whose value did not fit the declared type (type_mismatch), both kept "
        "in _rescued_data, and columns added by mode addNewColumns (column_added); with "
        "record counts, the first file, and is_new the first time a field and kind appear."
    ),
    retention=RowRetention("monitoring", "detected_at"),
)

DQ_METRICS = TableSpec(
    layer="monitoring",
    name="dq_metrics",
    comment=(
        "One row per run, table and quality rule: rows evaluated, rows failing, failure rate "
        "and the verdict (passed / warned / failed)."
    ),
    retention=RowRetention("monitoring", "evaluated_at"),
)

TABLE_VERSIONS = TableSpec(
    layer="monitoring",
    name="table_versions",
    comment=(
        "One row per checked gold write: table_name, delta_version, whether every blocking "
        "check passed, run_id. The last passing version is what restore_table goes back to; "
        "kept in the lake so a step on a cluster finds it without the Dagster instance."
    ),
    retention=RowRetention("monitoring", "recorded_at"),
)
TABLE_VERSIONS_SCHEMA = (
    "table_name string, delta_version long, blocking_checks_passed boolean, run_id string, "
    "recorded_at timestamp"
)

DATA_DICTIONARY = TableSpec(
    layer="monitoring",
    name="data_dictionary",
    comment=(
        "Every lakehouse table and column: layer, table comment, partitioning, position, "
        "type, nullability and column comment (rebuilt whole by the data_dictionary asset)."
    ),
)

SLA_METRICS = TableSpec(
    layer="monitoring",
    name="sla_metrics",
    comment=(
        "One row per freshness SLA evaluation and table: expected and actual freshness in "
        "minutes, met or missed, and why (written by the freshness_sla checks)."
    ),
    retention=RowRetention("monitoring", "sla_timestamp"),
)

PIPELINE_RUNS = TableSpec(
    layer="monitoring",
    name="pipeline_runs",
    comment=(
        "One row per Dagster run and asset partition (or partition range): start, end, "
        "status, rows read, rows written, duration and error message."
    ),
    retention=RowRetention("monitoring", "start_time"),
)

TABLE_MAINTENANCE = TableSpec(
    layer="monitoring",
    name="table_maintenance",
    comment=(
        "One row per maintenance operation and table (OPTIMIZE, VACUUM, RETENTION): files "
        "added and removed, bytes before and after, rows expired and duration."
    ),
    retention=RowRetention("monitoring", "maintained_at"),
)

ERASURE_AUDIT = TableSpec(
    layer="monitoring",
    name="erasure_audit",
    comment=(
        "One row per customer erasure request (and dry run): who asked, why, when, and the "
        "rows changed per table. Holds the customer's key, never their personal data; kept "
        "forever as the record of the request."
    ),
)

ERASURE_SUPPRESSIONS = TableSpec(
    layer="monitoring",
    name="erasure_suppressions",
    comment=(
        "Customers whose personal data was erased: bronze drops (and counts) their records "
        "when landed files are ingested or dead letters replayed, so they never come back."
    ),
)
