"""A landing zone that is missing something fails loudly, naming what is missing."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import DagsterInstance

from lakehouse_assets.bronze.landing_zone import LandingZoneError
from lakehouse_assets.sample_data import land_tpch

from .lakehouse import materialize_day, own_materialization, settings_for, step_error

pytestmark = pytest.mark.spark
DAY = dt.date(1992, 1, 2)


def test_missing_landing_folder_names_the_folder(spark, tmp_path):
    settings = settings_for(tmp_path / "lh", tmp_path / "no_landing_here")
    result = materialize_day(settings, DAY, selection="bronze_orders", raise_on_error=False)
    assert not result.success
    error = step_error(result)
    assert error.cls_name == LandingZoneError.__name__
    assert "landing folder for source 'orders' does not exist" in error.message
    assert str(tmp_path / "no_landing_here" / "orders") in error.message


def test_missing_daily_extract_names_the_day(spark, tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 1))
    settings = settings_for(tmp_path / "lh", landing)
    result = materialize_day(settings, DAY, selection="bronze_orders", raise_on_error=False)
    assert not result.success
    assert "no orders file landed for 1992-01-02" in step_error(result).message
    assert not (tmp_path / "lh" / "bronze" / "orders").exists()


def test_snapshot_sources_may_skip_days(spark, tpch_dir, tmp_path):
    """Parts land only when there is a new snapshot: a day without one is not an error."""
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 1))
    settings = settings_for(tmp_path / "lh", landing)
    result = materialize_day(settings, DAY, selection="bronze_part")
    meta = own_materialization(result, "bronze_part").metadata
    assert meta["files_processed"].value == 1 and meta["input_records"].value == 2000


def test_a_failed_run_reports_its_own_error_not_the_failure_handlers(spark, tpch_dir, tmp_path):
    """The monitoring folder is a file: the ledger write fails, and so does recording the
    failed run in monitoring.ingestion_events; the step error is the first, the second is
    logged."""
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, DAY, DAY)
    (tmp_path / "lh").mkdir()
    (tmp_path / "lh" / "monitoring").write_text("not a folder")
    settings = settings_for(tmp_path / "lh", landing)
    instance = DagsterInstance.ephemeral()
    result = materialize_day(
        settings, DAY, selection="bronze_orders", raise_on_error=False, instance=instance
    )
    assert not result.success
    error = step_error(result)
    assert "ingested_files" in error.message
    assert "ingestion_events" not in error.message
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("could not record the failed ingestion run" in m for m in logged)
