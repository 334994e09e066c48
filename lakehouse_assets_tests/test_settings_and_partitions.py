"""Pure logic: settings, partition windows, locators, Spark conf. No Spark session."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from dagster import AssetKey

from lakehouse_assets.partitions import (
    TPCH_FIRST_ORDER_DATE,
    TPCH_LAST_ORDER_DATE,
    DateWindow,
    PartitionCalendar,
    daily_partitions,
)
from lakehouse_assets.resources.spark import delta_maven_coordinate, local_spark_conf
from lakehouse_assets.settings import LakehouseSettings, SettingsError
from lakehouse_assets.storage import PathLocator, UnityCatalogLocator


def test_settings_default_to_local_under_dot_lakehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = LakehouseSettings.from_env({})
    assert settings.env == "local"
    assert settings.root == str(tmp_path / ".lakehouse")
    assert settings.landing_root == str(tmp_path / ".lakehouse" / "landing")
    assert settings.checkpoint_root == str(tmp_path / ".lakehouse" / "_checkpoints")


def test_a_lakehouse_root_that_is_a_file_fails_when_definitions_load(tmp_path):
    from lakehouse_assets.definitions import build_definitions

    (tmp_path / "root").write_text("not a directory")
    settings = LakehouseSettings.from_env({"LAKEHOUSE_ROOT": str(tmp_path / "root")})
    with pytest.raises(SettingsError, match=r"LAKEHOUSE_ROOT=.*root is a file, not a directory"):
        build_definitions(settings)
    nested = LakehouseSettings.from_env({"LAKEHOUSE_ROOT": str(tmp_path / "root" / "lh")})
    with pytest.raises(SettingsError, match=r"cannot be created: .*root is a file"):
        nested.require_usable_locations()


def test_a_checkpoint_root_under_a_file_and_a_landing_root_that_is_a_file_fail(tmp_path):
    (tmp_path / "file").write_text("x")
    checkpoints = LakehouseSettings.from_env(
        {
            "LAKEHOUSE_ROOT": str(tmp_path / "lh"),
            "LAKEHOUSE_CHECKPOINT_ROOT": str(tmp_path / "file"),
        }
    )
    with pytest.raises(SettingsError, match="LAKEHOUSE_CHECKPOINT_ROOT"):
        checkpoints.require_usable_locations()
    landing = LakehouseSettings.from_env(
        {"LAKEHOUSE_ROOT": str(tmp_path / "lh"), "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "file")}
    )
    with pytest.raises(SettingsError, match="LAKEHOUSE_LANDING_ROOT"):
        landing.require_usable_locations()
    LakehouseSettings.from_env(
        {"LAKEHOUSE_ROOT": str(tmp_path / "new" / "lh")}
    ).require_usable_locations()
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_read_only_root_fails_when_definitions_load(tmp_path):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    # Permission bits do not stop root (CI runs as root): an immutable directory does.
    made = subprocess.run(["chattr", "+i", str(read_only)], capture_output=True, check=False)
    if made.returncode != 0:
        read_only.chmod(0o555)
        if os.geteuid() == 0:
            pytest.skip("cannot make a read-only directory here (no chattr, running as root)")
    try:
        settings = LakehouseSettings.from_env({"LAKEHOUSE_ROOT": str(read_only / "lh")})
        with pytest.raises(
            SettingsError, match=r"LAKEHOUSE_ROOT=.* cannot be created in .*read-only"
        ):
            settings.require_usable_locations()
    finally:
        subprocess.run(["chattr", "-i", str(read_only)], capture_output=True, check=False)
        read_only.chmod(0o755)


def test_settings_read_databricks_environment():
    settings = LakehouseSettings.from_env(
        {
            "LAKEHOUSE_ENV": "Databricks",
            "LAKEHOUSE_CATALOG": "prod",
            "LAKEHOUSE_LANDING_ROOT": "abfss://landing@acct.dfs.core.windows.net/tpch/",
            "LAKEHOUSE_CHECKPOINT_ROOT": "/Volumes/prod/ops/checkpoints",
        }
    )
    assert settings.env == "databricks"
    assert settings.catalog == "prod"
    assert settings.landing_root == "abfss://landing@acct.dfs.core.windows.net/tpch"
    assert settings.checkpoint_root == "/Volumes/prod/ops/checkpoints"


def test_auto_restore_is_off_unless_switched_on():
    assert LakehouseSettings.from_env({}).auto_restore is False
    assert LakehouseSettings.from_env({"LAKEHOUSE_AUTO_RESTORE": "TRUE"}).auto_restore is True
    with pytest.raises(SettingsError, match="LAKEHOUSE_AUTO_RESTORE='maybe' is not a boolean"):
        LakehouseSettings.from_env({"LAKEHOUSE_AUTO_RESTORE": "maybe"})


def test_the_daily_schedule_and_the_refresh_move_with_their_cron_settings():
    from lakehouse_assets.definitions import build_definitions

    environ = {
        "LAKEHOUSE_DAILY_SCHEDULE_CRON": "17 3 * * *",
        "LAKEHOUSE_REFRESH_CRON": "40 1 * * *",
    }
    defs = build_definitions(LakehouseSettings.from_env(environ))
    assert defs.resolve_schedule_def("lakehouse_daily_schedule").cron_schedule == "17 3 * * *"
    dim = defs.resolve_asset_graph().get(AssetKey("dim_product")).automation_condition
    assert "40 1 * * *" in str(dim)
    default = build_definitions(LakehouseSettings.from_env({}))
    assert default.resolve_schedule_def("lakehouse_daily_schedule").cron_schedule == "0 5 * * *"
    with pytest.raises(SettingsError, match="LAKEHOUSE_REFRESH_CRON='every day' is not a cron"):
        LakehouseSettings.from_env({"LAKEHOUSE_REFRESH_CRON": "every day"})


def test_unknown_environment_is_a_clear_error():
    with pytest.raises(SettingsError, match="LAKEHOUSE_ENV='staging' is not supported"):
        LakehouseSettings.from_env({"LAKEHOUSE_ENV": "staging"})


def test_partitions_run_from_the_tpch_start_to_today_by_default():
    """No manifest, no variable: TPC-H's first date, open-ended to the current day (UTC)."""
    keys = daily_partitions.get_partition_keys()
    assert keys[0] == TPCH_FIRST_ORDER_DATE.isoformat() == "1992-01-01"
    assert keys[-1] == dt.datetime.now(dt.UTC).date().isoformat()
    assert TPCH_LAST_ORDER_DATE.isoformat() in keys


def test_partition_calendar_reads_start_offset_and_timezone_from_the_environment(tmp_path):
    calendar = PartitionCalendar.from_env(
        {
            "LAKEHOUSE_ROOT": str(tmp_path),
            "LAKEHOUSE_PARTITION_START": "2026-11-01",
            "LAKEHOUSE_PARTITION_END_OFFSET": "0",
            "LAKEHOUSE_PARTITION_TIMEZONE": "America/New_York",
        }
    )
    # 03:00 UTC on Dec 2 is still Dec 1 in New York; offset 0: the last partition is Nov 30.
    now = dt.datetime(2026, 12, 2, 3, tzinfo=dt.UTC)
    assert calendar.today(now) == dt.date(2026, 12, 1)
    assert calendar.last_date(now) == dt.date(2026, 11, 30)
    assert calendar.previous_day(now) == dt.date(2026, 11, 30)
    assert calendar.placement(dt.date(2026, 10, 31), now) == "before_start"
    assert calendar.placement(dt.date(2026, 12, 1), now) == "after_end"
    assert calendar.placement(dt.date(2026, 11, 30), now) == "in_range"
    definition = calendar.definition()
    assert definition.timezone == "America/New_York"
    assert definition.get_first_partition_key() == "2026-11-01"


def test_partition_start_defaults_to_the_first_landed_sample_date(tmp_path):
    from lakehouse_assets.sample_data.manifest import SampleDataManifest, write_manifest

    landing = tmp_path / "landing"
    manifest = SampleDataManifest(0.01, 42, 100, dt.date(1992, 1, 1), dt.date(1992, 1, 7))
    write_manifest(landing, manifest)
    calendar = PartitionCalendar.from_env({"LAKEHOUSE_LANDING_ROOT": str(landing)})
    assert calendar.start == dt.date(1992, 4, 10)
    assert calendar.end_offset == 1 and calendar.timezone == "UTC"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LAKEHOUSE_PARTITION_START", "01/02/2026", "is not a date"),
        ("LAKEHOUSE_PARTITION_END_OFFSET", "-1", "must be 0 or more"),
        ("LAKEHOUSE_PARTITION_END_OFFSET", "one", "is not a whole number"),
        ("LAKEHOUSE_PARTITION_TIMEZONE", "Mars/Olympus", "is not an IANA timezone"),
    ],
)
def test_bad_partition_settings_are_clear_errors(tmp_path, variable, value, message):
    with pytest.raises(SettingsError, match=message):
        PartitionCalendar.from_env({"LAKEHOUSE_ROOT": str(tmp_path), variable: value})


def test_the_daily_schedule_targets_the_previous_day_of_the_real_calendar():
    from lakehouse_assets.jobs import previous_day_partition

    calendar = PartitionCalendar(start=dt.date(2026, 1, 1))
    at_five = dt.datetime(2026, 12, 2, 5, tzinfo=dt.UTC)
    assert previous_day_partition(at_five, calendar) == "2026-12-01"
    assert previous_day_partition(dt.datetime(2026, 1, 1, 5, tzinfo=dt.UTC), calendar) is None


def test_partition_window_reads_the_key_range_of_a_run_or_a_direct_invocation():
    from dagster import PartitionKeyRange, build_asset_context

    from lakehouse_assets.partitions import partition_window

    day = build_asset_context(partition_key="1992-03-04")
    assert partition_window(day) == DateWindow.single(dt.date(1992, 3, 4))
    whole = build_asset_context(partition_key_range=PartitionKeyRange("1992-01-01", "1998-08-02"))
    assert partition_window(whole) == DateWindow(TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)


def test_date_window_from_dagster_half_open_time_window():
    window = DateWindow.from_time_window(dt.datetime(1992, 1, 1), dt.datetime(1992, 1, 4))
    assert window == DateWindow(dt.date(1992, 1, 1), dt.date(1992, 1, 3))
    assert len(window) == 3
    assert [d.day for d in window.days()] == [1, 2, 3]
    assert dt.date(1992, 1, 3) in window and dt.date(1992, 1, 4) not in window


def test_window_predicates_select_exactly_the_window():
    assert DateWindow.single(dt.date(1992, 1, 2)).sql_predicate("order_date") == (
        "order_date = DATE'1992-01-02'"
    )
    assert DateWindow.from_keys("1992-01-01", "1992-01-07").sql_predicate("order_date") == (
        "order_date >= DATE'1992-01-01' AND order_date <= DATE'1992-01-07'"
    )


@pytest.mark.parametrize("column", ["order_date OR 1=1", "x; drop", "", "a-b"])
def test_window_predicate_refuses_anything_but_a_column_name(column):
    with pytest.raises(ValueError, match="not a plain column name"):
        DateWindow.single(dt.date(1992, 1, 1)).sql_predicate(column)


def test_empty_window_is_rejected():
    with pytest.raises(ValueError, match="empty date window"):
        DateWindow(dt.date(1992, 1, 2), dt.date(1992, 1, 1))


def test_locators_map_layer_and_table_to_path_or_unity_catalog_name():
    assert PathLocator("/data/lh/").identifier("gold", "fact_sales") == "/data/lh/gold/fact_sales"
    assert UnityCatalogLocator("prod").identifier("gold", "fact_sales") == "prod.gold.fact_sales"


@pytest.mark.parametrize("bad", ["Gold", "fact-sales", "../etc", "1table", "a.b"])
def test_locators_refuse_names_that_are_not_snake_case(bad):
    with pytest.raises(ValueError, match="lower snake_case"):
        PathLocator("/x").identifier("gold", bad)
    with pytest.raises(ValueError, match="lower snake_case"):
        UnityCatalogLocator(bad).identifier("gold", "t")


def test_delta_jar_matches_installed_wheels():
    from importlib.metadata import version

    spark_minor = ".".join(version("pyspark").split(".")[:2])
    assert delta_maven_coordinate() == (
        f"io.delta:delta-spark_{spark_minor}_2.13:{version('delta-spark')}"
    )


def test_local_spark_conf_has_delta_aqe_and_laptop_sizing():
    conf = local_spark_conf(
        master="local[*]",
        app_name="x",
        shuffle_partitions=4,
        driver_memory="2g",
        ui_enabled=False,
        warehouse_dir="/tmp/wh",
        extra_conf={"spark.sql.shuffle.partitions": "8"},
    )
    assert conf["spark.jars.packages"] == delta_maven_coordinate()
    assert conf["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert conf["spark.sql.catalog.spark_catalog"].endswith("DeltaCatalog")
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.shuffle.partitions"] == "8"  # extra_conf wins
    assert "org.apache.hadoop:hadoop-client-api" in conf["spark.jars.excludes"]
