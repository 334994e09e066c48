"""Materialize a bronze asset: run the source's stream, then prove the run's accounting."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetObservation,
    Config,
    MaterializeResult,
    MetadataValue,
)
from pydantic import Field
from pyspark.sql import functions as F

from lakehouse_assets.asset_factory import spark_step
from lakehouse_assets.bronze.batch import (
    LEDGER_SCHEMA,
    REJECTED,
    FileAccount,
    landing_date_of_path,
    ledger_rows,
)
from lakehouse_assets.bronze.dating import (
    OffFolderDates,
    business_dates_outside,
    records_in_folder_date_check,
    records_outside_folders,
)
from lakehouse_assets.bronze.decoding import NOT_IN_A_DATE_FOLDER
from lakehouse_assets.bronze.drift import new_drift, schema_drift_check
from lakehouse_assets.bronze.landing_zone import LandedFile, LandingZone, LandingZoneError
from lakehouse_assets.bronze.sensors import LATE_RECORDS_TAG
from lakehouse_assets.bronze.streaming import IngestionReport, StreamLimits, run_bronze_stream
from lakehouse_assets.bronze.tables import (
    BATCH_ID,
    DEAD_LETTER,
    INGESTION_DATE,
    LANDING_DATE,
    SOURCE_FILE,
    bronze_table,
)
from lakehouse_assets.monitoring.tables import INGESTED_FILES, INGESTION_EVENTS
from lakehouse_assets.partitions import PARTITION_CALENDAR
from lakehouse_assets.storage.metadata import materialization_metadata

if TYPE_CHECKING:
    from dagster import AssetExecutionContext

    from lakehouse_assets.bronze.sources import LandingSource, SchemaEvolutionMode
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore

LANDED_FILES_INGESTED = "landed_files_ingested"
INGESTION_ACCOUNTING = "ingestion_accounting"
NO_NEW_DEAD_LETTERS = "no_new_dead_letters"
NO_REJECTED_FILES = "no_rejected_files"

INGESTION_EVENT_SCHEMA = (
    "run_id string, source string, partitions string, started_at timestamp, "
    "finished_at timestamp, duration_s double, status string, batches int, "
    "files_processed long, input_records long, bronze_rows long, dead_lettered long, "
    "records_per_second double, backlog_files int, new_columns array<string>, error string"
)


class EvolutionMode(Enum):
    """Schema-evolution modes (see :mod:`lakehouse_assets.bronze.sources`)."""

    rescue = "rescue"
    addNewColumns = "addNewColumns"
    failOnNewColumns = "failOnNewColumns"


class BronzeIngestConfig(Config):
    """Per-run overrides of a source's ingestion settings (defaults live on the source)."""

    max_files_per_trigger: int | None = Field(
        default=None, description="Files per micro-batch (default: the source's setting)."
    )
    max_bytes_per_trigger: int | None = Field(
        default=None, description="Bytes per micro-batch; replaces max_files_per_trigger."
    )
    schema_evolution_mode: EvolutionMode | None = Field(
        default=None, description="rescue | addNewColumns | failOnNewColumns (default: source's)."
    )

    def evolution_mode(self, source: LandingSource) -> SchemaEvolutionMode:
        if self.schema_evolution_mode is None:
            return source.evolution_mode
        return self.schema_evolution_mode.value  # type: ignore[return-value]

    def limits(self, source: LandingSource) -> StreamLimits:
        if self.max_bytes_per_trigger:
            return StreamLimits(None, self.max_bytes_per_trigger)
        files = self.max_files_per_trigger or source.max_files_per_trigger
        return StreamLimits(files, None if files else source.max_bytes_per_trigger)


def materialize_bronze_source(
    context: AssetExecutionContext, source: LandingSource, config: BronzeIngestConfig
) -> MaterializeResult:
    """Ingest ``source``'s new files and report the requested partitions of its bronze table.

    The stream ingests *every* new file of the source, as Auto Loader does; the partitions of
    this run are the landing dates whose files it must leave fully ingested.
    """
    step = spark_step(context)
    store, window = step.store, step.window
    landing = LandingZone(step.session, step.storage.landing_dir(source.name), source.file_format)
    landing.require_exists(source.name)
    if source.daily_extract:
        _require_daily_files(landing, source, window)
    mode = config.evolution_mode(source)
    started_at = dt.datetime.now(dt.UTC)
    try:
        already_ingested = _ingested_paths(store, source)
        landed = landing.every_file()
        # Every file in a date folder is in the ledger: the stream would list them and skip each
        # one. Not starting it saves a query start and a checkpoint commit (about a second) on
        # every run in which this source landed nothing, a snapshot source's usual day. The checks
        # below still judge the ledger as it is.
        stream_needed = not (
            store.exists(bronze_table(source)) and nothing_new(landed, already_ingested)
        )
        if not stream_needed:
            report = IngestionReport(source=source.name)
        else:
            report = run_bronze_stream(
                step.session,
                store,
                source,
                landing_dir=landing.source_dir,
                checkpoint_dir=step.storage.checkpoint_dir("bronze", source.name),
                limits=config.limits(source),
                evolution_mode=mode,
                already_ingested=already_ingested,
            )
    except Exception as exc:
        _record_failure(store, context, source, window, started_at, exc)
        raise
    # One listing and one ledger read serve the backlog, the landed-files check and the files
    # the stream cannot see (outside any folder of the source). Without a stream, nothing has
    # written the ledger since the reads above; after one, both are taken again.
    ingested = set(already_ingested)
    if stream_needed:
        landed = landing.every_file()
        ingested = _ingested_paths(store, source)
    outside = record_files_outside_folders(store, source, landed, ingested)
    ingested |= {f.path for f in outside}
    backlog = sum(1 for f in landed if f.path not in ingested)
    _record_event(store, context, source, window, started_at, report, backlog)
    rejected = [*report.rejected_files, *outside]
    batch_ids = [b.batch_id for b in report.batches]
    folders = [d for b in report.batches for f in b.files if (d := landing_date_of_path(f.path))]
    dated = records_outside_folders(store, source, batch_ids, folders)
    context.log.info(
        f"bronze.{source.name}: {report.files_processed} files, {report.input_records} records "
        f"({report.dead_lettered} dead-lettered) in {len(report.batches)} micro-batches, "
        f"{report.rows_per_second:,.0f} records/s; backlog {backlog} files, "
        f"{len(rejected)} rejected, {report.skipped_files} already in the file ledger"
        + (
            f"; corrupt checkpoint set aside at {report.recovered_checkpoint}"
            if report.recovered_checkpoint
            else ""
        )
    )
    checks = [
        landed_files_check(landed, ingested, window),
        accounting_check(store, source, report),
        dead_letter_check(report),
        rejected_files_check(rejected),
        schema_drift_check(new_drift(store, source.name, batch_ids)),
        records_in_folder_date_check(source, dated),
    ]
    report_business_dates(context, dated)
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
            "dead_lettered": report.dead_lettered,
            "records_per_second": round(report.rows_per_second, 1),
            "stream_seconds": round(report.duration_s, 2),
            "backlog_files": backlog,
            "rejected_files": len(rejected),
            "skipped_already_ingested": report.skipped_files,
            "recovered_checkpoint": report.recovered_checkpoint or "",
            "schema_evolution_mode": mode,
            "new_columns": report.new_columns,
        },
    )
    return MaterializeResult(metadata=metadata, check_results=checks)


def report_business_dates(context: AssetExecutionContext, dated: list[OffFolderDates]) -> None:
    """An observation of each business date the run's records carry outside their folders
    (within the partitions), tagged ``LATE_RECORDS_TAG``: the UI shows the date changed, and
    the landing sensor builds its tables (``bronze/sensors.py``).

    An observation, not a materialization: bronze's partition of that date was not written
    (the records are under their folder's date). A materialization would also make
    automation request the date's tables beside the sensor's run of them: one duplicate run
    per late date (Dagster ignores an update only where the run that made it also targeted
    the downstream partition, and a landing run targets its own dates). Automation reads
    materializations only."""
    last_partition = PARTITION_CALENDAR.last_date(dt.datetime.now(dt.UTC))
    for day in business_dates_outside(dated):
        if not PARTITION_CALENDAR.start <= day <= last_partition:
            continue
        records = sum(d.records for d in dated if d.business_date == day)
        folders = sorted({d.folder_date.isoformat() for d in dated if d.business_date == day})
        context.log_event(
            AssetObservation(
                asset_key=context.asset_key,
                partition=day.isoformat(),
                description="late records: dated this day, landed in another day's folder",
                metadata={"records": records, "landing_folders": ", ".join(folders)},
                # The landing sensor runs this date's tables on it (bronze/sensors.py).
                tags={LATE_RECORDS_TAG: "true"},
            )
        )


def nothing_new(landed: list[LandedFile], ingested: set[str]) -> bool:
    """Whether every landed file the stream can see (those in a date folder) is in the file
    ledger already, so that a stream run would ingest nothing."""
    return all(f.path in ingested for f in landed if f.landing_date is not None)


def _require_daily_files(landing: LandingZone, source: LandingSource, window: DateWindow) -> None:
    missing = landing.days_without_files(window.days())
    if missing:
        shown = ", ".join(d.isoformat() for d in missing[:5])
        more = f" and {len(missing) - 5} more days" if len(missing) > 5 else ""
        raise LandingZoneError(
            f"no {source.name} file landed for {shown}{more} under "
            f"{landing.source_dir}/<YYYY-MM-DD>/ (an empty daily extract is fine; no file is not)"
        )


def _ledger(store: DeltaTableStore, source: LandingSource):  # type: ignore[no-untyped-def]
    return store.read(INGESTED_FILES).where(F.col("source") == source.name)


def _ingested_paths(store: DeltaTableStore, source: LandingSource) -> set[str]:
    """Files of the source in the ledger, i.e. ingested by some run."""
    if not store.exists(INGESTED_FILES):
        return set()
    rows = store.select(INGESTED_FILES, ["file_path"], {"source": source.name})
    return {path for (path,) in rows}


def landed_files_check(
    landed: list[LandedFile], ingested: set[str], window: DateWindow
) -> AssetCheckResult:
    """Every file landed for the window, and every file outside a date folder, is in the file
    ledger: ingested, or rejected with a reason. A file no run has looked at fails the check."""
    in_window = {f.path for f in landed if f.landing_date is None or f.landing_date in window}
    missing = sorted(in_window - ingested)
    return AssetCheckResult(
        check_name=LANDED_FILES_INGESTED,
        passed=not missing,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "landed_files": len(in_window),
            "ingested_files": len(in_window) - len(missing),
            "missing_files": missing[:20],
        },
    )


def rejected_files_check(rejected: list[FileAccount]) -> AssetCheckResult:
    """Warn (never block) when this run rejected files: not the source's format, or not in a
    date folder. They are in the file ledger with the reason; nothing was read from them."""
    files = [{"file": f.path, "reason": f.reject_reason} for f in rejected]
    return AssetCheckResult(
        check_name=NO_REJECTED_FILES,
        passed=not files,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{len(files)} landed files rejected (see monitoring.ingested_files)"
            if files
            else "every landed file was readable as the source's format"
        ),
        metadata={"rejected_files": MetadataValue.json(files[:50])},
    )


def record_files_outside_folders(
    store: DeltaTableStore, source: LandingSource, landed: list[LandedFile], ingested: set[str]
) -> list[FileAccount]:
    """Ledger rows (rejected, ``not_in_a_date_folder``) for the files outside a date folder
    that the stream did not record (straight in the source folder, or nested deeper): called
    after the stream ran, so whatever it can see is in the ledger already."""
    outside = [
        FileAccount(f.path, status=REJECTED, reject_reason=NOT_IN_A_DATE_FOLDER)
        for f in landed
        if f.path not in ingested and f.landing_date is None
    ]
    if outside:
        rows = ledger_rows(source, outside, batch_id=None)
        ledger = store.spark.createDataFrame(rows, LEDGER_SCHEMA).withColumn(
            "ingested_at", F.current_timestamp()
        )
        store.append(INGESTED_FILES, ledger, merge_schema=True)
    return outside


def accounting_check(
    store: DeltaTableStore, source: LandingSource, report: IngestionReport
) -> AssetCheckResult:
    """Per file of this run, read back from the tables: the records counted from the file's
    bytes (the ledger, counted apart from the parser) = its rows in bronze + its dead letters.
    """
    batch_ids = [b.batch_id for b in report.batches]
    if not batch_ids:
        return AssetCheckResult(
            check_name=INGESTION_ACCOUNTING,
            passed=True,
            metadata={"files": 0, "note": "no new files: nothing written"},
        )
    since = min(b.ingestion_date for b in report.batches) - dt.timedelta(days=1)
    ledger = _ledger(store, source).where(
        F.coalesce(F.col("status"), F.lit("ingested")) != REJECTED
    )
    sides = [
        _per_file("records", ledger, "batch_id", "file_path", batch_ids, F.sum("records")),
        # Records of erased customers, dropped and counted (bronze.suppression).
        _per_file(
            "suppressed",
            ledger,
            "batch_id",
            "file_path",
            batch_ids,
            F.sum(F.coalesce(F.col("suppressed"), F.lit(0))),
        ),
        _per_file(
            "bronze",
            store.read(bronze_table(source)).where(F.col(INGESTION_DATE) >= F.lit(since)),
            BATCH_ID,
            SOURCE_FILE,
            batch_ids,
            F.count(F.lit(1)),
        ),
    ]
    if store.exists(DEAD_LETTER):
        letters = store.read(DEAD_LETTER).where(F.col("source") == source.name)
        sides.append(
            _per_file("dead", letters, "batch_id", "source_file", batch_ids, F.count(F.lit(1)))
        )
    counted = _collect_per_file(sides)
    records, bronze, dead, suppressed = (
        counted.get(side, {}) for side in ("records", "bronze", "dead", "suppressed")
    )
    files = sorted(set(records) | set(bronze) | set(dead))
    rows = [
        (f, records.get(f, 0), bronze.get(f, 0), dead.get(f, 0), suppressed.get(f, 0))
        for f in files
    ]
    unbalanced = [r for r in rows if r[1] != r[2] + r[3] + r[4]]
    shown = unbalanced or rows
    table = (
        "| file | records | bronze | dead-lettered | suppressed |\n|---|---|---|---|---|\n"
        + "\n".join(f"| {f[1]} | {n} | {g} | {d} | {s} |" for f, n, g, d, s in shown[:50])
    )
    return AssetCheckResult(
        check_name=INGESTION_ACCOUNTING,
        passed=not unbalanced,
        severity=AssetCheckSeverity.ERROR,
        description=(
            f"{len(unbalanced)} files do not balance, first {unbalanced[0][0][1]}: "
            f"{unbalanced[0][1]} records, {unbalanced[0][2]} in bronze, "
            f"{unbalanced[0][3]} dead-lettered"
            if unbalanced
            else f"{len(rows)} files balance: records = bronze rows + dead letters"
            + (" + suppressed" if any(r[4] for r in rows) else "")
        ),
        metadata={
            "batches": len(batch_ids),
            "files": len(rows),
            "records": sum(r[1] for r in rows),
            "bronze_rows": sum(r[2] for r in rows),
            "dead_lettered": sum(r[3] for r in rows),
            "suppressed": sum(r[4] for r in rows),
            "unbalanced_files": [r[0][1] for r in unbalanced[:20]],
            "per_file": MetadataValue.md(table),
        },
    )


def dead_letter_check(report: IngestionReport) -> AssetCheckResult:
    """Warn (never block) when this run dead-lettered records, naming the files."""
    files = [
        {"file": f.path, "dead_lettered": f.dead_lettered, "records": f.records}
        for batch in report.batches
        for f in batch.files
        if f.dead_lettered
    ]
    return AssetCheckResult(
        check_name=NO_NEW_DEAD_LETTERS,
        passed=not files,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{report.dead_lettered} records dead-lettered from {len(files)} files"
            if files
            else "no record was dead-lettered"
        ),
        metadata={
            "dead_lettered": report.dead_lettered,
            "files": MetadataValue.json(files[:50]),
            "replay": "lakehouse replay-dead-letters --source " + report.source,
        },
    )


def _per_file(side: str, df, batch: str, file: str, ids: list[str], measure):  # type: ignore[no-untyped-def]
    """``measure`` per (batch, file) over the rows of the given batches, tagged ``side``."""
    grouped = df.where(F.col(batch).isin(ids)).groupBy(batch, file).agg(measure.alias("n"))
    return grouped.select(
        F.lit(side).alias("side"),
        F.col(batch).alias("batch_id"),
        F.col(file).alias("file_path"),
        F.col("n").cast("long").alias("n"),
    )


def _collect_per_file(sides: list) -> dict[str, dict[tuple[str, str], int]]:  # type: ignore[type-arg]
    """The per-file counts of every side in one Spark job (a union), by side."""
    union = sides[0]
    for side in sides[1:]:
        union = union.unionByName(side)
    counted: dict[str, dict[tuple[str, str], int]] = {}
    for row in union.collect():
        counted.setdefault(row["side"], {})[(row["batch_id"], row["file_path"])] = int(
            row["n"] or 0
        )
    return counted


def _record_failure(
    store: DeltaTableStore,
    context: AssetExecutionContext,
    source: LandingSource,
    window: DateWindow,
    started_at: dt.datetime,
    error: BaseException,
) -> None:
    """Record a failed run; a failure to record it is logged and never hides ``error``."""
    try:
        _record_event(store, context, source, window, started_at, None, None, error=error)
    except Exception as record_error:  # the run's own error is what the caller re-raises
        context.log.error(
            f"could not record the failed ingestion run in {INGESTION_EVENTS.qualified_name}: "
            f"{type(record_error).__name__}: {str(record_error)[:300]}"
        )


def _record_event(
    store: DeltaTableStore,
    context: AssetExecutionContext,
    source: LandingSource,
    window: DateWindow,
    started_at: dt.datetime,
    report: IngestionReport | None,
    backlog: int | None,
    error: BaseException | None = None,
) -> None:
    """One row in monitoring.ingestion_events per run and source (also for failed runs)."""
    finished_at = dt.datetime.now(dt.UTC)
    row = (
        context.run_id,
        source.name,
        window.label(),
        started_at.replace(tzinfo=None),
        finished_at.replace(tzinfo=None),
        (finished_at - started_at).total_seconds(),
        "failed" if error else "succeeded",
        len(report.batches) if report else 0,
        report.files_processed if report else 0,
        report.input_records if report else 0,
        report.bronze_rows if report else 0,
        report.dead_lettered if report else 0,
        float(report.rows_per_second) if report else 0.0,
        backlog,
        report.new_columns if report else [],
        None if error is None else f"{type(error).__name__}: {str(error)[:1000]}",
    )
    store.append_rows(INGESTION_EVENTS, [row], INGESTION_EVENT_SCHEMA)
