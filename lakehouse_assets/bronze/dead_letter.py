"""The dead-letter queue: records bronze could not accept, kept raw until they can be replayed.

Replay re-parses pending dead letters with the source's *current* schema, moves the ones that now
parse into bronze exactly once and increments ``retry_count`` on the rest:

1. bronze rows carry the dead letter's id in ``_dead_letter_id`` and are inserted with an
   insert-only MERGE on that id, so a replay that crashed after this step inserts nothing the
   second time;
2. the dead letters are then marked ``replayed`` (or get ``retry_count + 1``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from lakehouse_assets.bronze import readers
from lakehouse_assets.bronze.parsing import ERROR_REASON, RAW, parse_records
from lakehouse_assets.bronze.tables import (
    DEAD_LETTER,
    DEAD_LETTER_ID,
    bronze_table,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from lakehouse_assets.bronze.sources import LandingSource
    from lakehouse_assets.storage import DeltaTableStore

PENDING = "pending"
REPLAYED = "replayed"

DEAD_LETTER_SCHEMA = (
    "dead_letter_id string, source string, source_system string, source_file string, "
    "landing_date date, raw_record string, raw_bytes binary, fields_json string, "
    "error_reason string, "
    "ingestion_timestamp timestamp, batch_id string, retry_count int, status string, "
    "last_attempt_at timestamp, resolved_at timestamp, resolved_batch_id string"
)


def dead_letter_rows(rejected: DataFrame, source: LandingSource, batch_id: str) -> DataFrame:
    """Dead-letter rows for the rejected records of a batch (``_row_id`` makes ids unique)."""
    now = F.current_timestamp()
    return rejected.select(
        F.concat(F.lit(f"{batch_id}-"), F.col("_row_id").cast("string")).alias("dead_letter_id"),
        F.lit(source.name).alias("source"),
        F.lit(source.source_system).alias("source_system"),
        F.col("_source_file").alias("source_file"),
        landing_date_of(F.col("_source_file")).alias("landing_date"),
        F.col(RAW).alias("raw_record"),
        original_bytes().alias("raw_bytes"),
        F.col("_fields_json").alias("fields_json"),
        F.col(ERROR_REASON).alias("error_reason"),
        now.alias("ingestion_timestamp"),
        F.lit(batch_id).alias("batch_id"),
        F.lit(0).alias("retry_count"),
        F.lit(PENDING).alias("status"),
        F.lit(None).cast("timestamp").alias("last_attempt_at"),
        F.lit(None).cast("timestamp").alias("resolved_at"),
        F.lit(None).cast("string").alias("resolved_batch_id"),
    )


def original_bytes() -> F.Column:
    """The record's bytes as landed: kept by the decoder where the text cannot hold them (not
    UTF-8), else the text's UTF-8 bytes. NULL for an unreadable file (replay re-reads it)."""
    return F.when(
        F.col(ERROR_REASON) != readers.UNREADABLE_FILE,
        F.coalesce(F.col(readers.RAW_BYTES), F.encode(F.col(RAW), "UTF-8")),
    )


def landing_date_of(path: F.Column) -> F.Column:
    """The landing date folder (``.../<YYYY-MM-DD>/<file>``) of a landed file's path."""
    return F.to_date(F.regexp_extract(path, r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1))


@dataclass(frozen=True)
class ReplayOptions:
    """How a replay runs. ``limit`` caps dead letters examined; ``throttle_seconds`` pauses
    between chunks of ``batch_size`` so a large replay does not swamp downstream readers."""

    source: str | None = None
    dry_run: bool = False
    limit: int | None = None
    batch_size: int = 1000
    throttle_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise ValueError("limit must be positive")
        if self.batch_size < 1:
            raise ValueError("batch_size must be positive")
        if self.throttle_seconds < 0:
            raise ValueError("throttle_seconds cannot be negative")


@dataclass
class ReplayReport:
    """What a replay did (or, in a dry run, would do)."""

    dry_run: bool
    examined: int = 0
    replayed: int = 0
    bronze_rows: int = 0
    still_failing: int = 0
    reasons: Counter = field(default_factory=Counter)
    samples: list[dict] = field(default_factory=list)
    landing_dates: dict[str, set[dt.date]] = field(default_factory=dict)

    def summary(self) -> str:
        verb = "would replay" if self.dry_run else "replayed"
        return (
            f"examined {self.examined} dead letters: {verb} {self.replayed} "
            f"({self.bronze_rows} bronze rows), {self.still_failing} still failing"
            + (f" {dict(self.reasons)}" if self.reasons else "")
        )


def replay_dead_letters(
    spark: SparkSession,
    store: DeltaTableStore,
    sources: Sequence[LandingSource],
    options: ReplayOptions,
    *,
    replay_id: str,
    schema_of: Callable[[LandingSource], StructType],
    bronze_rows_of: Callable[[DataFrame, LandingSource, str], DataFrame],
    log: Callable[[str], None] = print,
) -> ReplayReport:
    """Replay pending dead letters of ``sources`` (see module docstring).

    Args:
        schema_of: the *current* schema of a source (declared plus evolved columns).
        bronze_rows_of: turns parsed good rows into bronze rows (metadata columns).
    """
    report = ReplayReport(dry_run=options.dry_run)
    if not store.exists(DEAD_LETTER):
        log("the dead-letter queue is empty (no table yet)")
        return report
    remaining = options.limit
    for source in sources:
        pending = _pending_ids(store, source, remaining)
        for start in range(0, len(pending), options.batch_size):
            chunk = pending[start : start + options.batch_size]
            chunk_id = f"replay-{replay_id[:8]}-{source.name}-{start // options.batch_size:04d}"
            _replay_chunk(
                spark, store, source, chunk, chunk_id, options, report, schema_of, bronze_rows_of
            )
            log(f"{chunk_id}: {report.summary()}")
            if options.throttle_seconds and start + options.batch_size < len(pending):
                time.sleep(options.throttle_seconds)
        if remaining is not None:
            remaining -= len(pending)
            if remaining <= 0:
                break
    return report


def _pending_ids(store: DeltaTableStore, source: LandingSource, limit: int | None) -> list[str]:
    pending = (
        store.read(DEAD_LETTER)
        .where((F.col("source") == source.name) & (F.col("status") == PENDING))
        .orderBy("ingestion_timestamp", "dead_letter_id")
        .select("dead_letter_id")
    )
    if limit is not None:
        pending = pending.limit(limit)
    return [row.dead_letter_id for row in pending.collect()]


def _replay_chunk(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    ids: list[str],
    chunk_id: str,
    options: ReplayOptions,
    report: ReplayReport,
    schema_of: Callable[[LandingSource], StructType],
    bronze_rows_of: Callable[[DataFrame, LandingSource, str], DataFrame],
) -> None:
    letters = store.read(DEAD_LETTER).where(
        (F.col("source") == source.name) & F.col("dead_letter_id").isin(ids)
    )
    schema = schema_of(source)
    parsed = parse_records(
        _records_of(spark, source, letters, schema), schema, source.required_keys
    ).persist()
    try:
        outcome = {
            row[DEAD_LETTER_ID]: row[ERROR_REASON]
            for row in parsed.groupBy(DEAD_LETTER_ID)
            .agg(F.max(ERROR_REASON).alias(ERROR_REASON))
            .collect()
        }
        fixed = [i for i, reason in outcome.items() if reason is None]
        failing = {i: r for i, r in outcome.items() if r is not None}
        report.examined += len(ids)
        report.replayed += len(fixed)
        report.still_failing += len(failing)
        report.reasons.update(failing.values())
        good = parsed.where(F.col(ERROR_REASON).isNull())
        report.bronze_rows += good.count()
        for row in (
            letters.where(F.col("dead_letter_id").isin(fixed))
            .select("landing_date")
            .distinct()
            .collect()
        ):
            report.landing_dates.setdefault(source.name, set()).add(row.landing_date)
        if len(report.samples) < 20:
            report.samples.extend(
                {"dead_letter_id": i, "outcome": "replay" if r is None else r}
                for i, r in list(outcome.items())[: 20 - len(report.samples)]
            )
        if options.dry_run:
            return
        store.insert_missing(
            bronze_table(source),
            bronze_rows_of(good, source, chunk_id),
            [DEAD_LETTER_ID],
            target_filter=f"t.`{DEAD_LETTER_ID}` IS NOT NULL",
        )
        _mark(spark, store, source, fixed, failing, chunk_id)
    finally:
        parsed.unpersist()


def _records_of(
    spark: SparkSession, source: LandingSource, letters: DataFrame, schema: StructType
) -> DataFrame:
    """Re-read dead letters as raw records: from their raw text (JSON) or stored fields, or -
    for a file that could not be read - from the file itself (it may have been re-delivered)."""
    unreadable = letters.where(F.col("error_reason") == readers.UNREADABLE_FILE).collect()
    stored = letters.where(F.col("error_reason") != readers.UNREADABLE_FILE)
    if source.file_format == "jsonl":
        # Decoded again from the original bytes, exactly as ingestion decodes a landed line.
        original = stored.select(
            F.col("dead_letter_id").alias(DEAD_LETTER_ID),
            F.col("source_file").alias(readers.SOURCE_FILE),
            F.coalesce(F.col("raw_bytes"), F.encode(F.col("raw_record"), "UTF-8")).alias(
                readers.RAW_BYTES
            ),
        )
        records = readers.json_records(readers.redecoded_lines(original, DEAD_LETTER_ID), schema)
    else:
        # CSV lines are only meaningful with their header, so replay uses the stored fields; a
        # malformed line (no fields) stays malformed.
        fields = F.from_json(F.col("fields_json"), "map<string,string>")
        in_table = stored.select(
            F.col("dead_letter_id").alias(DEAD_LETTER_ID),
            F.col("source_file").alias(readers.SOURCE_FILE),
            F.col("raw_record").alias(readers.RAW),
            F.col("raw_bytes").alias(readers.RAW_BYTES),
            fields.alias(readers.FIELDS),
            F.when(fields.isNull(), F.col("error_reason")).alias(readers.FORMAT_ERROR),
            F.lit(False).alias(readers.BLANK),
        )
        records = readers.map_records(in_table, schema)
    for letter in unreadable:
        reread = readers.read_records(spark, source, [letter.source_file], schema)
        records = records.unionByName(
            reread.select(F.lit(letter.dead_letter_id).alias(DEAD_LETTER_ID), "*")
        )
    return records


def _mark(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    fixed: list[str],
    failing: dict[str, str],
    chunk_id: str,
) -> None:
    outcomes = [(i, REPLAYED, None) for i in fixed] + [(i, PENDING, r) for i, r in failing.items()]
    if not outcomes:
        return
    updates = spark.createDataFrame(
        outcomes, "dead_letter_id string, new_status string, new_reason string"
    )
    store.update_matched(
        DEAD_LETTER,
        updates,
        ["dead_letter_id"],
        {
            "status": "s.new_status",
            "error_reason": "coalesce(s.new_reason, t.error_reason)",
            "retry_count": "t.retry_count + 1",
            "last_attempt_at": "current_timestamp()",
            "resolved_at": "CASE WHEN s.new_status = 'replayed' THEN current_timestamp() END",
            "resolved_batch_id": f"CASE WHEN s.new_status = 'replayed' THEN '{chunk_id}' END",
        },
        target_filter=f"t.source = '{source.name}' AND t.status = '{PENDING}'",
    )
