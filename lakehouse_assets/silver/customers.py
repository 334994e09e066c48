"""Apply a window of customer change events to the SCD1 and SCD2 tables (see ``cdc``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
from lakehouse_assets.storage.staging import clear_staged_table, stage_table

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
    """What staging a window of events computed (and, once published, wrote); counts are for
    events landed in the window."""

    input_events: int
    dispositions: Counter[str]
    quarantine_reasons: Counter[str]
    affected_keys: DataFrame
    window: DateWindow
    # What the log's window becomes when the candidate is published: the window's cleansed
    # events (or, on a lakehouse without the log, every cleansed bronze event).
    log_rows: DataFrame
    seeding_log: bool
    # The candidate SCD2 versions and SCD1 rows of the affected keys, read back from staging;
    # None when no event landed in the window (nothing to replace).
    staged_history: DataFrame | None = None
    staged_customers: DataFrame | None = None
    writes: dict[str, WriteResult] = field(default_factory=dict)
    missing_from_quarantine: int = 0
    # The affected keys' values when few enough to name in predicates (KEY_LOOKUP_LIMIT).
    scope_values: list[int] | None = None

    def release(self) -> None:
        """Drop the cached keys and events (after the publish and the checks that read them)."""
        self.affected_keys.unpersist()
        self.log_rows.unpersist()

    @property
    def accepted(self) -> int:
        return self.dispositions[Disposition.ACCEPTED]

    @property
    def duplicates(self) -> int:
        return self.dispositions[Disposition.DUPLICATE]

    @property
    def quarantined(self) -> int:
        return self.dispositions[Disposition.QUARANTINED]

    @property
    def in_scope(self) -> bool:
        """False when no event landed in the window and both tables exist: nothing to replace."""
        return self.staged_history is not None


def apply_customer_changes(
    store: DeltaTableStore, bronze_events: DataFrame, window: DateWindow, run_id: str
) -> CdcOutcome:
    """Stage and publish the window's events without checks (the CDC alone; the
    ``silver_customers`` asset checks the staged candidate in between)."""
    outcome = stage_customer_changes(store, bronze_events, window, run_id)
    publish_customer_changes(store, outcome)
    return outcome


def stage_customer_changes(
    store: DeltaTableStore, bronze_events: DataFrame, window: DateWindow, run_id: str
) -> CdcOutcome:
    """Compute the customers touched by the events that landed in ``window`` (by
    ``_landing_date``) and stage their candidate SCD2 versions and SCD1 rows; publish nothing.

    Only the window's events are read from ``bronze_events`` (data skipping on
    ``_landing_date``). Every customer with an event in the window is rebuilt from all of its
    events: the window's, plus the other windows' from ``silver.customer_events`` (the
    cleansed event log), looked up by key. So re-running any window, in any order, converges
    to the same tables, and one day's cost depends on the customers it touches, not on how many
    days of history the tables hold. Quarantined events are inserted (insert-only on
    ``_event_id``) whatever the checks say: dead letters are kept either way.
    """
    in_window = F.expr(window.sql_predicate("_landing_date"))
    window_events = cleanse_customer_events(bronze_events.where(in_window)).persist()
    seeding = not store.exists(tables.CUSTOMER_EVENTS)
    # The first run on a lakehouse without the log (one built before it existed) seeds it
    # from every bronze event, so the customers it touches are rebuilt from their whole history.
    log_rows = cleanse_customer_events(bronze_events).persist() if seeding else window_events
    try:
        return _stage_window_events(store, log_rows, window_events, window, run_id, seeding)
    except BaseException:
        log_rows.unpersist()
        raise
    finally:
        if seeding:
            window_events.unpersist()


def publish_customer_changes(store: DeltaTableStore, outcome: CdcOutcome) -> None:
    """Publish a staged candidate: the log's window, then SCD2, then SCD1, one commit each.

    SCD1 records the history version it matches, so a run killed between the two commits
    leaves readers of the pair (``read_customer_history``) on matching versions; its re-run
    recomputes the same keys (the log's window then already holds the window's events) and
    publishes the pair again.
    """
    if outcome.seeding_log:
        store.overwrite(tables.CUSTOMER_EVENTS, outcome.log_rows)
    else:
        store.overwrite_window(
            tables.CUSTOMER_EVENTS, outcome.log_rows, outcome.window, "_landing_date"
        )
    if outcome.staged_history is None or outcome.staged_customers is None:
        # No event landed in the window, so no key is in scope: both MERGEs would replace
        # nothing. Skipping them leaves the pair on the versions that already match.
        outcome.writes = {
            "history": store.unchanged(tables.CUSTOMER_HISTORY),
            "customers": store.unchanged(tables.CUSTOMERS),
        }
        return
    in_scope: dict[str, Any] = {
        "scope": outcome.affected_keys,
        "scope_keys": [KEY],
        "scope_values": outcome.scope_values,
        "volatile_columns": VOLATILE_COLUMNS,
    }
    outcome.writes["history"] = store.replace_keys(
        tables.CUSTOMER_HISTORY, outcome.staged_history, row_keys=HISTORY_ROW_KEYS, **in_scope
    )
    history_version = outcome.writes["history"].version
    with store.commit_metadata({HISTORY_VERSION: str(history_version)}):
        outcome.writes["customers"] = store.replace_keys(
            tables.CUSTOMERS, outcome.staged_customers, row_keys=[KEY], **in_scope
        )
    for published in (tables.CUSTOMER_HISTORY, tables.CUSTOMERS):
        clear_staged_table(store, published)


def _stage_window_events(
    store: DeltaTableStore,
    log_rows: DataFrame,
    window_events: DataFrame,
    window: DateWindow,
    run_id: str,
    seeding: bool,
) -> CdcOutcome:
    # Cached: the keys are the scope of the read of related events, the staging, both MERGEs
    # and every check; unpersisted by the caller (CdcOutcome.release) after the checks.
    affected = window_events.where(F.col(KEY).isNotNull()).select(KEY).distinct().persist()
    keys = [row[KEY] for row in affected.collect()]
    scope_values = keys if len(keys) <= KEY_LOOKUP_LIMIT else None
    in_window = F.expr(window.sql_predicate("_landing_date"))
    if seeding:
        related = log_rows.join(F.broadcast(affected), KEY, "left_semi")
        related = related.unionByName(window_events.where(F.col(KEY).isNull()))
    else:
        # The log's copy of this window is replaced by the window's events as landed now.
        logged = _events_of(store, affected, scope_values)
        related = logged.where(~F.coalesce(in_window, F.lit(False))).unionByName(window_events)
    classified = classify_events(related).withColumn("_in_window", in_window).persist()
    try:
        counts = _disposition_counts(classified)
        outcome = CdcOutcome(
            *_window_totals(counts),
            affected_keys=affected,
            window=window,
            log_rows=log_rows,
            seeding_log=seeding,
            scope_values=scope_values,
        )
        any_quarantined = any(row[CDC_DISPOSITION] == Disposition.QUARANTINED for row in counts)
        outcome.missing_from_quarantine = _quarantine(store, classified, run_id, any_quarantined)
        if outcome.input_events == 0 and all(
            store.exists(t) for t in (tables.CUSTOMER_HISTORY, tables.CUSTOMERS)
        ):
            return outcome
        accepted = classified.where(F.col(CDC_DISPOSITION) == Disposition.ACCEPTED)
        outcome.staged_history = stage_table(
            store, tables.CUSTOMER_HISTORY, build_customer_history(accepted)
        )
        outcome.staged_customers = stage_table(
            store, tables.CUSTOMERS, current_customers(outcome.staged_history)
        )
    except BaseException:
        affected.unpersist()
        raise
    finally:
        classified.unpersist()
    return outcome


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
