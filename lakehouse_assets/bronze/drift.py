"""Schema drift: what a producer sends that the source's schema does not say.

Two kinds land in a bronze row's ``_rescued_data`` (the row is kept, the field is not lost):

* ``new_field``: a field the source does not declare (the producer added one);
* ``type_mismatch``: a declared field whose value does not fit its type (the producer changed
  it: ``"12.5 EUR"`` for a decimal, a date in another format).

In mode ``addNewColumns`` a new field becomes a string column instead (``column_added``).
Every batch writes one ``monitoring.schema_changes`` row per field and kind it saw (records,
first file), marked ``is_new`` the first time that source, field and kind appear. The bronze
asset's ``no_schema_drift`` check (WARN) fails on new drift and names the fields; the alert
router sends one Slack alert per new field. Drift already reported stays in the table (one
row per batch, with counts) without alerting again: on-call acts on the first alert
(docs/runbooks/schema_drift.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue
from pyspark.sql import functions as F

from lakehouse_assets.bronze import readers
from lakehouse_assets.bronze.parsing import ERROR_REASON, MISMATCHED, UNEXPECTED
from lakehouse_assets.bronze.suppression import SUPPRESSED
from lakehouse_assets.bronze.tables import SOURCE_FILE
from lakehouse_assets.monitoring.tables import SCHEMA_CHANGES
from lakehouse_assets.operations.alerts import SCHEMA_DRIFT_CHECK, SCHEMA_DRIFT_FIELDS_KEY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame
    from pyspark.sql.types import StructType

    from lakehouse_assets.storage import DeltaTableStore

NEW_FIELD = "new_field"
TYPE_MISMATCH = "type_mismatch"
COLUMN_ADDED = "column_added"
DRIFT_KINDS = (NEW_FIELD, TYPE_MISMATCH)  # what lands in _rescued_data

SCHEMA_CHANGES_SCHEMA = (
    "source string, column_name string, column_type string, first_seen_file string, "
    "batch_id string, change_kind string, record_count long, is_new boolean, "
    "first_seen_at timestamp, detected_at timestamp"
)


@dataclass(frozen=True, order=True)
class FieldDrift:
    """One field of one kind in one batch: how many kept records carried it, and the first
    file (by path) it was in. ``column_type`` is the declared type for a mismatch, ``string``
    for a new field (what ``_rescued_data`` or an added column holds)."""

    field: str
    kind: str
    column_type: str
    first_file: str
    records: int


def drift_in(parsed: DataFrame, schema: StructType) -> list[FieldDrift]:
    """Every new field and type mismatch among the kept records of a parse (one aggregation;
    dead letters, blank lines and suppressed records are not drift)."""
    kept = ~F.col(readers.BLANK) & F.col(ERROR_REASON).isNull() & ~F.col(SUPPRESSED)
    tagged = F.concat(_tagged(UNEXPECTED, NEW_FIELD), _tagged(MISMATCHED, TYPE_MISMATCH))
    rows = (
        parsed.where(kept & ((F.size(UNEXPECTED) > 0) | (F.size(MISMATCHED) > 0)))
        .select(SOURCE_FILE, F.explode(tagged).alias("drift"))
        .groupBy("drift.field", "drift.kind")
        .agg(F.count(F.lit(1)).alias("records"), F.min(SOURCE_FILE).alias("first_file"))
        .collect()
    )
    types = {f.name: f.dataType.simpleString() for f in schema.fields}
    return sorted(
        FieldDrift(
            r["field"],
            r["kind"],
            types.get(r["field"], "string") if r["kind"] == TYPE_MISMATCH else "string",
            r["first_file"],
            int(r["records"]),
        )
        for r in rows
    )


def _tagged(column: str, kind: str):  # type: ignore[no-untyped-def]
    """An array of field names as (field, kind) structs."""
    return F.transform(
        F.col(column), lambda name: F.struct(name.alias("field"), F.lit(kind).alias("kind"))
    )


def recorded_changes(
    store: DeltaTableStore, columns: Sequence[str], equals: dict[str, str]
) -> list[dict]:
    """Rows of ``monitoring.schema_changes`` matching ``equals`` (a small lookup, read without
    a Spark job where the store can). Rows written before a column existed have it as None,
    and a ``change_kind`` of None is an added column (the table's first release)."""
    if not store.exists(SCHEMA_CHANGES):
        return []
    present = set(store.columns(SCHEMA_CHANGES))
    wanted = [c for c in columns if c in present]
    rows = [
        dict(zip(wanted, row, strict=True)) for row in store.select(SCHEMA_CHANGES, wanted, equals)
    ]
    for row in rows:
        for column in columns:
            row.setdefault(column, None)
        if "change_kind" in columns:
            row["change_kind"] = row["change_kind"] or COLUMN_ADDED
    return rows


def known_drift(store: DeltaTableStore, source: str) -> dict[tuple[str, str], dt.datetime]:
    """(field, kind) -> first seen, of the drift already recorded for ``source``."""
    columns = ("column_name", "change_kind", "first_seen_at", "detected_at")
    known: dict[tuple[str, str], dt.datetime] = {}
    for row in recorded_changes(store, columns, {"source": source}):
        key = (row["column_name"], row["change_kind"])
        first = row["first_seen_at"] or row["detected_at"]
        known[key] = min(known.get(key, first), first)
    return known


def added_columns(store: DeltaTableStore, batch_id: str) -> list[str]:
    """The columns a batch added to its bronze table (mode ``addNewColumns``)."""
    rows = recorded_changes(store, ("column_name", "change_kind"), {"batch_id": batch_id})
    return sorted({r["column_name"] for r in rows if r["change_kind"] == COLUMN_ADDED})


def schema_change_rows(
    source: str,
    drifts: Iterable[FieldDrift],
    known: dict[tuple[str, str], dt.datetime],
    batch_id: str,
    now: dt.datetime,
) -> list[tuple]:
    """``monitoring.schema_changes`` rows (``SCHEMA_CHANGES_SCHEMA`` order) of one batch."""
    return [
        (
            source,
            d.field,
            d.column_type,
            d.first_file,
            batch_id,
            d.kind,
            d.records,
            (d.field, d.kind) not in known,
            known.get((d.field, d.kind), now),
            now,
        )
        for d in drifts
    ]


def new_drift(store: DeltaTableStore, source: str, batch_ids: Sequence[str]) -> list[dict]:
    """The drift first seen in ``batch_ids`` (a run's batches), as the check reports it."""
    if not batch_ids:
        return []
    columns = ("column_name", "change_kind", "column_type", "record_count", "first_seen_file",
               "batch_id", "is_new")  # fmt: skip
    batches = set(batch_ids)
    rows = [
        r
        for r in recorded_changes(store, columns, {"source": source})
        if r["batch_id"] in batches and r["is_new"] and r["change_kind"] in DRIFT_KINDS
    ]
    return [
        {
            "field": r["column_name"],
            "kind": r["change_kind"],
            "declared_type": r["column_type"],
            "records": int(r["record_count"]),
            "first_file": r["first_seen_file"],
        }
        for r in sorted(rows, key=lambda r: (r["column_name"], r["change_kind"]))
    ]


def schema_drift_check(drift: Sequence[dict]) -> AssetCheckResult:
    """WARN when the run saw fields of its source for the first time (new or mistyped): they
    went to ``_rescued_data``, so downstream reads NULLs for them until someone acts."""
    named = ", ".join(f"{d['field']} ({d['kind']}, {d['records']} records)" for d in drift)
    return AssetCheckResult(
        check_name=SCHEMA_DRIFT_CHECK,
        passed=not drift,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"schema drift kept in _rescued_data: {named}; see {SCHEMA_CHANGES.qualified_name} "
            "and docs/runbooks/schema_drift.md"
            if drift
            else "no field was new or mistyped for the first time"
        ),
        metadata={
            SCHEMA_DRIFT_FIELDS_KEY: MetadataValue.json(list(drift)),
            "drifted_fields": len(drift),
            "schema_changes_table": SCHEMA_CHANGES.qualified_name,
        },
    )
