"""Partitioning: one daily partition per business date, and the pure date-window math.

The partition set starts at a configured date and is open-ended: it reaches the current day of
the configured timezone (plus ``end_offset - 1`` days), so a file that lands today has a
partition today and the daily schedule can target yesterday. TPC-H history (1992-01-01 ..
1998-08-02) is the default start when nothing else says otherwise, so the oracle tests run on
the original dates.

The start comes from, in order: ``LAKEHOUSE_PARTITION_START``; the manifest the sample-data
generator writes at the landing root (the first date it landed); the TPC-H first order date.
Only environment variables and that small local file are read at import: no Spark, no network.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagster import BackfillPolicy, DailyPartitionsDefinition

from lakehouse_assets.settings import LakehouseSettings, SettingsError

TPCH_FIRST_ORDER_DATE = dt.date(1992, 1, 1)
TPCH_LAST_ORDER_DATE = dt.date(1998, 8, 2)

# Written by ``lakehouse-sample-data`` at the landing root: what it landed, and how shifted.
SAMPLE_DATA_MANIFEST = "_sample_data.json"

Placement = Literal["in_range", "before_start", "after_end"]


@dataclass(frozen=True)
class PartitionCalendar:
    """Which business dates have a partition: ``start`` .. today (in ``timezone``) + offset.

    ``end_offset=1`` (the default) includes the current day, because files land during the
    day they are dated; ``0`` would open a day's partition only once it is over.
    """

    start: dt.date
    end_offset: int = 1
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.end_offset < 0:
            raise SettingsError(
                f"LAKEHOUSE_PARTITION_END_OFFSET={self.end_offset} must be 0 or more"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise SettingsError(
                f"LAKEHOUSE_PARTITION_TIMEZONE={self.timezone!r} is not an IANA timezone"
            ) from error

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PartitionCalendar:
        """The calendar the environment configures (see the module docstring for the start)."""
        environ = os.environ if environ is None else environ
        raw_start = (environ.get("LAKEHOUSE_PARTITION_START") or "").strip()
        if raw_start:
            start = _iso_date("LAKEHOUSE_PARTITION_START", raw_start)
        else:
            landed = landed_sample_data(LakehouseSettings.from_env(environ).landing_root)
            start = landed[0] if landed else TPCH_FIRST_ORDER_DATE
        raw_offset = (environ.get("LAKEHOUSE_PARTITION_END_OFFSET") or "1").strip()
        try:
            end_offset = int(raw_offset)
        except ValueError as error:
            raise SettingsError(
                f"LAKEHOUSE_PARTITION_END_OFFSET={raw_offset!r} is not a whole number"
            ) from error
        timezone = (environ.get("LAKEHOUSE_PARTITION_TIMEZONE") or "UTC").strip()
        return cls(start=start, end_offset=end_offset, timezone=timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def definition(self) -> DailyPartitionsDefinition:
        return DailyPartitionsDefinition(
            start_date=self.start.isoformat(),
            end_offset=self.end_offset,
            timezone=self.timezone,
        )

    def today(self, now: dt.datetime) -> dt.date:
        """The calendar day ``now`` falls on in the partitions' timezone."""
        if now.tzinfo is None:
            raise ValueError(f"now must be timezone-aware, got {now!r}")
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def last_date(self, now: dt.datetime) -> dt.date:
        """The newest date with a partition at ``now``."""
        return self.today(now) + dt.timedelta(days=self.end_offset - 1)

    def previous_day(self, now: dt.datetime) -> dt.date:
        """The day before ``now``'s day: what the daily batch run completes."""
        return self.today(now) - dt.timedelta(days=1)

    def placement(self, day: dt.date, now: dt.datetime) -> Placement:
        """Where ``day`` falls: in the partition set, before its start, or after its end."""
        if day < self.start:
            return "before_start"
        if day > self.last_date(now):
            return "after_end"
        return "in_range"


def business_date_range(calendar: PartitionCalendar, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The dates any table may hold: whole years from TPC-H's first year (or an earlier
    partition start) to the year after the newest partition (ship and receipt dates run up to
    ~150 days past an order). The date dimension covers exactly this; contracts bound by it."""
    first = min(calendar.start, TPCH_FIRST_ORDER_DATE).replace(month=1, day=1)
    last = max(dt.date(1998, 12, 31), dt.date(calendar.last_date(now).year + 1, 12, 31))
    return first, last


def landed_sample_data(landing_root: str) -> tuple[dt.date, dt.date] | None:
    """First and last landed date from the sample-data manifest (None: no local manifest).

    Cloud landing roots are not read at import; set ``LAKEHOUSE_PARTITION_START`` there.
    """
    if "://" in landing_root:
        return None
    manifest = Path(landing_root) / SAMPLE_DATA_MANIFEST
    try:
        content = json.loads(manifest.read_text())
        return (
            dt.date.fromisoformat(content["first_landed_date"]),
            dt.date.fromisoformat(content["last_landed_date"]),
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as error:
        raise SettingsError(
            f"{manifest} is not a sample-data manifest ({error}); delete it or set "
            "LAKEHOUSE_PARTITION_START"
        ) from error


def _iso_date(variable: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise SettingsError(f"{variable}={raw!r} is not a date (YYYY-MM-DD)") from error


PARTITION_CALENDAR = PartitionCalendar.from_env()
daily_partitions = PARTITION_CALENDAR.definition()
BUSINESS_DATES = business_date_range(PARTITION_CALENDAR, dt.datetime.now(dt.UTC))

# A backfill of N days is one run (one Spark session, one job per table), not N runs.
single_run_backfill = BackfillPolicy.single_run()


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of calendar days: the partitions a run materializes."""

    first: dt.date
    last: dt.date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"empty date window: {self.first} > {self.last}")

    @classmethod
    def single(cls, day: dt.date) -> DateWindow:
        return cls(day, day)

    @classmethod
    def from_keys(cls, first_key: str, last_key: str) -> DateWindow:
        """Window from two ``YYYY-MM-DD`` partition keys (inclusive)."""
        return cls(dt.date.fromisoformat(first_key), dt.date.fromisoformat(last_key))

    @classmethod
    def from_time_window(cls, start: dt.datetime, end: dt.datetime) -> DateWindow:
        """Window from Dagster's half-open ``[start, end)`` partition time window."""
        return cls(start.date(), end.date() - dt.timedelta(days=1))

    def days(self) -> Iterator[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last

    def sql_predicate(self, column: str) -> str:
        """A Spark SQL predicate selecting exactly this window on a DATE column (a plain
        column name, optionally qualified by a merge's ``t.``/``s.`` alias).

        Dates are rendered from ``datetime.date`` objects, never from user strings, so the
        predicate cannot be widened by a malformed key (the bug class where a bad predicate
        made a "partition overwrite" rewrite a whole table).
        """
        if not column.removeprefix("t.").removeprefix("s.").replace("_", "").isalnum():
            raise ValueError(f"not a plain column name: {column!r}")
        if self.first == self.last:
            return f"{column} = DATE'{self.first.isoformat()}'"
        return (
            f"{column} >= DATE'{self.first.isoformat()}' "
            f"AND {column} <= DATE'{self.last.isoformat()}'"
        )

    def label(self) -> str:
        """Human label: ``1992-01-01`` or ``1992-01-01..1992-01-07``."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


def partition_window(context: Any) -> DateWindow:
    """The inclusive date window a run materializes: one day, or a single-run backfill range.

    Read from the partition key range (a single day is a range of one), which a run and a
    directly invoked asset (``build_asset_context(partition_key_range=...)``) both provide.
    """
    keys = context.partition_key_range
    return DateWindow.from_keys(keys.start, keys.end)
