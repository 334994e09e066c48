"""``gold.dim_date`` as a Spark DataFrame, from the pure rows of ``gold.calendar``."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from lakehouse_assets.gold.calendar import CalendarConfig, date_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Ship and receipt dates run up to ~150 days past the last order date; cover whole years.
DIM_DATE_FIRST = dt.date(1992, 1, 1)
DIM_DATE_LAST = dt.date(1998, 12, 31)

_COLUMNS: dict[str, tuple[DataType, str]] = {
    "date_key": (IntegerType(), "Surrogate key: the date as YYYYMMDD."),
    "date": (DateType(), "The calendar day."),
    "year": (IntegerType(), "Calendar year."),
    "quarter": (IntegerType(), "Calendar quarter, 1-4."),
    "month": (IntegerType(), "Calendar month, 1-12."),
    "month_name": (StringType(), "Month name (English)."),
    "day_of_month": (IntegerType(), "Day of the month, 1-31."),
    "day_of_year": (IntegerType(), "Day of the year, 1-366."),
    "iso_week": (IntegerType(), "ISO 8601 week number, 1-53."),
    "day_of_week": (IntegerType(), "ISO day of week: 1 = Monday .. 7 = Sunday."),
    "day_name": (StringType(), "Day name (English)."),
    "is_weekend": (BooleanType(), "Saturday or Sunday."),
    "fiscal_year": (IntegerType(), "Fiscal year, named by the calendar year it ends in."),
    "fiscal_quarter": (IntegerType(), "Fiscal quarter, 1-4."),
    "fiscal_month": (IntegerType(), "Month of the fiscal year, 1-12."),
    "is_holiday": (BooleanType(), "A public holiday of the configured calendar."),
    "holiday_name": (StringType(), "Name of the holiday, NULL on other days."),
}

DIM_DATE_SCHEMA = StructType(
    [
        StructField(name, dtype, nullable=(name == "holiday_name"), metadata={"comment": comment})
        for name, (dtype, comment) in _COLUMNS.items()
    ]
)


def build_dim_date(
    spark: SparkSession,
    config: CalendarConfig,
    first: dt.date = DIM_DATE_FIRST,
    last: dt.date = DIM_DATE_LAST,
) -> DataFrame:
    """The date dimension for ``first..last`` (a few thousand rows built on the driver)."""
    return spark.createDataFrame(list(date_rows(first, last, config)), DIM_DATE_SCHEMA)
