"""Bronze ingestion: one ``availableNow`` Structured Streaming query per source.

The query is a file-discovery stream: Spark's file source lists
``<landing>/<source>/<YYYY-MM-DD>/*.<ext>`` and hands each micro-batch the files its
checkpoint has not seen (``maxFilesPerTrigger`` / ``maxBytesPerTrigger`` bound a batch).
``foreachBatch`` then reads exactly those files with the source's format reader
(:mod:`lakehouse_assets.bronze.batch`). So each landed file is ingested exactly once:

* the checkpoint remembers consumed files: a file re-landed under the same name is ignored and
  a re-run with nothing new writes nothing;
* every write of a batch carries Delta's idempotent-write token (stream id, batch number): a
  batch re-run after a crash is skipped where its first attempt already committed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakehouse_assets.bronze.batch import BatchOutcome, ingest_batch
from lakehouse_assets.bronze.checkpoint_log import batch_files
from lakehouse_assets.bronze.landing_zone import LANDING_DATE_GLOB
from lakehouse_assets.storage import IdempotentWrite

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource, SchemaEvolutionMode
    from lakehouse_assets.storage import DeltaTableStore

# Without this, the file source ignores files whose modification time is more than 7 days
# older than the newest file it has seen - a re-delivered old file would be silently skipped.
_NEVER_IGNORE_OLD_FILES = "36500d"
# The stream only discovers files; their content is read per batch by the format readers.
_FILE_LISTING_SCHEMA = "path string, modificationTime timestamp, length long, content binary"


@dataclass(frozen=True)
class StreamLimits:
    """Rate limits of a micro-batch (at most one of the two may be set)."""

    max_files_per_trigger: int | None = 1000
    max_bytes_per_trigger: int | None = None

    def __post_init__(self) -> None:
        if self.max_files_per_trigger and self.max_bytes_per_trigger:
            raise ValueError("set max_files_per_trigger or max_bytes_per_trigger, not both")

    def reader_options(self) -> dict[str, str]:
        options = {"maxFileAge": _NEVER_IGNORE_OLD_FILES}
        if self.max_files_per_trigger:
            options["maxFilesPerTrigger"] = str(self.max_files_per_trigger)
        if self.max_bytes_per_trigger:
            options["maxBytesPerTrigger"] = str(self.max_bytes_per_trigger)
        return options


@dataclass
class IngestionReport:
    """What one run of a source's stream did."""

    source: str
    query_id: str = ""
    batches: list[BatchOutcome] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def files_processed(self) -> int:
        return sum(len(b.files) for b in self.batches)

    @property
    def input_records(self) -> int:
        return sum(b.input_records for b in self.batches)

    @property
    def bronze_rows(self) -> int:
        return sum(b.bronze_rows for b in self.batches)

    @property
    def dead_lettered(self) -> int:
        return sum(b.dead_lettered for b in self.batches)

    @property
    def new_columns(self) -> list[str]:
        return sorted({c for b in self.batches for c in b.new_columns})

    @property
    def rows_per_second(self) -> float:
        return self.input_records / self.duration_s if self.duration_s > 0 else 0.0


def run_bronze_stream(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    *,
    landing_dir: str,
    checkpoint_dir: str,
    limits: StreamLimits,
    evolution_mode: SchemaEvolutionMode,
) -> IngestionReport:
    """Ingest every new file of ``source`` and wait until the backlog is done."""
    report = IngestionReport(source=source.name)
    query_id_ready = threading.Event()
    failures: list[BaseException] = []

    def write_batch(_listing: DataFrame, epoch: int) -> None:
        query_id_ready.wait(timeout=120)
        try:
            outcome = ingest_batch(
                spark,
                store,
                source,
                batch_files(spark, checkpoint_dir, epoch),
                batch_id=f"{source.name}-{report.query_id[:8]}-{epoch:06d}",
                token=IdempotentWrite(f"bronze.{source.name}:{report.query_id}", epoch),
                evolution_mode=evolution_mode,
            )
        except BaseException as exc:  # re-raised below with its own type and message
            failures.append(exc)
            raise
        report.batches.append(outcome)

    listing = (
        spark.readStream.format("binaryFile")
        .schema(_FILE_LISTING_SCHEMA)
        .options(**limits.reader_options())
        .load(f"{landing_dir.rstrip('/')}/{LANDING_DATE_GLOB}/*.{source.file_format}")
        .select("path")
    )
    started = time.perf_counter()
    query = (
        listing.writeStream.queryName(f"bronze_{source.name}")
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
