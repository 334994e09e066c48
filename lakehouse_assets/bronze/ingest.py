"""Materialize a bronze asset: run the source's stream, then prove the window is complete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity, MaterializeResult
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_step
from lakehouse_assets.bronze.landing_zone import LandingZone, LandingZoneError
from lakehouse_assets.bronze.streaming import LANDING_DATE, StreamLimits, run_bronze_stream
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.monitoring.tables import INGESTED_FILES
from lakehouse_assets.partitions import DateWindow
from lakehouse_assets.storage.metadata import materialization_metadata

if TYPE_CHECKING:
    from dagster import AssetExecutionContext

    from lakehouse_assets.bronze.sources import LandingSource
    from lakehouse_assets.storage import DeltaTableStore

LANDED_FILES_INGESTED = "landed_files_ingested"


def materialize_bronze_source(
    context: AssetExecutionContext,
    source: LandingSource,
    limits: StreamLimits | None = None,
) -> MaterializeResult:
    """Ingest ``source``'s new files and report the requested partitions of its bronze table.

    The stream ingests *every* new file of the source, as Auto Loader does; the partitions of
    this run are the landing dates whose files it must leave fully ingested.
    """
    step = spark_step(context)
    session, store, storage, window = step.session, step.store, step.storage, step.window
    landing = LandingZone(session, storage.landing_dir(source.name), source.file_format)
    landing.require_exists(source.name)
    missing = landing.days_without_files(window.days())
    if missing:
        raise LandingZoneError(
            f"no {source.name} file landed for {_days_label(missing)} under "
            f"{landing.source_dir}/<YYYY-MM-DD>/ (an empty daily extract is fine; no file is not)"
        )
    report = run_bronze_stream(
        session,
        store,
        source,
        bronze_table(source),
        landing_dir=landing.source_dir,
        checkpoint_dir=storage.checkpoint_dir("bronze", source.name),
        limits=limits or StreamLimits(),
    )
    context.log.info(
        f"bronze.{source.name}: {report.files_processed} files, {report.input_records} records "
        f"in {len(report.batches)} micro-batches ({report.rows_per_second:,.0f} records/s)"
    )
    check = landed_files_check(store, landing, source, window)
    metadata = materialization_metadata(
        store,
        bronze_table(source),
        write=None,
        window=window,
        date_column=LANDING_DATE,
        extra={
            "stream_query_id": report.query_id,
            "stream_batches": len(report.batches),
            "files_processed": report.files_processed,
            "input_records": report.input_records,
            "bronze_rows_written": report.bronze_rows,
            "rejected_records": report.rejected_records,
            "records_per_second": round(report.rows_per_second, 1),
        },
    )
    return MaterializeResult(metadata=metadata, check_results=[check])


def landed_files_check(
    store: DeltaTableStore, landing: LandingZone, source: LandingSource, window: DateWindow
) -> AssetCheckResult:
    """Every file landed for the window is in the file ledger, i.e. was ingested."""
    landed = {f.path for f in landing.files_for(window.days())}
    ingested = {
        row.file_path
        for row in store.read_window(INGESTED_FILES, window, "landing_date")
        .where(F.col("source") == source.name)
        .select("file_path")
        .collect()
    }
    missing = sorted(landed - ingested)
    return AssetCheckResult(
        check_name=LANDED_FILES_INGESTED,
        passed=not missing,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "landed_files": len(landed),
            "ingested_files": len(landed & ingested),
            "missing_files": missing[:20],
        },
    )


def _days_label(days: list) -> str:
    shown = ", ".join(d.isoformat() for d in days[:5])
    return shown + (f" and {len(days) - 5} more days" if len(days) > 5 else "")
