"""Partitioning: one daily partition per TPC-H order date, and the pure date-window math.

TPC-H order dates run from 1992-01-01 to 1998-08-02 (the spec's STARTDATE to ENDDATE - 151 days),
so the partition set is fixed and the UI never shows thousands of empty future partitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dagster import BackfillPolicy, DailyPartitionsDefinition

TPCH_FIRST_ORDER_DATE = dt.date(1992, 1, 1)
TPCH_LAST_ORDER_DATE = dt.date(1998, 8, 2)

daily_partitions = DailyPartitionsDefinition(
    start_date=TPCH_FIRST_ORDER_DATE.isoformat(),
    end_date=(TPCH_LAST_ORDER_DATE + dt.timedelta(days=1)).isoformat(),
)

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
