"""The live feed: a source system that keeps landing the next TPC-H day on a clock.

It continues the history the manifest describes: the next TPC-H day lands under its shifted
date, as the same files the history has. Around it, what real sources do:

* **late corrections**: every ``late_every`` days, the orders of a date ``late_lag_days`` back
  are sent again as a separate correction file (new comments on the same order keys), into
  that date's folder, or, with ``corrections_in_todays_extract``, into the day's own folder
  (records dated outside their folder, as a source that sends corrections with today's
  extract does);
* **re-deliveries**: every ``redeliver_every`` days, the previous day's orders file is sent
  again under the same name (same bytes, new modification time); it must not count twice;
* **malformed records**: a fraction of unparseable lines in each daily file.

Pacing: ``seconds_per_day`` lands one source day every N seconds while the feed is behind the
calendar (a day is never landed before it begins in the partitions' timezone); ``None`` waits
for each real day. The plan is pure (:func:`plan_day`, :func:`seconds_until_due`); the loop is
thin.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lakehouse_assets.partitions import TPCH_LAST_ORDER_DATE, PartitionCalendar
from lakehouse_assets.sample_data.landing import DAILY_SOURCES_SQL, daily_file, land_tpch
from lakehouse_assets.sample_data.manifest import (
    SampleDataManifest,
    read_manifest,
    write_manifest,
)


@dataclass(frozen=True)
class FeedOptions:
    """How the feed behaves (see the module docstring)."""

    seconds_per_day: float | None = 60.0
    days: int | None = None
    late_every: int = 3
    late_lag_days: int = 30
    redeliver_every: int = 4
    malformed_rate: float = 0.01
    corrections_in_todays_extract: bool = False

    def __post_init__(self) -> None:
        if self.seconds_per_day is not None and self.seconds_per_day < 0:
            raise ValueError("seconds_per_day must be 0 or more (or None for real days)")
        if self.days is not None and self.days < 1:
            raise ValueError("days must be at least 1")
        for name in ("late_every", "late_lag_days", "redeliver_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 (off) or more")


@dataclass(frozen=True)
class DayPlan:
    """What the feed lands for its ``number``-th day (1-based)."""

    number: int
    source_date: dt.date
    landed_date: dt.date
    late_correction_for: dt.date | None
    redelivery_of: dt.date | None


def plan_day(number: int, manifest: SampleDataManifest, options: FeedOptions) -> DayPlan:
    """The next day after the manifest's last, with the extras that fall on it."""
    source = manifest.last_source_date + dt.timedelta(days=1)
    landed = manifest.landed_date(source)
    late = None
    if options.late_every and number % options.late_every == 0:
        candidate = landed - dt.timedelta(days=options.late_lag_days)
        late = max(candidate, manifest.first_landed_date)
        late = late if late < landed else None
    redelivery = None
    if options.redeliver_every and number % options.redeliver_every == 0:
        previous = landed - dt.timedelta(days=1)
        redelivery = previous if previous >= manifest.first_landed_date else None
    return DayPlan(number, source, landed, late, redelivery)


def seconds_until_due(
    landed_date: dt.date,
    now: dt.datetime,
    calendar: PartitionCalendar,
    seconds_per_day: float | None,
    last_landing: dt.datetime | None,
) -> float:
    """How long to wait before landing ``landed_date``.

    A date is never landed before it begins (in the partitions' timezone). Behind the
    calendar, accelerated mode paces one day every ``seconds_per_day`` after the last landing.
    """
    begins = dt.datetime.combine(landed_date, dt.time(0), tzinfo=calendar.zone)
    until_begins = (begins - now).total_seconds()
    if seconds_per_day is None or last_landing is None:
        return max(0.0, until_begins)
    until_paced = seconds_per_day - (now - last_landing).total_seconds()
    return max(0.0, until_begins, until_paced)


@dataclass(frozen=True)
class LandedFile:
    kind: str  # day | late_correction | redelivery
    path: Path
    landed_at: dt.datetime

    def as_json(self) -> str:
        return json.dumps(
            {"event": self.kind, "path": str(self.path), "landed_at": self.landed_at.isoformat()}
        )


def land_day(
    plan: DayPlan,
    manifest: SampleDataManifest,
    tpch_dir: Path,
    landing_root: Path,
    rate: float,
    *,
    in_todays_extract: bool = False,
) -> list[LandedFile]:
    """Land one planned day (and its extras) and advance the manifest; a late correction goes
    into its own date's folder, or ``in_todays_extract``, into the planned day's."""
    landed: list[LandedFile] = []
    if plan.redelivery_of is not None:
        landed.append(_redeliver(daily_file(landing_root, "orders", plan.redelivery_of)))
    if plan.late_correction_for is not None:
        landed.append(
            _land_correction(
                manifest, tpch_dir, landing_root, plan, in_todays_extract=in_todays_extract
            )
        )
    land_tpch(
        tpch_dir,
        landing_root,
        plan.source_date,
        plan.source_date,
        seed=manifest.seed,
        shift_days=manifest.shift_days,
        history_start=manifest.first_source_date,
        malformed_rate=rate,
    )
    now = _utc_now()
    for source in ("orders", "lineitem", "customer_events"):
        landed.append(LandedFile("day", daily_file(landing_root, source, plan.landed_date), now))
    write_manifest(landing_root, manifest.extended_to(plan.source_date))
    return landed


def run_feed(
    landing_root: Path,
    tpch_dir: Path,
    options: FeedOptions,
    calendar: PartitionCalendar,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[LandedFile]:
    """Land day after day until ``options.days`` are landed or TPC-H runs out."""
    clock = clock or _utc_now
    last_landing: dt.datetime | None = None
    number = 0
    while options.days is None or number < options.days:
        manifest = read_manifest(landing_root)
        if manifest is None:
            raise FileNotFoundError(
                f"no sample data under {landing_root}: land history first, e.g. "
                "`lakehouse-sample-data --ends-on yesterday --days 7`"
            )
        if manifest.last_source_date >= TPCH_LAST_ORDER_DATE:
            return
        number += 1
        plan = plan_day(number, manifest, options)
        wait = seconds_until_due(
            plan.landed_date, clock(), calendar, options.seconds_per_day, last_landing
        )
        if wait > 0:
            sleep(wait)
        yield from land_day(
            plan,
            manifest,
            tpch_dir,
            landing_root,
            options.malformed_rate,
            in_todays_extract=options.corrections_in_todays_extract,
        )
        last_landing = clock()


def _land_correction(
    manifest: SampleDataManifest,
    tpch_dir: Path,
    landing_root: Path,
    plan: DayPlan,
    *,
    in_todays_extract: bool,
) -> LandedFile:
    """The orders of the plan's late date again, with a corrected comment: a late correction
    file, in that date's folder or in the planned day's (``in_todays_extract``)."""
    day = plan.late_correction_for
    assert day is not None
    source = manifest.source_date(day)
    query = DAILY_SOURCES_SQL["orders"].format(
        tpch=tpch_dir, first=source, last=source, shift=manifest.shift_days
    )
    folder = plan.landed_date if in_todays_extract else day
    target = daily_file(landing_root, "orders", folder).with_name(
        f"orders_{day.isoformat()}_correction-{plan.landed_date.isoformat()}.jsonl"
    )
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    select = (
        "SELECT * EXCLUDE (landing_date) REPLACE "
        f"('late correction sent {plan.landed_date.isoformat()}' AS o_comment) FROM ({query})"
    )
    con = duckdb.connect()
    try:
        con.execute(f"COPY ({select}) TO '{staged}' (FORMAT JSON)")
    finally:
        con.close()
    os.replace(staged, target)
    return LandedFile("late_correction", target, _utc_now())


def _redeliver(path: Path) -> LandedFile:
    """The same file again under the same name: same bytes, a new modification time."""
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(path, staged)
    os.replace(staged, path)
    return LandedFile("redelivery", path, _utc_now())


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
