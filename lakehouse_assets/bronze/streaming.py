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

import datetime as dt
import fcntl
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakehouse_assets.bronze.batch import (
    INGESTED,
    AccountingError,
    BatchOutcome,
    FileAccount,
    SchemaEvolutionError,
    ingest_batch,
)
from lakehouse_assets.bronze.checkpoint_log import (
    batch_files,
    checkpoint_problem,
    committed_batches,
    set_checkpoint_aside,
    stream_id,
)
from lakehouse_assets.bronze.landing_zone import local_path
from lakehouse_assets.storage import IdempotentWrite

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource, SchemaEvolutionMode
    from lakehouse_assets.storage import DeltaTableStore, TableLocator

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


@dataclass(frozen=True)
class BronzeBatchWriter:
    """The stream's ``foreachBatch`` function: ingest the files of one micro-batch.

    A picklable value, not a closure over the driver's objects: over Spark Connect the function
    runs in a Python process of the server, with the batch's own session
    (``listing.sparkSession``), and nothing it changes in memory comes back to the caller. So
    it keeps no state; what a batch did is in the file ledger (and ``schema_changes``), where
    :func:`batch_outcomes` reads it back.
    """

    locator: TableLocator
    source: LandingSource
    checkpoint_dir: str
    evolution_mode: SchemaEvolutionMode
    already_ingested: frozenset[str]

    def __call__(self, listing: DataFrame, epoch: int) -> None:
        from lakehouse_assets.storage import DeltaTableStore

        spark = listing.sparkSession
        stream = stream_id(spark, self.checkpoint_dir)
        listed = batch_files(spark, self.checkpoint_dir, epoch)
        ingest_batch(
            spark,
            DeltaTableStore(spark, self.locator),
            self.source,
            [f for f in listed if f not in self.already_ingested],
            batch_id=stream_batch_id(self.source.name, stream, epoch),
            token=IdempotentWrite(f"bronze.{self.source.name}:{stream}", epoch),
            evolution_mode=self.evolution_mode,
        )


# Errors a batch raises on purpose. They leave the batch (a Python worker of a Spark Connect
# server, or Py4J's callback on a classic session) only as text inside the query's
# StreamingQueryException, and are raised again as themselves: the run fails with the error
# the batch meant, whatever the session.
_BATCH_ERRORS: tuple[type[Exception], ...] = (SchemaEvolutionError, AccountingError)


def batch_error(error: Exception) -> Exception | None:
    """The batch's own error named in a failed stream's ``error``, or ``None`` (pure)."""
    text = str(error)
    for kind in _BATCH_ERRORS:
        marker = f"{kind.__module__}.{kind.__name__}: "
        if marker in text:
            message = text.split(marker, 1)[1].split("\n", 1)[0]
            return kind(re.sub(r"(\s+SQLSTATE: \w+)+\s*$", "", message).strip())
    return None


def stream_batch_id(source: str, stream: str, epoch: int) -> str:
    """The ledger's batch id of micro-batch ``epoch`` of ``stream``."""
    return f"{source}-{stream[:8]}-{epoch:06d}"


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
    writer = BronzeBatchWriter(
        store.locator, source, checkpoint_dir, evolution_mode, frozenset(already_ingested)
    )
    committed_before = set(committed_batches(spark, checkpoint_dir))
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
        .foreachBatch(writer)
        .option("checkpointLocation", checkpoint_dir)
        .trigger(availableNow=True)
        .start()
    )
    report.query_id = str(query.id)
    try:
        query.awaitTermination()
    except Exception as error:
        raised = batch_error(error)
        if raised is None:
            raise
        raise raised from error
    report.duration_s = time.perf_counter() - started
    epochs = [e for e in committed_batches(spark, checkpoint_dir) if e not in committed_before]
    for epoch in epochs:
        listed = batch_files(spark, checkpoint_dir, epoch)
        outcome = batch_outcome(store, source, stream_batch_id(source.name, report.query_id, epoch))
        report.skipped_files += len(listed) - len(outcome.files)
        report.batches.append(outcome)


def batch_outcome(store: DeltaTableStore, source: LandingSource, batch_id: str) -> BatchOutcome:
    """What micro-batch ``batch_id`` did, read back from the file ledger and the schema changes
    it recorded (a batch that had only ledger files to skip recorded nothing)."""
    from lakehouse_assets.bronze.drift import added_columns
    from lakehouse_assets.monitoring.tables import INGESTED_FILES

    columns = (
        "file_path", "records", "bronze_rows", "dead_lettered", "suppressed", "blank_lines",
        "status", "reject_reason", "ingested_at",
    )  # fmt: skip
    rows = store.select(INGESTED_FILES, columns, {"source": source.name, "batch_id": batch_id})
    files = [
        FileAccount(
            path=path,
            records=int(records or 0),
            parsed_records=int(bronze or 0) + int(dead or 0) + int(suppressed or 0),
            dead_lettered=int(dead or 0),
            suppressed=int(suppressed or 0),
            blank_lines=int(blank or 0),
            status=status or INGESTED,
            reject_reason=reason,
        )
        for path, records, bronze, dead, suppressed, blank, status, reason, _ in sorted(rows)
    ]
    ingested_at = [row[-1] for row in rows if row[-1] is not None]
    day = min(ingested_at).date() if ingested_at else dt.datetime.now(dt.UTC).date()
    return BatchOutcome(batch_id, day, files, added_columns(store, batch_id))
