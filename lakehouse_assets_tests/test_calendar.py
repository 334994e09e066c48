"""The date dimension's rows (pure Python, no Spark)."""

from __future__ import annotations

import datetime as dt

import pytest

from lakehouse_assets.gold.calendar import (
    DATE_COLUMNS,
    CalendarConfig,
    date_key,
    date_rows,
    fiscal_period,
)

US = CalendarConfig()


def rows_by_date(first, last, config=US):
    return {r[1]: dict(zip(DATE_COLUMNS, r, strict=True)) for r in date_rows(first, last, config)}


def test_calendar_attributes_of_known_days():
    rows = rows_by_date(dt.date(1992, 1, 1), dt.date(1998, 12, 31))
    assert len(rows) == 2557  # 7 years, 1992 and 1996 leap years
    new_year = rows[dt.date(1992, 1, 1)]
    assert new_year == {
        "date_key": 19920101,
        "date": dt.date(1992, 1, 1),
        "year": 1992,
        "quarter": 1,
        "month": 1,
        "month_name": "January",
        "day_of_month": 1,
        "day_of_year": 1,
        "iso_week": 1,
        "day_of_week": 3,
        "day_name": "Wednesday",
        "is_weekend": False,
        "fiscal_year": 1992,
        "fiscal_quarter": 1,
        "fiscal_month": 1,
        "is_holiday": True,
        "holiday_name": "New Year's Day",
    }
    assert rows[dt.date(1996, 2, 29)]["day_of_year"] == 60
    assert rows[dt.date(1998, 8, 1)]["is_weekend"]  # a Saturday
    assert rows[dt.date(1992, 12, 28)]["iso_week"] == 53  # ISO year 1992 has 53 weeks


def test_us_federal_holidays_follow_their_rules():
    rows = rows_by_date(dt.date(1995, 1, 1), dt.date(1995, 12, 31))
    holidays = {d: r["holiday_name"] for d, r in rows.items() if r["is_holiday"]}
    assert holidays[dt.date(1995, 11, 23)] == "Thanksgiving Day"  # 4th Thursday of November
    assert holidays[dt.date(1995, 5, 29)] == "Memorial Day"  # last Monday of May
    assert holidays[dt.date(1995, 9, 4)] == "Labor Day"
    assert dt.date(1995, 7, 4) in holidays
    assert len(holidays) >= 10


def test_holiday_calendar_is_configurable():
    uk = rows_by_date(
        dt.date(1995, 1, 1), dt.date(1995, 12, 31), CalendarConfig(holiday_country="GB")
    )
    assert uk[dt.date(1995, 12, 26)]["is_holiday"]  # Boxing Day
    assert not uk[dt.date(1995, 11, 23)]["is_holiday"]  # no Thanksgiving


@pytest.mark.parametrize(
    ("day", "start", "expected"),
    [
        (dt.date(1995, 1, 15), 1, (1995, 1, 1)),
        (dt.date(1995, 12, 31), 1, (1995, 4, 12)),
        (dt.date(1995, 7, 1), 7, (1996, 1, 1)),  # FY named by the year it ends in
        (dt.date(1995, 6, 30), 7, (1995, 4, 12)),
        (dt.date(1995, 10, 1), 10, (1996, 1, 1)),
        (dt.date(1996, 2, 29), 4, (1996, 4, 11)),
    ],
)
def test_fiscal_periods(day, start, expected):
    assert fiscal_period(day, start) == expected


def test_date_key_and_config_validation():
    assert date_key(dt.date(1998, 8, 2)) == 19980802
    with pytest.raises(ValueError, match=r"1\.\.12"):
        CalendarConfig(fiscal_year_start_month=13)


def test_dim_date_schema_lists_the_calendar_columns_with_comments():
    from lakehouse_assets.gold.dim_date import DIM_DATE_SCHEMA

    assert tuple(DIM_DATE_SCHEMA.fieldNames()) == DATE_COLUMNS
    assert all(f.metadata.get("comment") for f in DIM_DATE_SCHEMA.fields)
