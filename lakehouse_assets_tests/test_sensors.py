"""The landing sensor (no Spark): cursor of files seen, exact partition ranges, skip reasons."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    RunRequest,
    SkipReason,
    build_sensor_context,
)

from lakehouse_assets.bronze.sensors import LandingTarget, contiguous_ranges, landing_sensor
from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.partitions import PartitionCalendar

from .lakehouse import settings_for
from .landing_files import jsonl, land, order

NOW = dt.datetime(1992, 3, 1, 12, tzinfo=dt.UTC)
CALENDAR = PartitionCalendar(start=dt.date(1992, 1, 1))


def _sensor(landing, now=NOW, targets=None):
    return landing_sensor(
        ALL_SOURCES,
        landing_root=str(landing),
        job_name="ingest_bronze_job",
        interval_seconds=30,
        calendar=CALENDAR,
        targets=targets,
        clock=lambda: now,
    )


def _tick(sensor, cursor=None):
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, cursor=cursor)
        return sensor(context)


def _ranges(result):
    return sorted(
        (
            r.tags["dagster/asset_partition_range_start"],
            r.tags["dagster/asset_partition_range_end"],
            tuple(k.to_user_string() for k in r.asset_selection),
        )
        for r in result.run_requests
    )


def test_no_landing_folder_skips_with_a_reason(tmp_path):
    result = _tick(_sensor(tmp_path))
    assert isinstance(result, SkipReason)
    assert "no landing folder exists yet" in result.skip_message


def test_contiguous_ranges_split_at_gaps():
    days = ["1992-01-05", "1992-01-01", "1992-01-02", "1992-01-04"]
    assert contiguous_ranges(days) == [("1992-01-01", "1992-01-02"), ("1992-01-04", "1992-01-05")]


def test_a_late_file_and_todays_file_run_two_partitions_not_the_days_between(tmp_path):
    land(tmp_path, "orders", "1992-01-31", "orders_1992-01-31.jsonl", jsonl(order(1)))
    land(tmp_path, "orders", "1992-03-01", "orders_1992-03-01.jsonl", jsonl(order(2)))
    result = _tick(_sensor(tmp_path))
    assert _ranges(result) == [
        ("1992-01-31", "1992-01-31", ("bronze_orders",)),
        ("1992-03-01", "1992-03-01", ("bronze_orders",)),
    ]
    assert all(isinstance(r, RunRequest) for r in result.run_requests)
    # Today's range is queued first; the late one after it, at a lower priority.
    newest, late = result.run_requests
    assert newest.tags["dagster/asset_partition_range_end"] == "1992-03-01"
    assert "dagster/priority" not in newest.tags and late.tags["dagster/priority"] == "-1"
    assert set(json.loads(result.cursor)["orders"]) == {"1992-01-31", "1992-03-01"}


def test_a_first_landing_is_one_run_over_the_snapshot_day_and_the_daily_range(tmp_path):
    """Overlapping ranges of different sources merge: each would read a table the other
    builds (dimensions from the snapshot, customer history from the daily events)."""
    land(tmp_path, "nation", "1992-01-01", "nation.csv", "n_nationkey\n1\n")
    for day in ("1992-01-01", "1992-01-02"):
        land(tmp_path, "orders", day, f"orders_{day}.jsonl", jsonl(order(1)))
    assert _ranges(_tick(_sensor(tmp_path))) == [
        ("1992-01-01", "1992-01-02", ("bronze_nation", "bronze_orders"))
    ]


def test_sources_with_the_same_dates_share_a_run_and_its_checks(tmp_path):
    land(tmp_path, "orders", "1992-01-02", "o.jsonl", jsonl(order(1)))
    land(tmp_path, "lineitem", "1992-01-02", "l.jsonl", "")
    check = AssetCheckKey(AssetKey("bronze_orders"), "landed_files_ingested")
    targets = {
        "orders": LandingTarget((AssetKey("bronze_orders"), AssetKey("silver_orders")), (check,))
    }
    [request] = _tick(_sensor(tmp_path, targets=targets)).run_requests
    # orders starts what is built from it; lineitem (no target given) its bronze asset.
    assert [k.to_user_string() for k in request.asset_selection] == [
        "bronze_lineitem",
        "bronze_orders",
        "silver_orders",
    ]
    assert request.asset_check_keys == [check]


def test_compressed_and_unreadable_files_also_reach_a_run(tmp_path):
    """A gzipped extract is data; a file of the wrong kind must reach a run that records it as
    rejected. Neither may go unseen."""
    land(tmp_path, "orders", "1992-01-02", "orders.JSON.gz", b"\x1f\x8b not checked here")
    land(tmp_path, "orders", "1992-01-03", "notes.txt", "not an extract")
    assert _ranges(_tick(_sensor(tmp_path))) == [("1992-01-02", "1992-01-03", ("bronze_orders",))]


def test_repeated_tick_launches_nothing_twice(tmp_path):
    land(tmp_path, "orders", "1992-01-01", "a.jsonl", jsonl(order(1)))
    sensor = _sensor(tmp_path)
    first = _tick(sensor)
    # Same tick evaluated again (e.g. the cursor update was lost): same run key, deduplicated.
    replay = _tick(sensor)
    assert first.run_requests[0].run_key == replay.run_requests[0].run_key
    idle = _tick(sensor, cursor=first.cursor)
    assert isinstance(idle, SkipReason)
    assert idle.skip_message == "no new files: 1 files landed, all seen before"


def test_a_date_after_the_newest_partition_waits_and_runs_when_its_day_opens(tmp_path):
    land(tmp_path, "orders", "1992-03-02", "orders_1992-03-02.jsonl", jsonl(order(1)))
    waiting = _tick(_sensor(tmp_path))
    assert isinstance(waiting, SkipReason)
    assert "orders/1992-03-02/ is dated after the newest partition 1992-03-01" in (
        waiting.skip_message
    )
    tomorrow = _sensor(tmp_path, now=NOW + dt.timedelta(days=1))
    assert _ranges(_tick(tomorrow)) == [("1992-03-02", "1992-03-02", ("bronze_orders",))]


def test_a_date_before_the_partition_start_is_an_error_naming_the_path(tmp_path):
    land(tmp_path, "orders", "1991-12-31", "orders_1991-12-31.jsonl", jsonl(order(1)))
    result = _tick(_sensor(tmp_path))
    assert isinstance(result, SkipReason)
    assert "orders/1991-12-31/ is dated before the partition start 1992-01-01" in (
        result.skip_message
    )
    assert "LAKEHOUSE_PARTITION_START" in result.skip_message


def test_a_folder_that_is_not_a_date_is_named(tmp_path):
    land(tmp_path, "orders", "not-a-date", "stray.jsonl", "{}")
    land(tmp_path, "orders", "1992-13-01", "bad_month.jsonl", "{}")
    result = _tick(_sensor(tmp_path))
    assert isinstance(result, SkipReason)
    assert f"{tmp_path}/orders/not-a-date/stray.jsonl: not in a date folder" in (
        result.skip_message
    )
    assert "orders/1992-13-01/bad_month.jsonl: not in a date folder" in result.skip_message


def test_definitions_have_one_landing_sensor_with_the_configured_interval(tmp_path):
    settings = settings_for(tmp_path)
    settings = type(settings)(**{**settings.__dict__, "sensor_interval_seconds": 15})
    repo = build_definitions(settings).get_repository_def()
    sensor = repo.get_sensor_def("landing_sensor")
    assert sensor.minimum_interval_seconds == 15
    assert sensor.job_name == "lakehouse_daily_job"
    assert not [s for s in repo.sensor_defs if s.name.endswith("_landing_sensor")]


def test_a_sources_landing_run_covers_what_is_built_from_it_and_nothing_else(tmp_path):
    from lakehouse_assets.bronze.definitions import landing_targets
    from lakehouse_assets.definitions import layer_definitions
    from lakehouse_assets.observability.assets import monitoring_assets

    layers = list(layer_definitions(settings_for(tmp_path)).assets or [])
    targets = landing_targets([*layers, *monitoring_assets(layers)])
    orders = {k.to_user_string() for k in targets["orders"].assets}
    assert {"bronze_orders", "silver_orders", "fact_orders", "customer_features"} <= orders
    assert not orders & {"bronze_lineitem", "dim_product", "documents", "data_dictionary"}
    part = {k.to_user_string() for k in targets["part"].assets}
    assert {"dim_product", "documents", "document_index"} <= part
    names = {c.name for t in targets.values() for c in t.checks}
    assert "freshness_sla" not in names and "no_new_dead_letters" in names


def test_a_generated_table_joins_the_run_until_it_has_been_materialized(tmp_path):
    land(tmp_path, "orders", "1992-01-02", "o.jsonl", jsonl(order(1)))
    check = AssetCheckKey(AssetKey("dim_date"), "dim_date_complete")
    sensor = landing_sensor(
        ALL_SOURCES,
        landing_root=str(tmp_path),
        job_name="lakehouse_daily_job",
        interval_seconds=30,
        calendar=CALENDAR,
        generated=LandingTarget((AssetKey("dim_date"),), (check,)),
        clock=lambda: NOW,
    )
    with DagsterInstance.ephemeral() as instance:
        [first] = sensor(build_sensor_context(instance=instance)).run_requests
        assert AssetKey("dim_date") in first.asset_selection
        assert check in first.asset_check_keys
        # dim_date is a whole table (unpartitioned): one materialization, no date.
        instance.report_runless_asset_event(AssetMaterialization("dim_date"))
        [later] = sensor(build_sensor_context(instance=instance)).run_requests
        assert AssetKey("dim_date") not in later.asset_selection


def _runs_bronze_with_late_records(
    instance, late_day: str, with_downstream: bool, run_day: str = "1992-02-01"
) -> None:
    """A real run (ephemeral instance) of ``run_day`` whose bronze_orders step reports
    ``late_day`` through bronze's own reporter, as a landing run (bronze and the tables built
    from it) or bronze alone; the instance's automation is evaluated after it."""
    from dagster import DailyPartitionsDefinition, Definitions, asset, define_asset_job

    from lakehouse_assets.bronze.dating import OffFolderDates
    from lakehouse_assets.bronze.ingest import report_business_dates

    daily = DailyPartitionsDefinition(start_date="1992-01-01")

    @asset(name="bronze_orders", partitions_def=daily)
    def bronze_orders(context) -> None:  # untyped: a local asset takes no string annotation
        day = dt.date.fromisoformat(late_day)
        report_business_dates(context, [OffFolderDates(day, dt.date(1992, 2, 1), 3)])

    downstream = [
        asset(name=name, partitions_def=daily, deps=[dep])(lambda: None)
        for name, dep in (("silver_orders", "bronze_orders"), ("fact_orders", "silver_orders"))
    ]
    job = define_asset_job("landing", partitions_def=daily)
    defs = Definitions(assets=[bronze_orders, *downstream], jobs=[job])
    chosen = [bronze_orders.key, *(a.key for a in downstream)] if with_downstream else None
    result = defs.resolve_job_def("landing").execute_in_process(
        instance=instance,
        partition_key=run_day,
        asset_selection=chosen or [bronze_orders.key],
    )
    assert result.success


ORDERS_TARGET = {
    "orders": LandingTarget(
        (AssetKey("bronze_orders"), AssetKey("silver_orders"), AssetKey("fact_orders")),
        (
            AssetCheckKey(AssetKey("bronze_orders"), "landed_files_ingested"),
            AssetCheckKey(AssetKey("silver_orders"), "silver_orders_contract"),
        ),
    )
}


@pytest.mark.parametrize("with_downstream", [True, False], ids=["landing_run", "bronze_only"])
def test_late_records_start_their_own_dates_tables_without_bronze(tmp_path, with_downstream):
    """Whichever run reported the late date (a landing run that built silver and gold for
    its own date, or bronze alone), the sensor runs the reported date's downstream tables."""
    land(tmp_path, "orders", "1992-02-01", "orders_1992-02-01.jsonl", jsonl(order(1)))
    sensor = _sensor(tmp_path, targets=ORDERS_TARGET)
    with DagsterInstance.ephemeral() as instance:
        first = sensor(build_sensor_context(instance=instance))
        assert _ranges(first)[0][:2] == ("1992-02-01", "1992-02-01")
        _runs_bronze_with_late_records(instance, "1992-01-05", with_downstream)
        late = sensor(build_sensor_context(instance=instance, cursor=first.cursor))
        [request] = late.run_requests
        assert _ranges(late) == [("1992-01-05", "1992-01-05", ("fact_orders", "silver_orders"))]
        assert request.tags["lakehouse/trigger"] == "late_records"
        assert request.tags["dagster/priority"] == "-1"
        assert [c.name for c in request.asset_check_keys] == ["silver_orders_contract"]
        # Read once: the next tick has nothing to run.
        again = sensor(build_sensor_context(instance=instance, cursor=late.cursor))
        assert isinstance(again, SkipReason)


def test_a_late_date_inside_the_reporting_runs_range_is_not_run_again(tmp_path):
    """The run built the reported date's tables itself (its bronze step came first)."""
    land(tmp_path, "orders", "1992-02-01", "orders_1992-02-01.jsonl", jsonl(order(1)))
    sensor = _sensor(tmp_path, targets=ORDERS_TARGET)
    with DagsterInstance.ephemeral() as instance:
        first = sensor(build_sensor_context(instance=instance))
        _runs_bronze_with_late_records(
            instance, "1992-02-01", with_downstream=True, run_day="1992-02-01"
        )
        result = sensor(build_sensor_context(instance=instance, cursor=first.cursor))
        assert not result.run_requests
        assert json.loads(result.cursor)["_late_records_after"] > 0


def test_bronzes_late_report_is_not_an_update_that_automation_carries():
    """Automation evaluated before and after a landing run of 1992-02-01 that reported a late
    date (1992-01-05) requests nothing for that date: the sensor's run is its only run."""
    from dagster import (
        AutomationCondition,
        DailyPartitionsDefinition,
        Definitions,
        asset,
        evaluate_automation_conditions,
    )

    daily = DailyPartitionsDefinition(start_date="1992-01-01")

    @asset(name="bronze_orders", partitions_def=daily)
    def bronze_orders() -> None:
        return None

    @asset(
        name="silver_orders",
        partitions_def=daily,
        deps=[bronze_orders],
        automation_condition=AutomationCondition.any_deps_updated(),
    )
    def silver_orders() -> None:
        return None

    defs = Definitions(assets=[bronze_orders, silver_orders])
    with DagsterInstance.ephemeral() as instance:
        before = evaluate_automation_conditions(defs=defs, instance=instance)
        _runs_bronze_with_late_records(instance, "1992-01-05", with_downstream=True)
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)
        assert after.total_requested == 0, after.get_requested_partitions(silver_orders.key)


def test_a_late_date_that_also_landed_this_tick_runs_once(tmp_path):
    from lakehouse_assets.bronze.sensors import plan_late_runs

    landing = {("1992-01-05", "1992-01-06"): ["orders"]}
    late = {"orders": {"1992-01-04", "1992-01-05", "1992-01-09"}, "lineitem": {"1992-01-05"}}
    # orders of the 5th are in this tick's landing run; lineitem's are not.
    assert plan_late_runs(late, landing) == {
        ("1992-01-04", "1992-01-04"): ["orders"],
        ("1992-01-05", "1992-01-05"): ["lineitem"],
        ("1992-01-09", "1992-01-09"): ["orders"],
    }
