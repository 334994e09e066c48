"""How long a table keeps its rows and its unreferenced files: tiny exact value types.

Two different clocks apply to a Delta table:

* **Row retention** (:class:`RowRetention`): rows older than a number of days are deleted by the
  retention job (raw records, dead letters, quarantine, monitoring). A table declares which
  kind of record it holds and which DATE or TIMESTAMP column dates a row; the number of days
  per kind is configured once (``LifecycleSettings``).
* **File retention** (:class:`VacuumRetention`): VACUUM deletes data files no current version
  references once they are older than the retention. Time travel, RESTORE and readers still
  reading an older snapshot need those files, so the retention has a floor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Why a week: the restore job rolls a table back to its last version that passed its checks,
# which on a daily pipeline can be days old (a weekend, a failing check nobody fixed yet);
# a stream or a long query may read a snapshot for as long as it runs or stays stopped; and
# Delta's own safety check (delta.deletedFileRetentionDuration) defaults to the same 7 days.
VACUUM_RETENTION_FLOOR_HOURS = 168

# Table property a retention run sets: the first date whose rows the table still holds.
ROWS_KEPT_FROM_PROPERTY = "lakehouse.retention.rowsKeptFrom"

# The kinds of record a retention policy is set for (days per kind: LifecycleSettings).
RETENTION_KINDS = ("raw_records", "dead_letters", "quarantine", "monitoring")


class RetentionError(ValueError):
    """A retention that would break restores, streams or readers; or an unknown kind."""


@dataclass(frozen=True)
class VacuumRetention:
    """Hours an unreferenced file is kept before VACUUM may delete it (never below the floor)."""

    hours: int = VACUUM_RETENTION_FLOOR_HOURS

    def __post_init__(self) -> None:
        if self.hours < VACUUM_RETENTION_FLOOR_HOURS:
            raise RetentionError(
                f"a VACUUM retention of {self.hours} hours is below the floor of "
                f"{VACUUM_RETENTION_FLOOR_HOURS} hours: restores to the last good version, "
                "stream restarts and running readers need the files of the last 7 days"
            )


@dataclass(frozen=True)
class RowRetention:
    """A table's rows expire by ``column`` (a DATE or TIMESTAMP) after the days set for
    ``kind``."""

    kind: str
    column: str

    def __post_init__(self) -> None:
        if self.kind not in RETENTION_KINDS:
            raise RetentionError(f"unknown retention kind {self.kind!r}; one of {RETENTION_KINDS}")

    def cutoff(self, today: dt.date, days: int) -> dt.date:
        """The first date kept: rows dated before it expire (``days`` >= 1)."""
        if days < 1:
            raise RetentionError(f"{self.kind}: keep at least 1 day, not {days}")
        return today - dt.timedelta(days=days - 1)

    def expired_predicate(self, today: dt.date, days: int) -> str:
        """SQL predicate of the expired rows (the column cast to a date, so a timestamp works)."""
        return f"CAST(`{self.column}` AS DATE) < DATE'{self.cutoff(today, days).isoformat()}'"


def require_rows_kept(table: str, first_date: dt.date, kept_from: str | None) -> None:
    """Refuse to rebuild from ``table`` for dates starting at ``first_date`` when its rows
    before ``kept_from`` (ISO date, from :data:`ROWS_KEPT_FROM_PROPERTY`) have expired: the
    rebuild would replace what was built from them with nothing."""
    if kept_from and first_date < dt.date.fromisoformat(kept_from):
        raise RetentionError(
            f"{table} keeps rows from {kept_from} only (retention); a rebuild from "
            f"{first_date.isoformat()} would empty what was built from the expired rows. "
            "Rebuild dates on or after it, or restore the tables instead."
        )
