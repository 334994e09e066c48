"""Bad input fails loudly, naming what is wrong, and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from lakehouse_assets.bronze.landing_zone import LandingZoneError
from lakehouse_assets.bronze.streaming import MalformedRecordsError
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.sample_data.landing import daily_file

from .lakehouse import materialize_day, settings_for

pytestmark = pytest.mark.spark
DAY = dt.date(1992, 1, 2)


def _error_of(result):
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.step_failure_data.error


def test_missing_landing_folder_names_the_folder(spark, tmp_path):
    settings = settings_for(tmp_path / "lh", tmp_path / "no_landing_here")
    result = materialize_day(settings, DAY, selection="bronze_orders", raise_on_error=False)
    assert not result.success
    error = _error_of(result)
    assert error.cause.cls_name == LandingZoneError.__name__
    assert "landing folder for source 'orders' does not exist" in error.cause.message
    assert str(tmp_path / "no_landing_here" / "orders") in error.cause.message


def test_missing_day_file_names_the_day(spark, tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 1))
    result = materialize_day(
        settings_for(tmp_path / "lh", landing), DAY, selection="bronze_orders", raise_on_error=False
    )
    assert not result.success
    assert "no orders file landed for 1992-01-02" in _error_of(result).cause.message


def test_corrupt_file_names_the_file_and_writes_nothing(spark, tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, DAY, DAY)
    corrupt = daily_file(landing, "orders", DAY)
    corrupt.write_bytes(corrupt.read_bytes()[:-40] + b'\n{"o_orderkey": 7, "o_orderdate\n')
    settings = settings_for(tmp_path / "lh", landing)
    result = materialize_day(settings, DAY, selection="bronze_orders", raise_on_error=False)
    assert not result.success
    error = _error_of(result)
    assert error.cause.cls_name == MalformedRecordsError.__name__
    assert f"{corrupt}" in error.cause.message and "invalid_json" in error.cause.message
    assert not (tmp_path / "lh" / "bronze" / "orders").exists()
