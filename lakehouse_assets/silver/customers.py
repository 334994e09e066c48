"""Apply a window of customer change events to the SCD1 and SCD2 tables (see ``cdc``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from lakehouse_assets.silver import tables
from lakehouse_assets.silver.cdc import (
    CDC_DISPOSITION,
    EVENT_ID,
    KEY,
    QUARANTINE_REASON,
    Disposition,
    build_customer_history,
    classify_events,
    cleanse_customer_events,
    current_customers,
)
from lakehouse_assets.storage.delta_tables import key_in_predicate

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, Row

    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, WriteResult

HISTORY_ROW_KEYS = (KEY, "_start_sequence")
HISTORY_VERSION = "customer_history_version"
# Up to this many touched customers are named in the predicates of the event-log lookup and
# the MERGEs, so Delta reads only the files that can hold them; beyond it (a first load, a
# large backfill) most files hold one, and a plain join costs the same without a huge literal.
KEY_LOOKUP_LIMIT = 5_000
# Set anew by every rebuild: a recomputed row equal in all else is not rewritten.
VOLATILE_COLUMNS = ("_processing_timestamp",)


def read_customer_history(store: DeltaTableStore) -> DataFrame:
    """SCD2 history at the version SCD1 was last published with.

    The two tables are written one after the other; if a run died after the history commit
    and before the customers commit, this reads the history both tables agree on until a
    re-run publishes the pair again. Without the marker (older tables) it reads the latest.
    """
    marker = store.last_commit_metadata(tables.CUSTOMERS).get(HISTORY_VERSION)
    if marker is None:
        return store.read(tables.CUSTOMER_HISTORY)
    return store.read_version(tables.CUSTOMER_HISTORY, int(marker))


@dataclass
class CdcOutcome:
    """What applying a window of events did; counts are for events landed in the window."""

    input_events: int
    dispositions: Counter[str]
    quarantine_reasons: Counter[str]
    affected_keys: DataFrame
    writes: dict[str, WriteResult] = field(default_factory=dict)
    missing_from_quarantine: int = 0
    # The affected keys' values when few enough to name in predicates (KEY_LOOKUP_LIMIT).
    scope_values: list[int] | None = None

    def release(self) -> None:
        """Drop the cached affected keys (after the checks that read them)."""
        self.affected_keys.unpersist()

    @property
    def accepted(self) -> int:
        return self.dispositions[Disposition.ACCEPTED]

    @property
    def duplicates(self) -> int:
        return self.dispositions[Disposition.DUPLICATE]

    @property
    def quarantined(self) -> int:
        return self.dispositions[Disposition.QUARANTINED]


def apply_customer_changes(
    store: DeltaTableStore, bronze_events: DataFrame, window: DateWindow, run_id: str
) -> CdcOutcome:
    """Apply the events that landed in ``window`` (by ``_landing_date``).

    Only the window's events are read from ``bronze_events`` (data skipping on
    ``_landing_date``). They replace the window in ``silver.customer_events``, the cleansed
    event log; every customer with an event in the window is then rebuilt from all of its
    events in that log, looked up by key. So re-running any window, in any order, converges to
    the same tables, and one day's cost depends on the customers it touches, not on how many
    days of history the tables hold. Writes: the log, quarantine (insert-only on
    ``_event_id``), then SCD2 history and SCD1 customers (each one MERGE replacing the affected
    keys). A crash in between is healed by re-running, which recomputes the same keys.
    """
    in_window = F.expr(window.sql_predicate("_landing_date"))
    window_events = cleanse_customer_events(bronze_events.where(in_window)).persist()
    try:
        return _apply_window_events(store, bronze_events, window_events, window, run_id)
    finally:
        window_events.unpersist()


def _apply_window_events(
    store: DeltaTableStore,
    bronze_events: DataFrame,
    window_events: DataFrame,
    window: DateWindow,
    run_id: str,
) -> CdcOutcome:
    _record_events(store, bronze_events, window_events, window)
    # Cached: the keys are the scope of the read of related events, both MERGEs and every
    # check of the publish; unpersisted by the caller (CdcOutcome.release) after the checks.
    affected = window_events.where(F.col(KEY).isNotNull()).select(KEY).distinct().persist()
    keys = [row[KEY] for row in affected.collect()]
    scope_values = keys if len(keys) <= KEY_LOOKUP_LIMIT else None
    in_window = F.expr(window.sql_predicate("_landing_date"))
    related = _events_of(store, affected, scope_values).unionByName(
        window_events.where(F.col(KEY).isNull())
    )
    classified = classify_events(related).withColumn("_in_window", in_window).persist()
    try:
        counts = _disposition_counts(classified)
        outcome = CdcOutcome(*_window_totals(counts), affected_keys=affected)
        outcome.scope_values = scope_values
        any_quarantined = any(row[CDC_DISPOSITION] == Disposition.QUARANTINED for row in counts)
        outcome.missing_from_quarantine = _quarantine(store, classified, run_id, any_quarantined)
        if outcome.input_events == 0 and all(
            store.exists(t) for t in (tables.CUSTOMER_HISTORY, tables.CUSTOMERS)
        ):
            # No event landed in the window, so no key is in scope: both MERGEs would replace
            # nothing. Skipping them leaves the pair on the versions that already match.
            outcome.writes = {
                "history": store.unchanged(tables.CUSTOMER_HISTORY),
                "customers": store.unchanged(tables.CUSTOMERS),
            }
            return outcome
        accepted = classified.where(F.col(CDC_DISPOSITION) == Disposition.ACCEPTED)
        history = build_customer_history(accepted).persist()
        outcome.writes["history"] = store.replace_keys(
            tables.CUSTOMER_HISTORY,
            history,
            scope=affected,
            scope_keys=[KEY],
            row_keys=HISTORY_ROW_KEYS,
            scope_values=scope_values,
            volatile_columns=VOLATILE_COLUMNS,
        )
        # SCD1 records the history version it matches: a run killed between the two commits
        # leaves readers of the pair (read_customer_history) on matching versions.
        history_version = outcome.writes["history"].version
        with store.commit_metadata({HISTORY_VERSION: str(history_version)}):
            outcome.writes["customers"] = store.replace_keys(
                tables.CUSTOMERS,
                current_customers(history),
                scope=affected,
                scope_keys=[KEY],
                row_keys=[KEY],
                scope_values=scope_values,
                volatile_columns=VOLATILE_COLUMNS,
            )
        history.unpersist()
    except BaseException:
        affected.unpersist()
        raise
    finally:
        classified.unpersist()
    return outcome


def _record_events(
    store: DeltaTableStore, bronze_events: DataFrame, window_events: DataFrame, window: DateWindow
) -> None:
    """Make the log's rows of ``window`` exactly the window's events (one commit).

    The first run on a lakehouse without the log (one built before it existed) seeds it from
    every bronze event, so the customers it touches are rebuilt from their whole history.
    """
    if store.exists(tables.CUSTOMER_EVENTS):
        store.overwrite_window(tables.CUSTOMER_EVENTS, window_events, window, "_landing_date")
    else:
        store.overwrite(tables.CUSTOMER_EVENTS, cleanse_customer_events(bronze_events))


def _events_of(store: DeltaTableStore, keys: DataFrame, key_values: list[int] | None) -> DataFrame:
    """Every logged event of the customers in ``keys``: named literally when they are few, so
    only the files whose key statistics can hold them are read."""
    where = key_in_predicate(KEY, key_values) if key_values is not None else None
    log = store.read(tables.CUSTOMER_EVENTS, where)
    return log.join(F.broadcast(keys), KEY, "left_semi")


def _quarantine(
    store: DeltaTableStore, classified: DataFrame, run_id: str, any_quarantined: bool
) -> int:
    """Insert the quarantined events not held yet; return how many of the window's
    quarantined events the table is missing when read back (0 unless the write failed)."""
    quarantined = classified.where(F.col(CDC_DISPOSITION) == Disposition.QUARANTINED)
    rows = quarantined.drop(CDC_DISPOSITION, "_in_window").withColumn("_run_id", F.lit(run_id))
    if not any_quarantined:  # the common case: skip a MERGE, but the table always exists
        store.ensure_table(tables.CUSTOMER_EVENTS_QUARANTINE, rows.schema)
        return 0
    store.insert_missing(tables.CUSTOMER_EVENTS_QUARANTINE, rows, [EVENT_ID])
    held = store.read(tables.CUSTOMER_EVENTS_QUARANTINE).select(EVENT_ID)
    expected = quarantined.where("_in_window").select(EVENT_ID)
    return expected.join(held, EVENT_ID, "left_anti").count()


def _disposition_counts(classified: DataFrame) -> list[Row]:
    return classified.groupBy("_in_window", CDC_DISPOSITION, QUARANTINE_REASON).count().collect()


def _window_totals(counts: list[Row]) -> tuple[int, Counter[str], Counter[str]]:
    """Input events, dispositions and quarantine reasons of the events landed in the window."""
    dispositions: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for row in counts:
        if not row["_in_window"]:
            continue
        dispositions[row[CDC_DISPOSITION]] += int(row["count"])
        if row[QUARANTINE_REASON]:
            reasons[row[QUARANTINE_REASON]] += int(row["count"])
    return sum(dispositions.values()), dispositions, reasons
