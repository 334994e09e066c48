"""Bronze ingestion: one ``availableNow`` Structured Streaming query per source.

The stream reads every file under ``<landing>/<source>/<YYYY-MM-DD>/`` that its checkpoint has
not seen, so each landed file is ingested exactly once:

* the checkpoint remembers consumed files (a file re-landed under the same name is ignored);
* every micro-batch is written with Delta's idempotent-write token (stream id, batch id), so a
  batch re-run after a crash is skipped where its first attempt already committed;
* a file ledger row per consumed file (``monitoring.ingested_files``) records its accounting.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from lakehouse_assets.bronze.checkpoint_log import batch_files
from lakehouse_assets.bronze.landing_zone import LANDING_DATE_GLOB
from lakehouse_assets.bronze.parsing import (
    ERROR_REASON,
    RAW,
    RESCUED,
    parse_json_records,
    strip_bom_and_blank,
)
from lakehouse_assets.monitoring.tables import INGESTED_FILES
from lakehouse_assets.storage import IdempotentWrite, TableSpec

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource
    from lakehouse_assets.storage import DeltaTableStore

SOURCE_FILE = "_source_file"
LANDING_DATE = "_landing_date"
BRONZE_METADATA_COLUMNS = (
    RESCUED,
    LANDING_DATE,
    "_ingestion_timestamp",
    "_ingestion_date",
    SOURCE_FILE,
    "_source_system",
    "_batch_id",
)
# Without this, the file source ignores files whose modification time is more than 7 days
# older than the newest file it has seen - a re-delivered old file would be silently skipped.
_NEVER_IGNORE_OLD_FILES = "36500d"


class MalformedRecordsError(ValueError):
    """Landed records that cannot be parsed, reported with the files they came from."""


@dataclass(frozen=True)
class StreamLimits:
    """Per-source rate limits of a micro-batch (at most one of the two may be set)."""

    max_files_per_trigger: int | None = 1000
    max_bytes_per_trigger: int | None = None

    def reader_options(self) -> dict[str, str]:
        if self.max_files_per_trigger and self.max_bytes_per_trigger:
            raise ValueError("set max_files_per_trigger or max_bytes_per_trigger, not both")
        options = {"maxFileAge": _NEVER_IGNORE_OLD_FILES}
        if self.max_files_per_trigger:
            options["maxFilesPerTrigger"] = str(self.max_files_per_trigger)
        if self.max_bytes_per_trigger:
            options["maxBytesPerTrigger"] = str(self.max_bytes_per_trigger)
        return options


@dataclass(frozen=True)
class BatchOutcome:
    """Accounting of one micro-batch: records = bronze rows + rejected records."""

    batch_id: str
    files: int
    input_records: int
    bronze_rows: int
    rejected_records: int
    skipped: bool


@dataclass
class IngestionReport:
    """What one run of a source's stream did."""

    source: str
    query_id: str = ""
    batches: list[BatchOutcome] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def files_processed(self) -> int:
        return sum(b.files for b in self.batches)

    @property
    def input_records(self) -> int:
        return sum(b.input_records for b in self.batches)

    @property
    def bronze_rows(self) -> int:
        return sum(b.bronze_rows for b in self.batches)

    @property
    def rejected_records(self) -> int:
        return sum(b.rejected_records for b in self.batches)

    @property
    def rows_per_second(self) -> float:
        return self.input_records / self.duration_s if self.duration_s > 0 else 0.0


# Receives the rejected rows of a batch and returns how many it stored. None: fail the batch.
RejectedRecordsSink = Callable[["DataFrame", str], int]


def run_bronze_stream(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    bronze: TableSpec,
    *,
    landing_dir: str,
    checkpoint_dir: str,
    limits: StreamLimits,
    rejected_sink: RejectedRecordsSink | None = None,
) -> IngestionReport:
    """Ingest every new file of ``source`` into ``bronze`` and wait until the backlog is done."""
    report = IngestionReport(source=source.name)
    query_id_ready = threading.Event()
    failures: list[BaseException] = []

    def write_batch(batch_df: DataFrame, epoch: int) -> None:
        query_id_ready.wait(timeout=120)
        try:
            outcome = _write_micro_batch(
                spark,
                store,
                source,
                bronze,
                batch_df,
                epoch=epoch,
                query_id=report.query_id,
                checkpoint_dir=checkpoint_dir,
                rejected_sink=rejected_sink,
            )
        except BaseException as exc:  # re-raised below with its own type and message
            failures.append(exc)
            raise
        report.batches.append(outcome)

    lines = (
        spark.readStream.format("text")
        .options(**limits.reader_options())
        .load(f"{landing_dir.rstrip('/')}/{LANDING_DATE_GLOB}/*.{source.file_format}")
        .select("value", F.col("_metadata.file_path").alias(SOURCE_FILE))
    )
    started = time.perf_counter()
    query = (
        lines.writeStream.queryName(f"bronze_{source.name}")
        .foreachBatch(write_batch)
        .option("checkpointLocation", checkpoint_dir)
        .trigger(availableNow=True)
        .start()
    )
    report.query_id = str(query.id)
    query_id_ready.set()
    try:
        query.awaitTermination()
    except Exception:
        if failures:
            raise failures[0] from None
        raise
    report.duration_s = time.perf_counter() - started
    return report


def _write_micro_batch(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    bronze: TableSpec,
    batch_df: DataFrame,
    *,
    epoch: int,
    query_id: str,
    checkpoint_dir: str,
    rejected_sink: RejectedRecordsSink | None,
) -> BatchOutcome:
    batch_id = f"{source.name}-{query_id[:8]}-{epoch:06d}"
    token = IdempotentWrite(app_id=f"bronze.{source.name}:{query_id}", version=epoch)
    files = batch_files(spark, checkpoint_dir, epoch)
    parsed = parse_json_records(strip_bom_and_blank(batch_df), source).persist()
    try:
        per_file = {
            row[SOURCE_FILE]: (int(row["records"]), int(row["rejected"]))
            for row in parsed.groupBy(SOURCE_FILE)
            .agg(
                F.count(F.lit(1)).alias("records"),
                F.count(F.col(ERROR_REASON)).alias("rejected"),
            )
            .collect()
        }
        rejected_total = sum(r for _, r in per_file.values())
        if rejected_total and rejected_sink is None:
            raise MalformedRecordsError(_describe_rejects(parsed, source))
        if rejected_total and rejected_sink is not None:
            rejected_sink(parsed.where(F.col(ERROR_REASON).isNotNull()), batch_id)
        rows = _bronze_rows(parsed.where(F.col(ERROR_REASON).isNull()), source, batch_id)
        written = store.append(bronze, rows, idempotent=token)
        records = sum(n for n, _ in per_file.values())
        expected_rows = records - rejected_total
        if not written.skipped and written.rows_written != expected_rows:
            raise RuntimeError(
                f"bronze.{source.name} batch {batch_id}: wrote {written.rows_written} rows "
                f"but {expected_rows} records parsed; refusing to record an unbalanced batch"
            )
        ledger = _ledger_rows(spark, source, files, per_file, batch_id)
        store.append(INGESTED_FILES, ledger, idempotent=token)
        return BatchOutcome(
            batch_id=batch_id,
            files=len(files),
            input_records=records,
            bronze_rows=expected_rows,
            rejected_records=rejected_total,
            skipped=written.skipped,
        )
    finally:
        parsed.unpersist()


def _bronze_rows(good: DataFrame, source: LandingSource, batch_id: str) -> DataFrame:
    """Source fields as received plus the bronze metadata columns."""
    now = F.current_timestamp()
    return good.select(
        *[F.col(f.name) for f in source.schema.fields],
        F.col(RESCUED),
        _landing_date_of(F.col(SOURCE_FILE)).alias(LANDING_DATE),
        now.alias("_ingestion_timestamp"),
        F.to_date(now).alias("_ingestion_date"),
        F.col(SOURCE_FILE),
        F.lit(source.source_system).alias("_source_system"),
        F.lit(batch_id).alias("_batch_id"),
    )


def _landing_date_of(path: F.Column) -> F.Column:
    return F.to_date(F.regexp_extract(path, r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1))


def _ledger_rows(
    spark: SparkSession,
    source: LandingSource,
    files: list[str],
    per_file: dict[str, tuple[int, int]],
    batch_id: str,
) -> DataFrame:
    """One ledger row per consumed file, including empty files (0 records)."""
    rows = []
    for path in files:
        records, rejected = per_file.get(path, (0, 0))
        day = path.rstrip("/").split("/")[-2]
        rows.append(
            (
                source.name,
                path,
                dt.date.fromisoformat(day),
                records,
                records - rejected,
                rejected,
                batch_id,
            )
        )
    unknown = set(per_file) - set(files)
    if unknown:
        raise RuntimeError(f"rows from files missing in the stream's file log: {sorted(unknown)}")
    schema = (
        "source string, file_path string, landing_date date, records long, bronze_rows long, "
        "rejected_records long, batch_id string"
    )
    return spark.createDataFrame(rows, schema).withColumn("ingested_at", F.current_timestamp())


def _describe_rejects(parsed: DataFrame, source: LandingSource) -> str:
    bad = (
        parsed.where(F.col(ERROR_REASON).isNotNull())
        .select(SOURCE_FILE, ERROR_REASON, RAW)
        .limit(5)
        .collect()
    )
    lines = [f"- {row[SOURCE_FILE]}: {row[ERROR_REASON]}: {row[RAW][:120]!r}" for row in bad]
    return f"malformed records in landed {source.name} files:\n" + "\n".join(lines)
