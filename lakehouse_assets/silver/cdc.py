"""Change data capture for customers: events -> SCD1 current state and SCD2 history.

Semantics are those of Databricks' AUTO CDC / APPLY CHANGES, stricter where it is silent:

* Events are ordered by ``sequence_num`` only; arrival order never matters. Every run rebuilds
  the affected customers from *all* of their accepted events, so an event arriving late (in
  the same batch or days later) lands at its place in history and never overwrites a newer one.
  The out-of-order tolerance is unbounded.
* ``c`` and ``u`` are upserts; ``d`` deletes: the key leaves SCD1 and its current SCD2 version is
  closed. A later upsert re-creates the key with a new version. A delete of a key with no open
  version changes nothing.
* SCD2 opens a new version only when a tracked column changes (or after a delete). Untracked
  columns are updated in place and hold the version's latest value.
* An event is quarantined, not resolved, when its customer id, sequence number or event time is
  NULL, its op is unknown, or another event has the same (customer, sequence) with different
  content - then every event of that pair is quarantined. Exact duplicates are counted and the
  first arrival is kept.

These functions are pure DataFrame transformations (no I/O); ``silver.customers`` applies them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse_assets.silver.transforms import MONEY

KEY = "customer_id"
SEQUENCE = "sequence_num"
EVENT_TS = "event_ts"
OP = "op"
EVENT_ID = "_event_id"
QUARANTINE_REASON = "_quarantine_reason"
CDC_DISPOSITION = "_cdc_disposition"

# What changes open a new SCD2 version; the others are corrected in place.
TRACKED_COLUMNS = ("name", "address", "nation_id", "phone", "market_segment")
UNTRACKED_COLUMNS = ("account_balance", "comment")
ATTRIBUTE_COLUMNS = TRACKED_COLUMNS + UNTRACKED_COLUMNS
EVENT_LINEAGE = ("_source_file", "_batch_id", "_ingestion_timestamp")
UPSERT_OPS = ("c", "u")
DELETE_OP = "d"


class Disposition:
    """What became of an event (values of ``_cdc_disposition``)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


def cleanse_customer_events(bronze_events: DataFrame) -> DataFrame:
    """Bronze customer events -> typed, trimmed silver event rows with a stable ``_event_id``."""
    events = bronze_events.select(
        F.lower(F.trim(F.col("op"))).alias(OP),
        F.col("sequence_num").alias(SEQUENCE),
        F.col("event_ts").alias(EVENT_TS),
        F.col("c_custkey").alias(KEY),
        F.trim(F.col("c_name")).alias("name"),
        F.trim(F.col("c_address")).alias("address"),
        F.col("c_nationkey").alias("nation_id"),
        F.trim(F.col("c_phone")).alias("phone"),
        F.col("c_acctbal").cast(MONEY).alias("account_balance"),
        F.trim(F.col("c_mktsegment")).alias("market_segment"),
        F.trim(F.col("c_comment")).alias("comment"),
        F.col("_landing_date"),
        *[F.col(c) for c in EVENT_LINEAGE],
    )
    # Identity of one landed event: its content and the file it came from.
    identity = F.struct(OP, SEQUENCE, EVENT_TS, KEY, *ATTRIBUTE_COLUMNS, "_source_file")
    return events.withColumn(EVENT_ID, F.sha2(F.to_json(identity), 256))


def _content_hash() -> Column:
    return F.sha2(F.to_json(F.struct(OP, EVENT_TS, *ATTRIBUTE_COLUMNS)), 256)


def classify_events(events: DataFrame) -> DataFrame:
    """Add ``_quarantine_reason`` and ``_cdc_disposition`` to every event.

    Conflicts and duplicates are decided over all the events given, so pass every event of
    the customers involved (not only a batch) to get the same answer in any batch split.
    """
    basic_reason = (
        F.when(F.col(KEY).isNull(), F.lit("null_customer_id"))
        .when(F.col(SEQUENCE).isNull(), F.lit("null_sequence_num"))
        .when(F.col(EVENT_TS).isNull(), F.lit("null_event_ts"))
        .when(~F.coalesce(F.col(OP).isin(*UPSERT_OPS, DELETE_OP), F.lit(False)), "unknown_op")
    )
    pair = Window.partitionBy(KEY, SEQUENCE)
    first_arrival = pair.orderBy("_ingestion_timestamp", "_source_file", EVENT_ID)
    classified = (
        events.withColumn(QUARANTINE_REASON, basic_reason)
        .withColumn("_content", F.when(F.col(QUARANTINE_REASON).isNull(), _content_hash()))
        .withColumn("_versions", F.size(F.collect_set("_content").over(pair)))
        .withColumn(
            QUARANTINE_REASON,
            F.when(
                F.col(QUARANTINE_REASON).isNull() & (F.col("_versions") > 1),
                F.lit("conflicting_duplicate_sequence"),
            ).otherwise(F.col(QUARANTINE_REASON)),
        )
        .withColumn("_arrival", F.row_number().over(first_arrival))
    )
    disposition = (
        F.when(F.col(QUARANTINE_REASON).isNotNull(), F.lit(Disposition.QUARANTINED))
        .when(F.col("_arrival") > 1, F.lit(Disposition.DUPLICATE))
        .otherwise(F.lit(Disposition.ACCEPTED))
    )
    return classified.withColumn(CDC_DISPOSITION, disposition).drop(
        "_content", "_versions", "_arrival"
    )


def _tracked_state() -> Column:
    # to_json drops NULL fields, so NULL == NULL here, as a change detector should see it.
    return F.to_json(F.struct(*TRACKED_COLUMNS))


def build_customer_history(
    accepted: DataFrame,
    tracked: Sequence[str] = TRACKED_COLUMNS,
    untracked: Sequence[str] = UNTRACKED_COLUMNS,
) -> DataFrame:
    """SCD2 versions from accepted events (all events of each customer, any order).

    One row per version: the tracked values of the event that opened it, the untracked values
    of its latest upsert, ``valid_from`` / ``valid_to`` (event times; ``valid_to`` is the next
    version's start or the closing delete, NULL while current) and the sequence numbers that
    bound it (``_start_sequence``, ``_end_sequence``, ``_last_sequence``).
    """
    by_sequence = Window.partitionBy(KEY).orderBy(SEQUENCE)
    is_delete = F.col(OP) == DELETE_OP
    state = F.when(~is_delete, F.to_json(F.struct(*tracked)))
    events = (
        accepted.withColumn("_is_delete", is_delete)
        .withColumn("_state", state)
        .withColumn("_prev_state", F.lag("_state").over(by_sequence))
        .withColumn("_prev_delete", F.lag("_is_delete").over(by_sequence))
    )
    # A version opens at an upsert that follows nothing, a delete, or a tracked change.
    opens = ~F.col("_is_delete") & (
        F.coalesce(F.col("_prev_delete"), F.lit(True))
        | ~F.col("_state").eqNullSafe(F.col("_prev_state"))
    )
    running = by_sequence.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    versions = events.withColumn("_opens", opens).withColumn(
        "_version", F.sum(F.col("_opens").cast("int")).over(running)
    )
    upsert = ~F.col("_is_delete")
    latest_upsert = F.struct(SEQUENCE, EVENT_TS, *untracked, *EVENT_LINEAGE)
    grouped = (
        versions.where(F.col("_version") > 0)  # deletes of keys with no open version
        .groupBy(KEY, "_version")
        .agg(
            F.min(F.when(F.col("_opens"), F.struct(SEQUENCE, EVENT_TS, *tracked))).alias("_open"),
            F.max(F.when(upsert, latest_upsert)).alias("_last"),
            F.min(F.when(F.col("_is_delete"), F.struct(SEQUENCE, EVENT_TS))).alias("_delete"),
        )
    )
    next_version = Window.partitionBy(KEY).orderBy("_version")
    valid_to = F.coalesce(
        F.col(f"_delete.{EVENT_TS}"), F.lead(f"_open.{EVENT_TS}").over(next_version)
    )
    end_sequence = F.coalesce(
        F.col(f"_delete.{SEQUENCE}"), F.lead(f"_open.{SEQUENCE}").over(next_version)
    )
    return grouped.select(
        F.col(KEY),
        *[F.col(f"_open.{c}").alias(c) for c in tracked],
        *[F.col(f"_last.{c}").alias(c) for c in untracked],
        F.col(f"_open.{EVENT_TS}").alias("valid_from"),
        valid_to.alias("valid_to"),
        valid_to.isNull().alias("is_current"),
        F.col(f"_open.{SEQUENCE}").alias("_start_sequence"),
        end_sequence.alias("_end_sequence"),
        F.col(f"_last.{SEQUENCE}").alias("_last_sequence"),
        F.col(f"_last.{EVENT_TS}").alias("_last_event_ts"),
        *[F.col(f"_last.{c}").alias(c) for c in EVENT_LINEAGE],
        F.current_timestamp().alias("_processing_timestamp"),
    )


def current_customers(history: DataFrame) -> DataFrame:
    """SCD1 from SCD2: the current version of every live customer (its latest upsert)."""
    return history.where("is_current").select(
        KEY,
        *ATTRIBUTE_COLUMNS,
        F.col("_last_event_ts").alias("updated_at"),
        F.col("_last_sequence").alias(SEQUENCE),
        *EVENT_LINEAGE,
        "_processing_timestamp",
    )
