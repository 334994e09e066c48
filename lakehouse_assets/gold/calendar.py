"""The date dimension's rows, computed in plain Python (no Spark: tested on its own).

Fiscal years are named by the calendar year in which they **end** (a fiscal year starting in
July 1995 is FY1996), the common convention; with the default start month 1 fiscal and calendar
years coincide. Holidays come from the ``holidays`` package for a configurable country (and
optional subdivision), so the calendar is data, not hand-written rules.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

DATE_COLUMNS = (
    "date_key",
    "date",
    "year",
    "quarter",
    "month",
    "month_name",
    "day_of_month",
    "day_of_year",
    "iso_week",
    "day_of_week",
    "day_name",
    "is_weekend",
    "fiscal_year",
    "fiscal_quarter",
    "fiscal_month",
    "is_holiday",
    "holiday_name",
)


@dataclass(frozen=True)
class CalendarConfig:
    """How dates are labelled: fiscal year start and the holiday calendar."""

    fiscal_year_start_month: int = 1
    holiday_country: str = "US"
    holiday_subdivision: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError(
                f"fiscal_year_start_month must be 1..12, got {self.fiscal_year_start_month}"
            )


def date_key(day: dt.date) -> int:
    """``YYYYMMDD`` as an integer: the surrogate key of ``dim_date``."""
    return day.year * 10_000 + day.month * 100 + day.day


def fiscal_period(day: dt.date, start_month: int) -> tuple[int, int, int]:
    """(fiscal year, fiscal quarter, fiscal month) of ``day``."""
    fiscal_month = (day.month - start_month) % 12 + 1
    fiscal_year = day.year + (1 if start_month > 1 and day.month >= start_month else 0)
    return fiscal_year, (fiscal_month - 1) // 3 + 1, fiscal_month


def holidays_between(first: dt.date, last: dt.date, config: CalendarConfig) -> dict[dt.date, str]:
    """Public holidays of the configured calendar between ``first`` and ``last``."""
    import holidays

    found = holidays.country_holidays(
        config.holiday_country,
        subdiv=config.holiday_subdivision,
        years=range(first.year, last.year + 1),
        language="en_US",
    )
    return {day: name for day, name in sorted(found.items()) if first <= day <= last}


def date_rows(first: dt.date, last: dt.date, config: CalendarConfig) -> Iterator[tuple]:
    """One tuple per day in ``first..last`` in ``DATE_COLUMNS`` order."""
    holiday_names = holidays_between(first, last, config)
    day = first
    while day <= last:
        fiscal = fiscal_period(day, config.fiscal_year_start_month)
        iso = day.isocalendar()
        holiday = holiday_names.get(day)
        yield (
            date_key(day),
            day,
            day.year,
            (day.month - 1) // 3 + 1,
            day.month,
            calendar.month_name[day.month],
            day.day,
            day.timetuple().tm_yday,
            iso.week,
            iso.weekday,
            calendar.day_name[day.weekday()],
            iso.weekday >= 6,
            *fiscal,
            holiday is not None,
            holiday,
        )
        day += dt.timedelta(days=1)
