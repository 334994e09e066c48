"""Bronze ingestion: one ``availableNow`` Structured Streaming query per source.

The query is a file-discovery stream: Spark's file source lists every file in every folder
of ``<landing>/<source>/`` and hands each micro-batch the files its checkpoint has not seen
(``maxFilesPerTrigger`` / ``maxBytesPerTrigger`` bound a batch). ``foreachBatch`` then reads
exactly those files with the source's format reader, or records them as rejected
(:mod:`lakehouse_assets.bronze.batch`). So each landed file is ingested exactly once:

* the file ledger decides: a file it holds is never ingested again, so a lost or corrupt
  checkpoint (set aside here before the stream starts) duplicates nothing;
* the checkpoint remembers consumed files (the fast path): a re-run with nothing new writes
  nothing;
* every write of a batch carries Delta's idempotent-write token (stream id, batch number): a
  batch re-run after a crash is skipped where its first attempt already committed;
* runs of one source take turns: a lock on local checkpoints, and a retry when another run
  committed a batch to the checkpoint first.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakehouse_assets.bronze.batch import BatchOutcome, FileAccount, ingest_batch
from lakehouse_assets.bronze.checkpoint_log import (
    batch_files,
    checkpoint_problem,
    set_checkpoint_aside,
)
from lakehouse_assets.bronze.landing_zone import local_path
from lakehouse_assets.storage import IdempotentWrite

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource, SchemaEvolutionMode
    from lakehouse_assets.storage import DeltaTableStore

log = logging.getLogger(__name__)

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
    skipped_files: int = 0  # in the ledger already (e.g. after a checkpoint was lost)
    recovered_checkpoint: str | None = None  # where a corrupt checkpoint was set aside

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
    def rejected_files(self) -> list[FileAccount]:
        return [f for b in self.batches for f in b.rejected]

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
    already_ingested: set[str] | frozenset[str] = frozenset(),
    retry: ConflictRetry | None = None,
) -> IngestionReport:
    """Ingest every new file of ``source`` and wait until the backlog is done.

    Files in ``already_ingested`` (the file ledger) are never ingested again, whatever the
    checkpoint says: a lost or corrupt checkpoint is set aside and the stream starts afresh
    without one duplicate row. Runs of one source queue on a lock (local checkpoints) and a
    run that still meets another's checkpoint commit retries (``retry``).
    """
    retry = retry or ConflictRetry()
    with checkpoint_lock(checkpoint_dir, retry.lock_timeout_s):
        for attempt in range(1, retry.attempts + 1):
            report = IngestionReport(source=source.name)
            report.recovered_checkpoint = _recover_corrupt_checkpoint(spark, checkpoint_dir)
            try:
                _run_stream_once(
                    spark,
                    store,
                    source,
                    report,
                    landing_dir=landing_dir,
                    checkpoint_dir=checkpoint_dir,
                    limits=limits,
                    evolution_mode=evolution_mode,
                    already_ingested=set(already_ingested),
                )
                return report
            except Exception as exc:
                if attempt == retry.attempts or not is_checkpoint_conflict(exc):
                    raise
                log.warning(
                    "bronze.%s: another run committed to the checkpoint first (%s); retry %d/%d",
                    source.name,
                    type(exc).__name__,
                    attempt,
                    retry.attempts - 1,
                )
                already_ingested = set(already_ingested) | {
                    f.path for b in report.batches for f in b.files
                }
                time.sleep(retry.backoff_s * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class ConflictRetry:
    """How a run waits for another run of the same source: the lock, then commit retries."""

    attempts: int = 4
    backoff_s: float = 2.0
    lock_timeout_s: float = 1800.0


_CONFLICT_MARKERS = (
    "ConcurrentModificationException",
    "Multiple streaming queries are concurrently using",
    "another query with same id is already active",
    "FileAlreadyExistsException",
)


def is_checkpoint_conflict(error: BaseException) -> bool:
    """A failure because another run of the same stream committed a batch first."""
    text = f"{type(error).__name__}: {error}"
    return any(marker in text for marker in _CONFLICT_MARKERS)


@contextmanager
def checkpoint_lock(checkpoint_dir: str, timeout_s: float) -> Iterator[None]:
    """Hold an exclusive lock on a local checkpoint (``<dir>.lock``) while the stream runs,
    so a second run of the same source waits instead of failing. Cloud checkpoints (a lock
    file there would not be atomic) rely on the commit retry (docs/deploy.md)."""
    local = local_path(checkpoint_dir)
    if local is None:
        yield
        return
    local.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{local}.lock", "a+") as handle:
        locked = _wait_for_lock(handle, f"{local}.lock", timeout_s)
        try:
            yield
        finally:
            if locked:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _wait_for_lock(handle, name: str, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    """Take the lock, waiting up to ``timeout_s``; False where the file system has no locks
    (some FUSE mounts): the commit retry still protects the run."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"another run has held the stream lock {name} for over {timeout_s:.0f} s"
                ) from None
            time.sleep(0.5)
        except OSError as error:
            log.warning("no stream lock on %s (%s); relying on the commit retry", name, error)
            return False


def _recover_corrupt_checkpoint(spark: SparkSession, checkpoint_dir: str) -> str | None:
    """Set a corrupt checkpoint aside (the file ledger keeps exactly-once); its new place."""
    problem = checkpoint_problem(spark, checkpoint_dir)
    if problem is None:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved = set_checkpoint_aside(checkpoint_dir, stamp)
    log.warning(
        "stream checkpoint %s is corrupt (%s); moved to %s and starting afresh: the file "
        "ledger skips every file already ingested (docs/runbooks/stream_checkpoint.md)",
        checkpoint_dir,
        problem,
        moved,
    )
    return moved


def _run_stream_once(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    report: IngestionReport,
    *,
    landing_dir: str,
    checkpoint_dir: str,
    limits: StreamLimits,
    evolution_mode: SchemaEvolutionMode,
    already_ingested: set[str],
) -> None:
    query_id_ready = threading.Event()
    failures: list[BaseException] = []

    def write_batch(_listing: DataFrame, epoch: int) -> None:
        query_id_ready.wait(timeout=120)
        try:
            listed = batch_files(spark, checkpoint_dir, epoch)
            files = [f for f in listed if f not in already_ingested]
            report.skipped_files += len(listed) - len(files)
            outcome = ingest_batch(
                spark,
                store,
                source,
                files,
                batch_id=f"{source.name}-{report.query_id[:8]}-{epoch:06d}",
                token=IdempotentWrite(f"bronze.{source.name}:{report.query_id}", epoch),
                evolution_mode=evolution_mode,
            )
        except BaseException as exc:  # re-raised below with its own type and message
            failures.append(exc)
            raise
        already_ingested.update(f.path for f in outcome.files)
        report.batches.append(outcome)

    # Every file in every folder of the source: files that are not data of the source's
    # format, or not in a date folder, are recorded as rejected, never silently unseen.
    listing = (
        spark.readStream.format("binaryFile")
        .schema(_FILE_LISTING_SCHEMA)
        .options(**limits.reader_options())
        .load(f"{landing_dir.rstrip('/')}/*/*")
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
