"""silver_customers' cost for one new day, with 10 and 1,000 days of change events behind it.

    python bench/incremental.py --part silver_customers [--customers 150000] [--events-per-day 1000]

Each history size gets its own lake: synthetic bronze change events (every customer inserted on
day one, then ``events_per_day`` updates and deletes per day, written as bronze writes them:
one file per landing date, partitioned by ingestion date), applied as one first load, then the
daily maintenance's OPTIMIZE of the silver customer tables. Then one new day at a time lands
and is applied with ``apply_customer_changes`` (what the ``silver_customers`` asset runs before
its checks), timed.

Baseline, same run, same bronze table, its own silver tables: the previous design
(:func:`apply_by_full_replay`), which found the day's customers' events among every bronze event
and MERGEd over the whole tables.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

FIRST_DAY = dt.date(1992, 1, 1)
SEGMENTS = ("AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY")


def _events_sql(first: int, last: int, customers: int, events_per_day: int) -> str:
    """Bronze rows of days ``first..last`` (day 0 inserts every customer), as Spark SQL."""
    day0 = FIRST_DAY.isoformat()
    inserts = f"""
        SELECT 0 AS day, id AS custkey, 'c' AS op, id AS seq, id AS i
        FROM range(1, {customers + 1})"""
    changes = f"""
        SELECT d AS day, 1 + pmod(xxhash64(d, i), {customers}) AS custkey,
               IF(i % 100 = 0, 'd', 'u') AS op, {customers} + d * {events_per_day} + i AS seq, i
        FROM (SELECT explode(sequence(greatest({first}, 1), {last})) AS d)
        LATERAL VIEW explode(sequence(0, {events_per_day - 1})) AS i"""
    source = f"{inserts} UNION ALL {changes}" if first == 0 else changes
    return f"""
        SELECT op, CAST(seq AS BIGINT) AS sequence_num,
               timestamp'{day0} 00:00:00' + make_dt_interval(day, 0, 0, pmod(i, 86400)) AS event_ts,
               CAST(custkey AS BIGINT) AS c_custkey, concat('Customer#', custkey) AS c_name,
               concat('Street ', pmod(seq, 997)) AS c_address,
               CAST(pmod(custkey, 25) AS BIGINT) AS c_nationkey,
               concat('10-', lpad(cast(pmod(seq, 9999999) AS string), 7, '0')) AS c_phone,
               cast(pmod(seq, 1000000) / 100 AS decimal(15,2)) AS c_acctbal,
               element_at(array{SEGMENTS}, cast(pmod(seq, 5) + 1 AS int)) AS c_mktsegment,
               'synthetic' AS c_comment,
               date_add(date'{day0}', cast(day AS int)) AS _landing_date,
               concat('landing/customer_events/', date_add(date'{day0}', cast(day AS int)),
                      '/part-0.jsonl') AS _source_file,
               CAST(day AS BIGINT) AS _batch_id,
               timestamp'{day0} 06:00:00' + make_dt_interval(day, 0, 0, 0)
                   AS _ingestion_timestamp,
               date_add(date'{day0}', cast(day AS int)) AS _ingestion_date
        FROM ({source}) WHERE {first} <= day AND day <= {last}"""


def _land(spark: Any, bronze: str, first: int, last: int, customers: int, per_day: int) -> None:
    rows = spark.sql(_events_sql(first, last, customers, per_day))
    (
        rows.repartition("_landing_date")
        .write.format("delta")
        .mode("append")
        .partitionBy("_ingestion_date")
        .save(bronze)
    )


def apply_by_full_replay(store: Any, bronze_events: Any, window: Any) -> None:
    """The previous design (before 2026-12-06), kept here as the baseline: every bronze event
    cleansed, the window's customers found among all of them and rebuilt, both MERGEs over the
    whole tables (no named keys, every recomputed row rewritten)."""
    from pyspark.sql import functions as F

    from lakehouse_assets.silver import tables
    from lakehouse_assets.silver.cdc import (
        CDC_DISPOSITION,
        KEY,
        Disposition,
        build_customer_history,
        classify_events,
        cleanse_customer_events,
        current_customers,
    )
    from lakehouse_assets.silver.customers import HISTORY_ROW_KEYS

    in_window = F.expr(window.sql_predicate("_landing_date"))
    events = cleanse_customer_events(bronze_events)
    window_events = events.where(in_window)
    affected = window_events.where(F.col(KEY).isNotNull()).select(KEY).distinct().persist()
    related = events.join(F.broadcast(affected), KEY, "left_semi")
    classified = classify_events(related).persist()
    classified.groupBy(CDC_DISPOSITION).count().collect()
    accepted = classified.where(F.col(CDC_DISPOSITION) == Disposition.ACCEPTED)
    history = build_customer_history(accepted).persist()
    store.replace_keys(
        tables.CUSTOMER_HISTORY,
        history,
        scope=affected,
        scope_keys=[KEY],
        row_keys=HISTORY_ROW_KEYS,
    )
    store.replace_keys(
        tables.CUSTOMERS,
        current_customers(history),
        scope=affected,
        scope_keys=[KEY],
        row_keys=[KEY],
    )
    for frame in (history, classified, affected):
        frame.unpersist()


def silver_customers_costs(
    spark: Any, scratch: Path, histories: list[int], new_days: int, customers: int, per_day: int
) -> dict[str, Any]:
    """Per history size: the first load, the OPTIMIZE, and each new day's apply and baseline."""
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.silver import tables
    from lakehouse_assets.silver.customers import apply_customer_changes
    from lakehouse_assets.storage import DeltaTableStore, PathLocator
    from lakehouse_assets.storage.maintenance import optimize_table

    points = []
    for history in histories:
        lake = scratch / f"history_{history}"
        shutil.rmtree(lake, ignore_errors=True)
        store = DeltaTableStore(spark, PathLocator(str(lake)))
        bronze = str(lake / "bronze_customer_events")
        _land(spark, bronze, 0, history - 1, customers, per_day)
        baseline_store = DeltaTableStore(spark, PathLocator(str(lake / "baseline")))
        started = time.monotonic()
        loaded = DateWindow(FIRST_DAY, FIRST_DAY + dt.timedelta(days=history - 1))
        events = spark.read.format("delta").load(bronze)
        apply_customer_changes(store, events, loaded, "load").release()
        load_s = time.monotonic() - started
        apply_by_full_replay(baseline_store, events, loaded)
        started = time.monotonic()
        for spec in (tables.CUSTOMER_EVENTS, tables.CUSTOMER_HISTORY, tables.CUSTOMERS):
            optimize_table(store, spec)
        optimize_s = time.monotonic() - started
        for spec in (tables.CUSTOMER_HISTORY, tables.CUSTOMERS):
            optimize_table(baseline_store, spec)
        runs = []
        for n in range(new_days):
            day_number = history + n
            day = FIRST_DAY + dt.timedelta(days=day_number)
            _land(spark, bronze, day_number, day_number, customers, per_day)
            started = time.monotonic()
            events = spark.read.format("delta").load(bronze)
            outcome = apply_customer_changes(store, events, DateWindow.single(day), f"day-{n}")
            outcome.release()
            seconds = time.monotonic() - started
            started = time.monotonic()
            events = spark.read.format("delta").load(bronze)
            apply_by_full_replay(baseline_store, events, DateWindow.single(day))
            baseline = time.monotonic() - started
            runs.append(
                {
                    "day": day.isoformat(),
                    "input_events": outcome.input_events,
                    "seconds": round(seconds, 3),
                    "baseline_full_replay_seconds": round(baseline, 3),
                }
            )
            print(f"  {history} days: {day} applied in {seconds:.1f}s (baseline {baseline:.1f}s)")
        points.append(
            {
                "history_days": history,
                "history_events": customers + (history - 1) * per_day,
                "first_load_s": round(load_s, 3),
                "optimize_s": round(optimize_s, 3),
                "one_day_runs": runs,
                "one_day_median_s": statistics.median(r["seconds"] for r in runs),
                "baseline_median_s": statistics.median(
                    r["baseline_full_replay_seconds"] for r in runs
                ),
            }
        )
        shutil.rmtree(lake, ignore_errors=True)
    smallest, largest = points[0], points[-1]
    return {
        "customers": customers,
        "events_per_day": per_day,
        "new_days": new_days,
        "points": points,
        "one_day_cost_ratio": round(largest["one_day_median_s"] / smallest["one_day_median_s"], 3),
        "baseline_cost_ratio": round(
            largest["baseline_median_s"] / smallest["baseline_median_s"], 3
        ),
    }
