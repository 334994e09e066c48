"""What a feature snapshot means when data arrives late: pure date math, no Spark.

A snapshot is **as known**: snapshot D holds what the lakehouse knew of D's past when D was
first built, and is never rewritten by a run that happens to cover D again (a landing run
for a late correction, automation, a range backfill). Late data appears from the next
snapshot on. Why:

* a training set built from snapshots is what a model serving on those days could have seen,
  so it never learns from data that had not arrived yet (the late-arrival form of leakage);
* a training set built last month can be rebuilt today, row for row;
* a correction months back does not restate every snapshot after it (one each day since).

Restating is a deliberate act: a run with ``restate: true`` rewrites the snapshots of its
partitions with everything known now (docs/features.md shows the command).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from lakehouse_assets.partitions import DateWindow


def windows_to_write(
    window: DateWindow, written: Iterable[dt.date], *, restate: bool = False
) -> list[DateWindow]:
    """The parts of ``window`` a run writes: every day (``restate``), else the days without a
    snapshot yet, as contiguous windows (each one window overwrite)."""
    if restate:
        return [window]
    existing = set(written)
    parts: list[DateWindow] = []
    for day in window.days():
        if day in existing:
            continue
        if parts and parts[-1].last == day - dt.timedelta(days=1):
            parts[-1] = DateWindow(parts[-1].first, day)
        else:
            parts.append(DateWindow.single(day))
    return parts


def kept_days(window: DateWindow, parts: Iterable[DateWindow]) -> list[dt.date]:
    """The days of ``window`` that ``parts`` leave as they were."""
    covered = {day for part in parts for day in part.days()}
    return [day for day in window.days() if day not in covered]
