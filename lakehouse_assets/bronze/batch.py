"""One micro-batch of bronze ingestion: read its files, type, dead-letter, write, account.

All writes of a batch carry Delta's idempotent-write token (stream id, batch number): if the run
dies after some of them committed, the re-run of the batch skips exactly those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakehouse_assets.bronze import arrow_decoding, decoding, readers
from lakehouse_assets.bronze.dead_letter import dead_letter_rows, landing_date_of
from lakehouse_assets.bronze.drift import (
    COLUMN_ADDED,
    NEW_FIELD,
    SCHEMA_CHANGES_SCHEMA,
    FieldDrift,
    drift_in,
    known_drift,
    schema_change_rows,
)
from lakehouse_assets.bronze.landing_zone import reader_path
from lakehouse_assets.bronze.parsing import (
    ERROR_REASON,
    MISMATCHED,
    RESCUED,
    UNEXPECTED,
    parse_records,
)
from lakehouse_assets.bronze.suppression import SUPPRESSED, suppressed_column, suppressed_keys
from lakehouse_assets.bronze.tables import (
    BATCH_ID,
    BRONZE_METADATA_COLUMNS,
    DEAD_LETTER,
    DEAD_LETTER_ID,
    INGESTION_DATE,
    INGESTION_TIMESTAMP,
    LANDING_DATE,
    SOURCE_FILE,
    SOURCE_SYSTEM,
    bronze_table,
)
from lakehouse_assets.faults import fault_point
from lakehouse_assets.monitoring.tables import INGESTED_FILES, SCHEMA_CHANGES
from lakehouse_assets.storage import IdempotentWrite

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from lakehouse_assets.bronze.sources import LandingSource, SchemaEvolutionMode
    from lakehouse_assets.storage import DeltaTableStore, WriteResult


LEDGER_SCHEMA = (
    "source string, file_path string, landing_date date, records long, bronze_rows long, "
    "dead_lettered long, blank_lines long, batch_id string, status string, reject_reason string, "
    "suppressed long"
)


class SchemaEvolutionError(ValueError):
    """A landed file has columns the source does not declare, in mode ``failOnNewColumns``."""


class AccountingError(RuntimeError):
    """A batch's writes do not add up to its input records."""


INGESTED = "ingested"
REJECTED = "rejected"


@dataclass(frozen=True)
class FileAccount:
    """Accounting of one landed file: records = bronze_rows + dead_lettered + suppressed
    (records of erased customers, dropped: see :mod:`~lakehouse_assets.bronze.suppression`).

    ``records`` is counted from the file's bytes by :func:`decoding.count_records`, apart from
    the parser; ``parsed_records`` is what the parser produced. They differ only if the parser
    lost or invented records, and then the file's accounting does not balance.
    A rejected file (``status`` 'rejected', ``reject_reason`` set) is not read at all.
    """

    path: str
    records: int = 0
    parsed_records: int = 0
    dead_lettered: int = 0
    suppressed: int = 0
    blank_lines: int = 0
    unexpected_fields: tuple[str, ...] = ()
    mismatched_fields: tuple[str, ...] = ()
    status: str = INGESTED
    reject_reason: str | None = None

    @property
    def bronze_rows(self) -> int:
        return self.parsed_records - self.dead_lettered - self.suppressed


@dataclass
class BatchOutcome:
    """What one micro-batch did."""

    batch_id: str
    ingestion_date: dt.date
    files: list[FileAccount] = field(default_factory=list)
    new_columns: list[str] = field(default_factory=list)
    skipped: bool = False

    @property
    def input_records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def dead_lettered(self) -> int:
        return sum(f.dead_lettered for f in self.files)

    @property
    def bronze_rows(self) -> int:
        return sum(f.bronze_rows for f in self.files)

    @property
    def rejected(self) -> list[FileAccount]:
        return [f for f in self.files if f.status == REJECTED]


def current_schema(store: DeltaTableStore, source: LandingSource) -> StructType:
    """The declared schema plus columns added by ``addNewColumns`` (kept as strings)."""
    spec = bronze_table(source)
    declared = set(source.field_names) | set(BRONZE_METADATA_COLUMNS)
    evolved = []
    if store.exists(spec):
        evolved = [f.name for f in store.read(spec).schema.fields if f.name not in declared]
    return StructType(source.schema.fields + [StructField(n, StringType()) for n in evolved])


def bronze_rows(
    good: DataFrame, source: LandingSource, batch_id: str, schema: StructType
) -> DataFrame:
    """Typed source fields as received plus the bronze metadata columns."""
    now = F.current_timestamp()
    dead_letter_id = good[DEAD_LETTER_ID] if DEAD_LETTER_ID in good.columns else F.lit(None)
    return good.select(
        *[F.col(f"`{f.name}`") for f in schema.fields],
        F.col(RESCUED),
        landing_date_of(F.col(SOURCE_FILE)).alias(LANDING_DATE),
        now.alias(INGESTION_TIMESTAMP),
        F.to_date(now).alias(INGESTION_DATE),
        F.col(SOURCE_FILE),
        F.lit(source.source_system).alias(SOURCE_SYSTEM),
        F.lit(batch_id).alias(BATCH_ID),
        dead_letter_id.cast("string").alias(DEAD_LETTER_ID),
    )


def ingest_batch(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    files: Sequence[str],
    *,
    batch_id: str,
    token: IdempotentWrite,
    evolution_mode: SchemaEvolutionMode,
) -> BatchOutcome:
    """Ingest ``files`` (one micro-batch) into bronze, the dead-letter queue and the ledger."""
    outcome = BatchOutcome(batch_id=batch_id, ingestion_date=dt.datetime.now(dt.UTC).date())
    rejected = {path: reason for path in files if (reason := file_reject_reason(path, source))}
    files = [path for path in files if path not in rejected]
    schema = current_schema(store, source)
    suppressed = suppressed_keys(store, source)
    counted = independent_counts(spark, files, source.file_format) if files else {}
    parsed = _parse(spark, source, files, schema, suppressed) if files else None
    try:
        accounts = _file_accounts(parsed, files) if parsed is not None else {}
        new_columns = sorted({c for a in accounts.values() for c in a.unexpected_fields})
        if new_columns and evolution_mode == "failOnNewColumns":
            raise SchemaEvolutionError(_new_columns_message(source, accounts, new_columns))
        drifts = _drift(parsed, schema, accounts, evolution_mode)
        if new_columns and evolution_mode == "addNewColumns" and parsed is not None:
            schema = StructType(schema.fields + [StructField(c, StringType()) for c in new_columns])
            parsed.unpersist()
            parsed = _parse(spark, source, files, schema, suppressed)
            accounts = _file_accounts(parsed, files)
            outcome.new_columns = new_columns
        outcome.files = [
            replace(accounts.get(path, FileAccount(path)), records=counted.get(path, 0))
            for path in files
        ] + [FileAccount(p, status=REJECTED, reject_reason=r) for p, r in sorted(rejected.items())]
        if parsed is not None:
            _write_rows(store, source, parsed, schema, outcome, token)
        fault_point("bronze.rows_written")  # crash tests (faults.py)
        _write_ledger(spark, store, source, outcome, token)
        fault_point("bronze.ledger_written")
        if drifts:
            _write_schema_changes(spark, store, source, drifts, outcome.batch_id, token)
    finally:
        if parsed is not None:
            parsed.unpersist()
    return outcome


def file_reject_reason(path: str, source: LandingSource) -> str | None:
    """Why a landed file is not ingested (see :func:`decoding.reject_reason`): it is not in a
    ``<YYYY-MM-DD>`` folder, or its name is not one of the source's formats."""
    if landing_date_of_path(path) is None:
        return decoding.NOT_IN_A_DATE_FOLDER
    return decoding.reject_reason(unquote(path.rsplit("/", 1)[-1]), source.file_format)


def independent_counts(spark: SparkSession, files: Sequence[str], file_format: str) -> dict:
    """Records per file counted from the bytes (:func:`decoding.count_records`), in a Spark job
    of its own that shares nothing with the parse: the accounting's ground truth."""
    listing = (
        spark.read.format("binaryFile")
        .load([reader_path(f) for f in files])
        .select(F.col("_metadata.file_path").alias("path"), "content")
    )
    counts = listing.mapInArrow(
        partial(arrow_decoding.shipped(arrow_decoding.count_file_batches), file_format=file_format),
        arrow_decoding.COUNTS_SCHEMA,
    ).collect()
    return {row.path: int(row.records) for row in counts}


def _parse(
    spark: SparkSession,
    source: LandingSource,
    files: Sequence[str],
    schema: StructType,
    suppressed: Sequence[int] = (),
) -> DataFrame:
    records = readers.read_records(spark, source, list(files), schema)
    with_ids = records.withColumn("_row_id", F.monotonically_increasing_id())
    parsed = parse_records(with_ids, schema, source.required_keys)
    parsed = parsed.withColumn(SUPPRESSED, suppressed_column(source, suppressed))
    # The raw text is only needed for dead letters; not caching it for good rows halves the
    # cache. A suppressed record's raw text is not kept either.
    dead_letter_raw = F.when(
        F.col(ERROR_REASON).isNotNull() & ~F.col(SUPPRESSED), F.col(readers.RAW)
    )
    return parsed.withColumn(readers.RAW, dead_letter_raw).persist()


def _file_accounts(parsed: DataFrame, files: Sequence[str]) -> dict[str, FileAccount]:
    """Per-file counts in one aggregation over the cached parse."""
    blank = F.col(readers.BLANK)
    kept = ~F.col(SUPPRESSED)
    good = ~blank & F.col(ERROR_REASON).isNull() & kept
    good_unexpected = F.when(good, F.col(UNEXPECTED))
    good_mismatched = F.when(good, F.col(MISMATCHED))
    stats = parsed.groupBy(SOURCE_FILE).agg(
        F.count(F.when(~blank, F.lit(1))).alias("parsed_records"),
        F.count(F.when(F.col(ERROR_REASON).isNotNull() & kept, F.lit(1))).alias("dead_lettered"),
        F.count(F.when(~blank & F.col(SUPPRESSED), F.lit(1))).alias("suppressed"),
        F.count(F.when(blank, F.lit(1))).alias("blank_lines"),
        F.array_distinct(F.flatten(F.collect_set(good_unexpected))).alias("unexpected"),
        F.array_distinct(F.flatten(F.collect_set(good_mismatched))).alias("mismatched"),
    )
    accounts = {
        row[SOURCE_FILE]: FileAccount(
            path=row[SOURCE_FILE],
            parsed_records=int(row["parsed_records"]),
            dead_lettered=int(row["dead_lettered"]),
            suppressed=int(row["suppressed"]),
            blank_lines=int(row["blank_lines"]),
            unexpected_fields=tuple(sorted(row["unexpected"] or ())),
            mismatched_fields=tuple(sorted(row["mismatched"] or ())),
        )
        for row in stats.collect()
    }
    unknown = set(accounts) - set(files)
    if unknown:
        raise AccountingError(f"records from files outside the batch: {sorted(unknown)[:5]}")
    return accounts


def _write_rows(
    store: DeltaTableStore,
    source: LandingSource,
    parsed: DataFrame,
    schema: StructType,
    outcome: BatchOutcome,
    token: IdempotentWrite,
) -> None:
    kept = ~F.col(SUPPRESSED)
    rejected = parsed.where(F.col(ERROR_REASON).isNotNull() & kept)  # never a blank line
    if outcome.dead_lettered:
        letters = store.append(
            DEAD_LETTER,
            dead_letter_rows(rejected, source, outcome.batch_id),
            idempotent=token,
            merge_schema=True,  # raw_bytes was added to the table after its first release
        )
        _require(letters, outcome.dead_lettered, "dead-letter rows", outcome)
    good = parsed.where(~F.col(readers.BLANK) & F.col(ERROR_REASON).isNull() & kept)
    written = store.append(
        bronze_table(source),
        bronze_rows(good, source, outcome.batch_id, schema),
        idempotent=token,
        # A field added by addNewColumns, or declared in the source after its table was
        # created, becomes a column (Delta's mergeSchema adds columns, never changes a type).
        merge_schema=True,
    )
    _require(written, outcome.bronze_rows, "bronze rows", outcome)
    outcome.skipped = written.skipped


def _require(written: WriteResult, expected: int, what: str, outcome: BatchOutcome) -> None:
    if not written.skipped and written.rows_written != expected:
        raise AccountingError(
            f"batch {outcome.batch_id}: wrote {written.rows_written} {what}, expected {expected}; "
            "the batch is not recorded"
        )


def ledger_rows(
    source: LandingSource, accounts: Sequence[FileAccount], batch_id: str | None
) -> list[tuple]:
    """The file ledger's rows (``LEDGER_SCHEMA`` order) of ``accounts``."""
    return [
        (
            source.name,
            account.path,
            landing_date_of_path(account.path),
            account.records,
            account.bronze_rows,
            account.dead_lettered,
            account.blank_lines,
            batch_id,
            account.status,
            account.reject_reason,
            account.suppressed,
        )
        for account in accounts
    ]


def _write_ledger(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    outcome: BatchOutcome,
    token: IdempotentWrite,
) -> None:
    rows = ledger_rows(source, outcome.files, outcome.batch_id)
    ledger = spark.createDataFrame(rows, LEDGER_SCHEMA).withColumn(
        "ingested_at", F.current_timestamp()
    )
    # status / reject_reason were added after the ledger's first release.
    store.append(INGESTED_FILES, ledger, idempotent=token, merge_schema=True)


def _drift(
    parsed: DataFrame | None,
    schema: StructType,
    accounts: dict[str, FileAccount],
    evolution_mode: SchemaEvolutionMode,
) -> list[FieldDrift]:
    """The batch's schema drift, counted only when a file showed some (the usual batch has
    none and pays nothing). In ``addNewColumns`` a new field is an added column."""
    if parsed is None or not any(
        a.unexpected_fields or a.mismatched_fields for a in accounts.values()
    ):
        return []
    drifts = drift_in(parsed, schema)
    if evolution_mode == "addNewColumns":
        drifts = [replace(d, kind=COLUMN_ADDED) if d.kind == NEW_FIELD else d for d in drifts]
    return drifts


def _write_schema_changes(
    spark: SparkSession,
    store: DeltaTableStore,
    source: LandingSource,
    drifts: Sequence[FieldDrift],
    batch_id: str,
    token: IdempotentWrite,
) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = schema_change_rows(source.name, drifts, known_drift(store, source.name), batch_id, now)
    changes = spark.createDataFrame(rows, SCHEMA_CHANGES_SCHEMA)
    # change_kind, record_count, is_new and first_seen_at came after the table's first release.
    store.append(SCHEMA_CHANGES, changes, idempotent=token, merge_schema=True)


def _first_file_with(accounts: dict[str, FileAccount], column: str) -> str:
    return min(p for p, a in accounts.items() if column in a.unexpected_fields)


def _new_columns_message(
    source: LandingSource, accounts: dict[str, FileAccount], columns: list[str]
) -> str:
    found = "; ".join(f"{c!r} in {_first_file_with(accounts, c)}" for c in columns)
    return (
        f"source {source.name!r} is in schema evolution mode failOnNewColumns and landed files "
        f"have columns it does not declare: {found}. Add them to the source's schema, or rerun "
        "with schema_evolution_mode 'rescue' or 'addNewColumns'."
    )


def landing_date_of_path(path: str) -> dt.date | None:
    """The date folder (``.../<YYYY-MM-DD>/<file>``) of a landed file, None outside one."""
    folder = path.rstrip("/").split("/")[-2]
    try:
        return dt.date.fromisoformat(folder)
    except ValueError:
        return None
