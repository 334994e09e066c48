"""File-arrival sensors (no Spark): cursor of files seen, run keys, skip reasons."""

from __future__ import annotations

import json

from dagster import AssetKey, DagsterInstance, RunRequest, SkipReason, build_sensor_context

from lakehouse_assets.bronze.sensors import landing_sensor
from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.definitions import build_definitions

from .lakehouse import settings_for
from .landing_files import jsonl, land, order


def _sensor(landing):
    return landing_sensor(
        ORDERS,
        AssetKey("bronze_orders"),
        landing_dir=str(landing / "orders"),
        job_name="ingest_bronze_job",
        interval_seconds=30,
    )


def _tick(sensor, cursor=None):
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, cursor=cursor)
        result = sensor(context)
        return result, context


def test_no_landing_folder_skips_with_a_reason(tmp_path):
    result, _ = _tick(_sensor(tmp_path))
    assert isinstance(result, SkipReason)
    assert "does not exist yet" in result.skip_message


def test_new_files_request_one_run_over_their_dates(tmp_path):
    land(tmp_path, "orders", "1992-01-01", "orders_1992-01-01.jsonl", jsonl(order(1)))
    land(tmp_path, "orders", "1992-01-03", "orders_1992-01-03.jsonl", jsonl(order(2)))
    land(tmp_path, "orders", "1992-01-03", ".in-flight.tmp", "half")  # ignored
    land(tmp_path, "orders", "not-a-date", "stray.jsonl", "{}")  # ignored
    result, _ = _tick(_sensor(tmp_path))
    [request] = result.run_requests
    assert isinstance(request, RunRequest)
    assert request.asset_selection == [AssetKey("bronze_orders")]
    assert request.tags["dagster/asset_partition_range_start"] == "1992-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "1992-01-03"
    assert request.run_key.startswith("orders:")
    assert set(json.loads(result.cursor)) == {"1992-01-01", "1992-01-03"}


def test_compressed_and_unreadable_files_also_reach_a_run(tmp_path):
    """A gzipped extract is data; a file of the wrong kind must reach a run that records it as
    rejected. Neither may go unseen."""
    land(tmp_path, "orders", "1992-01-02", "orders.JSON.gz", b"\x1f\x8b not checked here")
    land(tmp_path, "orders", "1992-01-04", "notes.txt", "not an extract")
    result, _ = _tick(_sensor(tmp_path))
    [request] = result.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "1992-01-02"
    assert request.tags["dagster/asset_partition_range_end"] == "1992-01-04"


def test_repeated_tick_launches_nothing_twice(tmp_path):
    land(tmp_path, "orders", "1992-01-01", "a.jsonl", jsonl(order(1)))
    sensor = _sensor(tmp_path)
    first, _ = _tick(sensor)
    # Same tick evaluated again (e.g. the cursor update was lost): same run key, deduplicated.
    replay, _ = _tick(sensor)
    assert first.run_requests[0].run_key == replay.run_requests[0].run_key
    # With the cursor stored, the next tick has nothing to do and says why.
    idle, _ = _tick(sensor, cursor=first.cursor)
    assert isinstance(idle, SkipReason)
    assert "no new orders files: 1 files on 1 landing dates" in idle.skip_message


def test_a_new_file_on_an_old_date_requests_only_that_date(tmp_path):
    land(tmp_path, "orders", "1992-01-01", "a.jsonl", jsonl(order(1)))
    land(tmp_path, "orders", "1992-01-05", "b.jsonl", jsonl(order(2)))
    sensor = _sensor(tmp_path)
    first, _ = _tick(sensor)
    land(tmp_path, "orders", "1992-01-01", "late.jsonl", jsonl(order(3)))
    second, _ = _tick(sensor, cursor=first.cursor)
    [request] = second.run_requests
    assert request.tags["dagster/asset_partition_range_start"] == "1992-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "1992-01-01"
    assert request.run_key != first.run_requests[0].run_key


def test_definitions_have_one_sensor_per_source_with_the_configured_interval(tmp_path):
    settings = settings_for(tmp_path)
    settings = type(settings)(**{**settings.__dict__, "sensor_interval_seconds": 15})
    repo = build_definitions(settings).get_repository_def()
    sensors = {s.name: s for s in repo.sensor_defs if s.name.endswith("_landing_sensor")}
    assert len(sensors) == 7
    assert sensors["orders_landing_sensor"].minimum_interval_seconds == 15
    assert sensors["orders_landing_sensor"].job_name == "ingest_bronze_job"
