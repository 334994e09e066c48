"""The Definitions load, resolve every asset/check/job/schedule, and start no Spark."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dagster import AssetKey

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.resources import step_launcher_key
from lakehouse_assets.settings import LakehouseSettings

from .lakehouse import SLICE


def _settings(env: str) -> LakehouseSettings:
    return LakehouseSettings(
        env=env, root="/tmp/x", landing_root="/tmp/x/l", checkpoint_root="/tmp/x/c", catalog="dev"
    )


# Every layer that holds a table has its own maintenance job and schedule.
MAINTAINED_LAYERS = ("bronze", "silver", "gold", "features", "vector_index", "monitoring")


def test_every_definition_resolves_in_both_environments():
    for env in ("local", "databricks"):
        defs = build_definitions(_settings(env))
        repo = defs.get_repository_def()
        repo.load_all_definitions()
        keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
        assert set(SLICE) <= keys
        assert repo.asset_graph.asset_check_keys
        assert {j.name for j in repo.get_all_jobs()} >= {"lakehouse_daily_job", "ingest_bronze_job"}
        maintenance = {f"maintain_{layer}_tables_schedule" for layer in MAINTAINED_LAYERS}
        assert {s.name for s in repo.schedule_defs} == {
            "lakehouse_daily_schedule",
            "bronze_ingest_schedule",
            "pipeline_runs_schedule",
            "enforce_retention_schedule",
            *maintenance,
        }
        # One landing sensor for every source, gold auto-restore (off by default), the
        # freshness SLA sensor, the alert router, the orphaned-run sensor, and the sensor that
        # evaluates the automation conditions.
        sensors = {s.name: s for s in repo.sensor_defs}
        assert set(sensors) == {
            "landing_sensor",
            "lakehouse_automation",
            "freshness_sla_sensor",
            "lakehouse_alert_router",
            "orphaned_run_sensor",
            "restore_gold_on_blocking_check_failure",
        }
        restore = sensors["restore_gold_on_blocking_check_failure"]
        assert restore.default_status.value == "STOPPED"
        assert {
            "replay_dead_letters_job",
            "restore_table",
            "freshness_checks_job",
            "pipeline_runs_job",
        } <= {j.name for j in repo.get_all_jobs()}


def test_assets_read_left_to_right_by_layer_and_declare_the_step_launcher():
    repo = build_definitions(_settings("local")).get_repository_def()
    graph = repo.asset_graph
    groups = {key: graph.get(AssetKey(key)).group_name for key in SLICE}
    assert groups == {
        "bronze_orders": "bronze",
        "bronze_lineitem": "bronze",
        "silver_orders": "silver",
        "silver_line_items": "silver",
        "fact_sales": "gold",
        "agg_daily_sales": "gold",
    }
    # Gold reads left to right too: dimensions, then orders, then lines, then the aggregate.
    parents = {
        key: {k.to_user_string() for k in graph.get(AssetKey(key)).parent_keys}
        for key in ("fact_orders", "fact_sales", "agg_daily_sales")
    }
    assert parents == {
        "fact_orders": {"silver_orders", "silver_line_items", "dim_customer", "dim_date"},
        "fact_sales": {
            "silver_line_items",
            "fact_orders",
            "dim_product",
            "dim_supplier",
            "dim_date",
        },
        "agg_daily_sales": {"fact_sales", "dim_customer", "dim_geography"},
    }
    assert graph.get(AssetKey("data_dictionary")).group_name == "monitoring"
    for key in SLICE:
        assets_def = repo.assets_defs_by_key[AssetKey(key)]
        layer = assets_def.group_names_by_key[AssetKey(key)]
        assert step_launcher_key(layer) in assets_def.required_resource_keys
        assert assets_def.backfill_policy is not None
        assert assets_def.backfill_policy.max_partitions_per_run is None  # single run


def test_loading_definitions_starts_no_jvm_and_is_fast():
    """In a fresh interpreter: import the code location, then prove no JVM exists."""
    probe = (
        "import json, time; t = time.perf_counter();"
        "import lakehouse_assets.definitions as d;"
        "d.defs.get_repository_def().load_all_definitions();"
        "elapsed = time.perf_counter() - t;"
        "from pyspark import SparkContext;"
        "print(json.dumps({'elapsed': elapsed,"
        " 'spark_context': SparkContext._active_spark_context is not None,"
        " 'gateway': SparkContext._gateway is not None}))"
    )
    env = {**os.environ, "LAKEHOUSE_ROOT": "/nonexistent/never-created"}
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["spark_context"] is False and result["gateway"] is False
    assert not os.path.exists("/nonexistent/never-created")
    assert result["elapsed"] < 10  # the benchmark tracks the real figure (target < 3 s)


def test_dagster_cli_validates_the_code_location(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "lakehouse_assets.definitions",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_scheduled_run_names_every_asset_and_check_of_its_job():
    """Automation reads what a run targeted from its asset selection: a scheduled run of the
    whole daily job names all of it (and none of the freshness checks, which judge runs from
    outside), so automation does not re-run what the scheduled run built."""
    import datetime as dt

    from dagster import DagsterInstance, build_schedule_context

    defs = build_definitions(LakehouseSettings.from_env({}))
    for schedule_name, job_name in (
        ("lakehouse_daily_schedule", "lakehouse_daily_job"),
        ("bronze_ingest_schedule", "ingest_bronze_job"),
    ):
        schedule = defs.resolve_schedule_def(schedule_name)
        with DagsterInstance.ephemeral() as instance:
            context = build_schedule_context(
                instance=instance,
                scheduled_execution_time=dt.datetime(1992, 3, 2, 5, tzinfo=dt.UTC),
                repository_def=defs.get_repository_def(),
            )
            [request] = schedule.evaluate_tick(context).run_requests
        job = defs.resolve_job_def(job_name)
        assert request.partition_key == "1992-03-01"
        assert set(request.asset_selection) == set(job.asset_layer.selected_asset_keys)
        checks = set(request.asset_check_keys)
        assert checks and not [c for c in checks if c.name == "freshness_sla"]
        assert {c.asset_key for c in checks} <= set(request.asset_selection)
