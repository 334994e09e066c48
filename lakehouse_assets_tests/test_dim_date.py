"""dim_date materialized as a Dagster asset, with a non-default fiscal calendar."""

from __future__ import annotations

import datetime as dt

import pytest

from lakehouse_assets.gold.tables import DIM_DATE
from lakehouse_assets.partitions import BUSINESS_DATES
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import checks_by_name, materialize_day, settings_for

pytestmark = pytest.mark.spark


def test_dim_date_with_a_july_fiscal_year_and_uk_holidays(spark, tmp_path):
    settings = settings_for(tmp_path)
    config = {"fiscal_year_start_month": 7, "holiday_country": "GB"}
    for _ in range(2):  # a re-run replaces the table with the same rows
        result = materialize_day(
            settings,
            dt.date(1995, 7, 1),
            selection="dim_date",
            run_config={"ops": {"dim_date": {"config": config}}},
        )
    assert all(c.passed for c in checks_by_name(result).values())

    store = DeltaTableStore(spark, PathLocator(settings.root))
    table = store.read(DIM_DATE)
    # Every day of the business date range: 1992 to the year after the newest partition.
    first, last = BUSINESS_DATES
    assert (first, last.year) == (dt.date(1992, 1, 1), dt.datetime.now(dt.UTC).year + 1)
    assert table.count() == (last - first).days + 1
    rows = {r["date"]: r for r in table.collect()}
    assert rows[dt.date(1995, 7, 1)]["fiscal_year"] == 1996
    assert rows[dt.date(1995, 7, 1)]["fiscal_month"] == 1
    assert rows[dt.date(1995, 12, 26)]["holiday_name"] == "Boxing Day"
    comments = {f.name: f.metadata.get("comment") for f in table.schema.fields}
    assert all(comments.values()), comments  # column comments travel with the table
