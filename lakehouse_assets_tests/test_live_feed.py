"""History moved to end on a chosen date, and the live feed that continues it (no Spark)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lakehouse_assets.partitions import PartitionCalendar
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.sample_data.__main__ import main as sample_data_main
from lakehouse_assets.sample_data.landing import daily_file
from lakehouse_assets.sample_data.live_feed import (
    FeedOptions,
    plan_day,
    run_feed,
    seconds_until_due,
)
from lakehouse_assets.sample_data.manifest import (
    SampleDataManifest,
    merge_landing,
    read_manifest,
)

SHIFT = (dt.date(2026, 11, 30) - dt.date(1992, 1, 2)).days
CALENDAR = PartitionCalendar(start=dt.date(2026, 1, 1))


def test_shifted_history_moves_every_date_alike(tpch_dir, tmp_path):
    plain, moved = tmp_path / "plain", tmp_path / "moved"
    land_tpch(tpch_dir, plain, dt.date(1992, 1, 1), dt.date(1992, 1, 2))
    land_tpch(tpch_dir, moved, dt.date(1992, 1, 1), dt.date(1992, 1, 2), shift_days=SHIFT)
    shift = dt.timedelta(days=SHIFT)
    for source in ("orders", "lineitem"):
        before = daily_file(plain, source, "1992-01-02").read_text().splitlines()
        after = daily_file(moved, source, "2026-11-30").read_text().splitlines()
        assert len(before) == len(after) > 0
        for old, new in zip(map(json.loads, before), map(json.loads, after), strict=True):
            for column, value in old.items():
                if column.endswith("date"):
                    assert dt.date.fromisoformat(new[column]) == (
                        dt.date.fromisoformat(value) + shift
                    ), column
                else:
                    assert new[column] == value, column
    assert (moved / "part" / "2026-11-29" / "part.parquet").exists()
    events = daily_file(moved, "customer_events", "2026-11-29").read_text().splitlines()
    assert json.loads(events[0])["event_ts"].startswith("2026-11-29")


def test_the_command_lands_history_ending_on_a_date_and_records_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "lh"))
    assert sample_data_main(["--days", "2", "--ends-on", "2026-11-30"]) == 0
    landing = tmp_path / "lh" / "landing"
    manifest = read_manifest(landing)
    assert manifest is not None
    assert (manifest.first_landed_date, manifest.last_landed_date) == (
        dt.date(2026, 11, 29),
        dt.date(2026, 11, 30),
    )
    assert daily_file(landing, "orders", "2026-11-30").exists()
    # The partition calendar starts at the first landed date by default.
    calendar = PartitionCalendar.from_env({"LAKEHOUSE_ROOT": str(tmp_path / "lh")})
    assert calendar.start == dt.date(2026, 11, 29)
    # Landing the same TPC-H at another shift would put it on the calendar twice: refused.
    with pytest.raises(SystemExit):
        sample_data_main(["--days", "2", "--ends-on", "2026-12-01"])


def test_manifest_merge_refuses_another_shift_and_widens_the_same_one():
    one = SampleDataManifest(0.01, 42, 10, dt.date(1992, 1, 1), dt.date(1992, 1, 3))
    more = SampleDataManifest(0.01, 42, 10, dt.date(1992, 1, 2), dt.date(1992, 1, 9))
    assert merge_landing(one, more).last_source_date == dt.date(1992, 1, 9)
    with pytest.raises(ValueError, match="shift_days=10"):
        merge_landing(
            one, SampleDataManifest(0.01, 42, 11, dt.date(1992, 1, 1), dt.date(1992, 1, 3))
        )


def test_plan_day_places_late_corrections_and_redeliveries():
    manifest = SampleDataManifest(0.01, 42, SHIFT, dt.date(1992, 1, 1), dt.date(1992, 3, 1))
    options = FeedOptions(late_every=3, late_lag_days=30, redeliver_every=4)
    first = plan_day(1, manifest, options)
    assert first.source_date == dt.date(1992, 3, 2)
    assert first.landed_date == dt.date(1992, 3, 2) + dt.timedelta(days=SHIFT)
    assert first.late_correction_for is None and first.redelivery_of is None
    third = plan_day(3, manifest, options)
    assert third.late_correction_for == third.landed_date - dt.timedelta(days=30)
    fourth = plan_day(4, manifest, options)
    assert fourth.redelivery_of == fourth.landed_date - dt.timedelta(days=1)


def test_the_feed_never_lands_a_day_before_it_begins():
    now = dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC)
    behind = seconds_until_due(dt.date(2026, 11, 30), now, CALENDAR, 60, now)
    assert behind == 60  # behind the calendar: paced
    assert seconds_until_due(dt.date(2026, 11, 30), now, CALENDAR, 60, None) == 0
    ahead = seconds_until_due(dt.date(2026, 12, 3), now, CALENDAR, 60, now)
    assert ahead == 14 * 3600  # tomorrow's day waits for its midnight
    assert seconds_until_due(dt.date(2026, 12, 3), now, CALENDAR, None, None) == 14 * 3600


def test_the_feed_lands_days_corrections_redeliveries_and_malformed_lines(tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 2), shift_days=SHIFT)
    from lakehouse_assets.sample_data.manifest import write_manifest

    write_manifest(
        landing, SampleDataManifest(0.01, 42, SHIFT, dt.date(1992, 1, 1), dt.date(1992, 1, 2))
    )
    sleeps: list[float] = []
    clock = iter(
        dt.datetime(2027, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n) for n in range(99)
    )
    options = FeedOptions(seconds_per_day=5, days=2, late_every=2, late_lag_days=1,
                          redeliver_every=2, malformed_rate=0.2)  # fmt: skip
    redelivered = daily_file(landing, "orders", "2026-12-01")
    landed = list(
        run_feed(
            landing, tpch_dir, options, CALENDAR, clock=lambda: next(clock), sleep=sleeps.append
        )
    )
    kinds = [f.kind for f in landed]
    assert kinds.count("day") == 6 and "late_correction" in kinds and "redelivery" in kinds
    assert sleeps and all(s <= 5 for s in sleeps)
    assert read_manifest(landing).last_source_date == dt.date(1992, 1, 4)
    day = daily_file(landing, "orders", "2026-12-01").read_text().splitlines()
    bad = [line for line in day if line.startswith('{"malformed"')]
    assert bad and all(not _parses(line) for line in bad)
    assert redelivered.exists()
    correction = next(f.path for f in landed if f.kind == "late_correction")
    rows = [json.loads(line) for line in correction.read_text().splitlines()]
    assert rows and all(r["o_comment"].startswith("late correction sent") for r in rows)
    assert correction.parent.name == "2026-12-01"


def test_a_correction_in_todays_extract_lands_in_the_days_own_folder(tpch_dir, tmp_path):
    from lakehouse_assets.sample_data.live_feed import land_day, plan_day
    from lakehouse_assets.sample_data.manifest import write_manifest

    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 2), shift_days=SHIFT)
    manifest = SampleDataManifest(0.01, 42, SHIFT, dt.date(1992, 1, 1), dt.date(1992, 1, 2))
    write_manifest(landing, manifest)
    plan = plan_day(1, manifest, FeedOptions(late_every=1, late_lag_days=2))
    landed = land_day(plan, manifest, tpch_dir, landing, 0.0, in_todays_extract=True)
    correction = next(f.path for f in landed if f.kind == "late_correction")
    assert correction.parent.name == plan.landed_date.isoformat()
    rows = [json.loads(line) for line in correction.read_text().splitlines()]
    assert rows and {r["o_orderdate"] for r in rows} == {plan.late_correction_for.isoformat()}


def _parses(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
