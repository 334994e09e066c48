"""Erase a customer's personal data from every table that holds it, and keep it erased.

What changes (``privacy.CUSTOMER_KEY_COLUMNS`` and ``privacy.PERSONAL_COLUMNS`` say where):

* bronze change events, silver's event log, customers, history and quarantine, gold
  ``dim_customer``: each
  personal value of the customer is replaced by a token (``erased-name-1``, ``erased-phone-2``,
  numbered in the order the values first appeared). Keys, dates, sequence numbers and every
  non-personal attribute stay, so facts keep their customer keys and reconcile; and because a
  token replaces each distinct value, the versions of the customer's SCD2 history stay exactly
  where they were, also when silver and gold are rebuilt from the anonymized bronze events.
* dead letters whose raw record names the customer (key or any personal value): the raw record,
  its bytes and parsed fields are removed, the status becomes ``erased`` (never replayed).
* the key is added to ``monitoring.erasure_suppressions`` (first, so that an ingestion running
  meanwhile already drops the customer's records), and
* every changed table is vacuumed with no retention, so no older version can bring the values
  back (this gives up time travel to those tables' earlier versions). Tables with deletion
  vectors are purged first: an UPDATE there leaves the old row in a live file, only masked.
  A changed table's staging table (its candidates, ``storage/staging.py``) is emptied and
  vacuumed the same way: a rejected candidate is lost for inspection, the values are not kept.

Features and the vector index hold no personal column (test_privacy.py holds that), so
nothing there changes. The request is recorded in ``monitoring.erasure_audit`` without personal
data. The personal values are held in memory only for the run: never logged, never written,
and never part of a Delta predicate (the changed rows are chosen by key or by id).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from lakehouse_assets.bronze.suppression import raw_key_pattern
from lakehouse_assets.bronze.tables import DEAD_LETTER
from lakehouse_assets.monitoring.tables import ERASURE_AUDIT, ERASURE_SUPPRESSIONS
from lakehouse_assets.privacy import (
    CUSTOMER_KEY_COLUMNS,
    RAW_TEXT_COLUMNS,
    Category,
    personal_columns,
)
from lakehouse_assets.silver.customers import HISTORY_VERSION
from lakehouse_assets.storage.maintenance import vacuum_erased
from lakehouse_assets.storage.sql_args import SqlArgs
from lakehouse_assets.storage.staging import staging_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.storage import DeltaTableStore, TableSpec

ERASED = "erased"
# The bronze table whose events are the customer's first record: tokens are numbered by the
# sequence in which each value first appeared there.
EVENTS_TABLE = "bronze.customer_events"
EVENT_SEQUENCE = "sequence_num"
AUDIT_SCHEMA = (
    "request_id string, customer_id long, requested_by string, reason string, "
    "requested_at timestamp, completed_at timestamp, dry_run boolean, "
    "rows_changed map<string,long>, files_vacuumed map<string,long>, run_id string"
)
SUPPRESSION_SCHEMA = "customer_id long, request_id string, suppressed_at timestamp"


# History before customers: SCD1 records the history version it matches (silver.customers).
# Bronze events last: the tokens are numbered from them, so a run that failed before them
# numbers the same tokens again when it is re-run (values already tokens map to themselves).
ERASURE_ORDER = (
    "bronze.dead_letter",
    "silver.customer_history",
    "silver.customers",
    "silver.customer_events_quarantine",
    "silver.customer_events",
    "gold.dim_customer",
    EVENTS_TABLE,
)


class ErasureError(ValueError):
    """An erasure request that cannot be carried out as given."""


@dataclass(frozen=True)
class ErasureRequest:
    """Who is to be forgotten, who asked and why (the reason must not name the person)."""

    customer_id: int
    reason: str
    requested_by: str
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.customer_id <= 0:
            raise ErasureError(f"customer id must be positive, got {self.customer_id}")
        if not self.reason.strip():
            raise ErasureError("give the reason for the erasure (a ticket or request reference)")


@dataclass
class ErasureOutcome:
    """What an erasure changed (or, in a dry run, would change), per table."""

    request_id: str
    customer_id: int
    dry_run: bool
    rows_changed: dict[str, int] = field(default_factory=dict)
    files_vacuumed: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        tables = ", ".join(f"{t}: {n}" for t, n in self.rows_changed.items()) or "nothing"
        return f"erasure {self.request_id} of customer {self.customer_id} {verb} {tables}"


def erase_customer(
    store: DeltaTableStore,
    tables: Sequence[TableSpec],
    request: ErasureRequest,
    run_id: str,
) -> ErasureOutcome:
    """Carry out ``request`` over ``tables`` (the graph's tables): see the module docstring."""
    requested_at = _now()
    by_name = {t.qualified_name: t for t in tables}
    outcome = ErasureOutcome(uuid.uuid4().hex, request.customer_id, request.dry_run)
    tokens = _tokens(store, by_name, request.customer_id)
    plan = _plan(store, by_name, request.customer_id, tokens)
    outcome.rows_changed = {name: count for name, (count, _) in plan.items()}
    if request.dry_run:
        _audit(store, request, outcome, requested_at, run_id)
        return outcome
    _suppress(store, request.customer_id, outcome.request_id)
    changed = [name for name, n in outcome.rows_changed.items() if n]
    for name in sorted(changed, key=ERASURE_ORDER.index):
        spec = by_name[name]
        if name == DEAD_LETTER.qualified_name:
            _erase_dead_letters(store, spec, plan[name][1])
        else:
            _anonymize(store, spec, request.customer_id, tokens, plan[name][1])
    for name in changed:
        outcome.files_vacuumed[name] = vacuum_erased(store, by_name[name]).files_removed
        staging = staging_table(by_name[name])
        if store.exists(staging):
            # Candidates (and a rejected one) of the table, and their files in its history:
            # transient copies the erased values must not survive in.
            store.spark.sql(f"DELETE FROM {store.sql_name(staging)}")
            removed = vacuum_erased(store, staging).files_removed
            outcome.files_vacuumed[staging.qualified_name] = removed
    _audit(store, request, outcome, requested_at, run_id)
    return outcome


# -- the customer's values and their tokens -----------------------------------------------------


def _tokens(
    store: DeltaTableStore, tables: Mapping[str, TableSpec], customer_id: int
) -> dict[Category, dict[str, str]]:
    """Per category: each trimmed personal value of the customer -> its token, numbered in the
    order of first appearance (bronze events by sequence, then silver history)."""
    seen: dict[Category, dict[str, tuple]] = {"name": {}, "address": {}, "phone": {}}
    sources = [(EVENTS_TABLE, EVENT_SEQUENCE), ("silver.customer_history", "_start_sequence")]
    for rank, (name, order) in enumerate(sources):
        spec = tables.get(name)
        if spec is None or not store.exists(spec):
            continue
        key = CUSTOMER_KEY_COLUMNS[name]
        columns = personal_columns(name)
        # One Spark job per table: a customer's rows are few, the ranking is done here.
        rows = (
            store.read(spec)
            .where(F.col(key) == F.lit(customer_id))
            .select(F.col(order).alias("_at"), *[F.trim(F.col(c)).alias(c) for c in columns])
            .collect()
        )
        for row in rows:
            for column, category in columns.items():
                value = row[column]
                if value is None or value.startswith(f"{ERASED}-"):
                    continue  # no value, or tokenized by an earlier, interrupted run
                first = (rank, row["_at"] if row["_at"] is not None else 0, value)
                seen[category][value] = min(seen[category].get(value, first), first)
    return {
        category: {
            value: f"{ERASED}-{category}-{n}"
            for n, value in enumerate(sorted(values, key=values.__getitem__), start=1)
        }
        for category, values in seen.items()
    }


def _plan(
    store: DeltaTableStore,
    tables: Mapping[str, TableSpec],
    customer_id: int,
    tokens: Mapping[Category, Mapping[str, str]],
) -> dict[str, tuple[int, list[str]]]:
    """Per table holding the customer's data: rows to change, and the ids that select them
    where they are not selected by key (dead letters, quarantine rows without a key)."""
    plan: dict[str, tuple[int, list[str]]] = {}
    values = sorted({v for by_value in tokens.values() for v in by_value})
    for name, key in CUSTOMER_KEY_COLUMNS.items():
        spec = tables.get(name)
        if spec is None or not store.exists(spec):
            continue
        rows = store.read(spec)
        if name in ("silver.customer_events_quarantine", "silver.customer_events"):
            # An invalid event may have lost its key (null_customer_id) but not its values.
            named = F.col(key) == F.lit(customer_id)
            for column in personal_columns(name):
                named = named | F.trim(F.col(column)).isin(values)
            ids = [r[0] for r in rows.where(named).select("_event_id").distinct().collect()]
            plan[name] = (len(ids), ids)
        else:
            plan[name] = (rows.where(F.col(key) == F.lit(customer_id)).count(), [])
    letters = tables.get(DEAD_LETTER.qualified_name)
    if letters is not None and store.exists(letters):
        ids = _dead_letters_naming(store.read(letters), customer_id, values)
        plan[letters.qualified_name] = (len(ids), ids)
    return plan


def _dead_letters_naming(letters: DataFrame, customer_id: int, values: Sequence[str]) -> list[str]:
    """Ids of the dead letters whose raw text holds the customer's key or any of their values."""
    text = F.concat_ws("\n", F.col("raw_record"), F.col("fields_json"))
    found = text.rlike(raw_key_pattern("c_custkey", [customer_id]))
    for value in values:
        found = found | (F.instr(text, value) > 0)
    return [r[0] for r in letters.where(found).select("dead_letter_id").collect()]


# -- the writes ------------------------------------------------------------------------------------


def _suppress(store: DeltaTableStore, customer_id: int, request_id: str) -> None:
    store.append(
        ERASURE_SUPPRESSIONS,
        store.spark.createDataFrame([(customer_id, request_id, _now())], SUPPRESSION_SCHEMA),
    )


def _token_of(
    column: str, category: Category, tokens: Mapping[Category, Mapping[str, str]], args: SqlArgs
) -> str:
    """SQL for the token of the column's (trimmed) value; a token stays itself, NULL stays
    NULL. The personal values and their tokens go into ``args`` (bound parameters), never into
    the statement's text."""
    pairs = [args.bind(x) for value, token in tokens[category].items() for x in (value, token)]
    value = f"`{column}`"
    already = f"CASE WHEN startswith({value}, '{ERASED}-') THEN {value} END"
    fallback = f"CASE WHEN {value} IS NOT NULL THEN '{ERASED}-{category}' END"
    if not pairs:
        return f"coalesce({already}, {fallback})"
    return f"coalesce(map({', '.join(pairs)})[trim({value})], {already}, {fallback})"


def _anonymize(
    store: DeltaTableStore,
    spec: TableSpec,
    customer_id: int,
    tokens: Mapping[Category, Mapping[str, str]],
    ids: Sequence[str],
) -> None:
    """Replace the personal values of the customer's rows of ``spec`` with their tokens."""
    name = spec.qualified_name
    columns = personal_columns(name)
    args = SqlArgs()
    assignments = {
        f"`{c}`": _token_of(c, category, tokens, args) for c, category in columns.items()
    }
    existing = set(store.read(spec).columns)
    assignments |= {f"`{c}`": "NULL" for c in RAW_TEXT_COLUMNS if c in existing}
    if ids:
        condition = f"`_event_id` IN ({', '.join(args.bind(i) for i in ids)})"
    else:
        condition = f"`{CUSTOMER_KEY_COLUMNS[name]}` = {args.bind(customer_id)}"
    with store.removing_rows(spec), _matching_history(store, spec):
        store.update(spec, assignments, condition, args.values)


@contextmanager
def _matching_history(store: DeltaTableStore, spec: TableSpec) -> Iterator[None]:
    """Commit silver.customers with the history version it now matches (silver.customers
    reads the history at that version)."""
    if spec.qualified_name != "silver.customers":
        yield
        return
    from lakehouse_assets.silver import tables as silver

    version = store.version(silver.CUSTOMER_HISTORY)
    with store.commit_metadata({HISTORY_VERSION: str(version)}):
        yield


def _erase_dead_letters(store: DeltaTableStore, spec: TableSpec, ids: Sequence[str]) -> None:
    existing = set(store.read(spec).columns)
    args = SqlArgs()
    assignments = {f"`{c}`": "NULL" for c in RAW_TEXT_COLUMNS if c in existing}
    assignments["`status`"] = f"'{ERASED}'"
    condition = f"`dead_letter_id` IN ({', '.join(args.bind(i) for i in ids)})"
    store.update(spec, assignments, condition, args.values)


def _audit(
    store: DeltaTableStore,
    request: ErasureRequest,
    outcome: ErasureOutcome,
    requested_at: dt.datetime,
    run_id: str,
) -> None:
    row = (
        outcome.request_id,
        request.customer_id,
        request.requested_by,
        request.reason,
        requested_at,
        _now(),
        request.dry_run,
        dict(outcome.rows_changed),
        dict(outcome.files_vacuumed),
        run_id,
    )
    store.append(ERASURE_AUDIT, store.spark.createDataFrame([row], AUDIT_SCHEMA))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
