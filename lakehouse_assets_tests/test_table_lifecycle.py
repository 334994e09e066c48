"""Table lifecycle: OPTIMIZE and VACUUM, the retention floor, row retention and the jobs.

Real Delta tables on the session's Spark; the jobs run from the code location's Definitions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable as RsDeltaTable

from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.lifecycle.definitions import RETENTION_JOB_NAME, maintenance_job_name
from lakehouse_assets.monitoring.tables import TABLE_MAINTENANCE
from lakehouse_assets.retention import (
    ROWS_KEPT_FROM_PROPERTY,
    VACUUM_RETENTION_FLOOR_HOURS,
    RetentionError,
    RowRetention,
    VacuumRetention,
    require_rows_kept,
)
from lakehouse_assets.settings import LakehouseSettings, SettingsError
from lakehouse_assets.storage import DeltaTableStore, PathLocator, TableSpec
from lakehouse_assets.storage.maintenance import optimize_table, vacuum_erased, vacuum_table
from lakehouse_assets_tests.lakehouse import materialize_day, settings_for

EVENTS = TableSpec(layer="silver", name="events", cluster_by=("event_date",))
SCHEMA = "event_id long, event_date date, payload string"
FIRST_DAY = dt.date(2026, 1, 1)


def _write_scattered(store: DeltaTableStore, spec: TableSpec, writes: int, rows: int) -> int:
    """``writes`` appends, each spreading its rows over 40 days (every file spans them all)."""
    for n in range(writes):
        store.append(
            spec,
            store.spark.range(n * rows, (n + 1) * rows).selectExpr(
                "id AS event_id",
                f"date_add(DATE'{FIRST_DAY}', CAST((id * 7919) % 40 AS INT)) AS event_date",
                "repeat(md5(CAST(id AS STRING)), 4) AS payload",
            ),
        )
    return writes * rows


def _date_ranges(path: str) -> list[tuple[dt.date, dt.date]]:
    actions = pa.table(RsDeltaTable(path).get_add_actions(flatten=True)).to_pydict()
    return sorted(zip(actions["min.event_date"], actions["max.event_date"], strict=True))


@pytest.fixture
def store(spark, tmp_path: Path) -> DeltaTableStore:
    return DeltaTableStore(spark, PathLocator(str(tmp_path / "lakehouse")))


def test_optimize_compacts_small_writes_and_clusters_them(store: DeltaTableStore) -> None:
    rows = _write_scattered(store, EVENTS, writes=20, rows=600)
    path = store.identifier(EVENTS)
    before = _date_ranges(path)
    # Every small write spans the 40 days: no file can be skipped by a date filter.
    assert all(first == FIRST_DAY for first, _ in before)
    key = "spark.databricks.delta.optimize.maxFileSize"
    store.spark.conf.set(key, str(160 * 1024))  # several clustered files, not one
    try:
        outcome = optimize_table(store, EVENTS)
    finally:
        store.spark.conf.unset(key)

    after = _date_ranges(path)
    assert outcome.before.files == len(before) and outcome.after.files == len(after)
    assert 1 < len(after) < len(before), "OPTIMIZE compacts into fewer, larger files"
    assert outcome.files_removed == len(before) and outcome.files_added == len(after)
    # Clustered: each file now holds a narrow band of dates, so a one-day filter skips most.
    one_day = FIRST_DAY + dt.timedelta(days=20)
    assert sum(first <= one_day <= last for first, last in after) < len(after)
    assert store.read(EVENTS).count() == rows


def test_vacuum_keeps_time_travel_within_retention_and_erasure_vacuum_removes_it(
    store: DeltaTableStore,
) -> None:
    _write_scattered(store, EVENTS, writes=3, rows=200)
    first_version = store.version(EVENTS)
    store.overwrite(EVENTS, store.read(EVENTS).where("event_id % 2 = 0"))
    path = Path(store.identifier(EVENTS))
    files_before = {p.name for p in path.glob("*.parquet")}

    kept = vacuum_table(store, EVENTS, VacuumRetention())
    assert kept.files_removed == 0, "files replaced minutes ago are inside the retention"
    assert store.read_version(EVENTS, first_version).count() == 600

    erased = vacuum_erased(store, EVENTS)
    files_after = {p.name for p in path.glob("*.parquet")}
    referenced = {Path(uri).name for uri in RsDeltaTable(str(path)).file_uris()}
    assert files_after == referenced and files_after < files_before
    assert erased.files_removed == len(files_before - files_after) > 0
    assert erased.bytes_removed > 0
    assert store.read(EVENTS).count() == 300
    with pytest.raises(Exception, match=r"(?i)FileNotFound|does not exist"):
        store.read_version(EVENTS, first_version).collect()


def test_vacuum_retention_below_the_floor_is_refused() -> None:
    assert VacuumRetention().hours == VACUUM_RETENTION_FLOOR_HOURS == 168
    with pytest.raises(RetentionError, match="below the floor of 168 hours"):
        VacuumRetention(hours=24)
    with pytest.raises(SettingsError, match=r"LAKEHOUSE_VACUUM_RETENTION_HOURS.*floor"):
        LakehouseSettings.from_env({"LAKEHOUSE_VACUUM_RETENTION_HOURS": "167"})
    lifecycle = LakehouseSettings.from_env({"LAKEHOUSE_VACUUM_RETENTION_HOURS": "720"}).lifecycle
    assert lifecycle.vacuum_retention == VacuumRetention(720)


def test_optimize_beside_a_concurrent_writer_loses_no_row(store: DeltaTableStore) -> None:
    rows = _write_scattered(store, EVENTS, writes=6, rows=500)
    errors: list[BaseException] = []

    def keep_appending() -> None:
        try:
            for n in range(6):
                store.append(
                    EVENTS,
                    store.spark.range(100_000 + n * 50, 100_000 + (n + 1) * 50).selectExpr(
                        "id AS event_id", f"DATE'{FIRST_DAY}' AS event_date", "'late' AS payload"
                    ),
                )
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    writer = threading.Thread(target=keep_appending)
    writer.start()
    optimize_table(store, EVENTS)
    writer.join()
    assert not errors
    ids = store.read(EVENTS).select("event_id")
    assert ids.count() == ids.distinct().count() == rows + 300


def test_row_retention_cutoff_and_rebuild_guard() -> None:
    retention = RowRetention("dead_letters", "ingestion_timestamp")
    today = dt.date(2026, 12, 6)
    assert retention.cutoff(today, 1) == today
    assert retention.cutoff(today, 90) == dt.date(2026, 9, 8)
    assert "< DATE'2026-09-08'" in retention.expired_predicate(today, 90)
    with pytest.raises(RetentionError, match="unknown retention kind"):
        RowRetention("forever", "x")
    require_rows_kept("bronze.orders", dt.date(2026, 9, 8), "2026-09-08")
    with pytest.raises(RetentionError, match="keeps rows from 2026-09-08"):
        require_rows_kept("bronze.orders", dt.date(2026, 9, 7), "2026-09-08")


def test_retention_and_maintenance_jobs_record_what_they_did(spark, tmp_path: Path) -> None:
    """The jobs of the Definitions: retention expires old dead letters and bronze orders (the
    append-only guard restored), a silver rebuild from the expired dates is refused, and the
    silver maintenance job compacts; every operation is a row of table_maintenance."""
    environ = {"LAKEHOUSE_RETENTION_RAW_RECORDS_DAYS": "30"}
    lifecycle = LakehouseSettings.from_env(environ).lifecycle
    settings = dataclasses.replace(settings_for(tmp_path), lifecycle=lifecycle)
    store = DeltaTableStore(spark, PathLocator(settings.root))
    today = dt.datetime.now(dt.UTC).date()
    old, recent = today - dt.timedelta(days=200), today - dt.timedelta(days=3)
    store.append(
        DEAD_LETTER,
        spark.createDataFrame(
            [("old", "orders", dt.datetime.combine(old, dt.time())), ("new", "orders", None)],
            "dead_letter_id string, source string, ingestion_timestamp timestamp",
        ).selectExpr(
            "dead_letter_id", "source", "coalesce(ingestion_timestamp, now()) ingestion_timestamp"
        ),
    )
    orders = bronze_table(sources.ORDERS)
    store.append(
        orders,
        spark.createDataFrame([(1, old), (2, recent)], "o_orderkey long, _ingestion_date date"),
    )
    assert store.properties(orders)["delta.appendOnly"] == "true"
    # Small writes standing in for silver.orders (the job maintains the tables by name).
    _write_scattered(store, TableSpec("silver", "orders", cluster_by=("event_date",)), 4, 100)

    defs = build_definitions(settings)
    retention = defs.get_job_def(RETENTION_JOB_NAME).execute_in_process()
    assert retention.success
    assert [r[0] for r in store.read(DEAD_LETTER).select("dead_letter_id").collect()] == ["new"]
    assert [r[0] for r in store.read(orders).select("o_orderkey").collect()] == [2]
    kept_from = (today - dt.timedelta(days=29)).isoformat()
    assert store.properties(orders)[ROWS_KEPT_FROM_PROPERTY] == kept_from
    assert store.properties(orders)["delta.appendOnly"] == "true"

    refused = materialize_day(settings, old, selection=["silver_orders"], raise_on_error=False)
    assert not refused.success
    assert f"keeps rows from {kept_from}" in str(refused.all_events)

    silver = defs.get_job_def(maintenance_job_name("silver")).execute_in_process()
    assert silver.success
    recorded = {
        (r["table_name"], r["operation"]): r for r in store.read(TABLE_MAINTENANCE).collect()
    }
    assert recorded[("bronze.dead_letter", "RETENTION")]["rows_removed"] == 1
    assert recorded[("bronze.orders", "RETENTION")]["rows_removed"] == 1
    assert recorded[("silver.orders", "OPTIMIZE")]["files_before"] > 1
    assert recorded[("silver.orders", "OPTIMIZE")]["files_after"] == 1
    assert recorded[("silver.orders", "VACUUM")]["detail"] == "retain 168 hours"
    assert {r["run_id"] for r in recorded.values()} == {retention.run_id, silver.run_id}
