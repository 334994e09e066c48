"""The one Definitions object of the code location.

Environment is read here, once: ``LAKEHOUSE_ENV`` selects the resources (and the executor);
assets are identical in every environment. Building the Definitions starts no Spark session and
opens no connection, so ``dagster definitions validate`` stays fast.
"""

from __future__ import annotations

from typing import Any

from dagster import (
    AssetCheckKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    colored_console_logger,
    in_process_executor,
    multiprocess_executor,
)

from lakehouse_assets.bronze.assets import bronze_asset_name
from lakehouse_assets.bronze.sensors import LandingTarget, landing_sensor
from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.gold.restore import auto_restore_sensor, restore_table
from lakehouse_assets.jobs import DAILY_JOB_NAME, build_jobs
from lakehouse_assets.monitoring.assets import monitoring_assets
from lakehouse_assets.operations.alert_router import alert_router_sensor
from lakehouse_assets.operations.freshness_checks import (
    FRESHNESS_CHECK_NAME,
    build_freshness_checks,
    freshness_check_keys,
    freshness_sensor,
)
from lakehouse_assets.operations.json_logs import json_logger
from lakehouse_assets.operations.orphaned_runs import orphaned_run_sensor
from lakehouse_assets.operations.policies import apply_operational_policies
from lakehouse_assets.partitions import PARTITION_CALENDAR
from lakehouse_assets.resources import build_resources
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.table_assets import DOWNSTREAM_ASSETS, DOWNSTREAM_CHECKS, TABLE_ASSETS

AUTOMATION_SENSOR_NAME = "lakehouse_automation"


def landing_targets(assets: list) -> dict[str, LandingTarget]:
    """Per source: its bronze asset and every table built from it (daily dates and whole
    tables), with their own checks (not the freshness checks), which one landing run
    materializes: a range run builds each whole table once."""
    # Tables only: monitoring (the data dictionary, run history) is the daily job's business.
    tables = {key for a in assets for key in a.keys if a.group_names_by_key[key] != "monitoring"}
    checks_of = {key: _own_checks(a, {key}) for a in assets for key in a.keys}
    targets = {}
    for source in ALL_SOURCES:
        selection = AssetSelection.assets(bronze_asset_name(source)).downstream()
        keys = sorted(k for k in selection.resolve(assets) if k in tables)
        checks = [c for k in keys for c in checks_of.get(k, [])]
        targets[source.name] = LandingTarget(tuple(keys), tuple(checks))
    return targets


def generated_target(assets: list) -> LandingTarget:
    """The table assets built from no source (the date dimension), with their own checks."""
    keys = {
        key
        for a in assets
        for key in a.keys
        if not a.asset_deps[key] and a.group_names_by_key[key] in ("silver", "gold")
    }
    checks = [c for a in assets for c in _own_checks(a, keys)]
    return LandingTarget(tuple(sorted(keys)), tuple(checks))


def _own_checks(assets_def: Any, keys: set) -> list[AssetCheckKey]:
    """The checks an asset reports about ``keys``, not the freshness checks judging it."""
    return [
        c for c in assets_def.check_keys if c.asset_key in keys and c.name != FRESHNESS_CHECK_NAME
    ]


def build_sensors(settings: LakehouseSettings, assets: list) -> list:
    """The landing sensor, declarative automation, gold auto-restore, freshness SLAs and
    alert routing. ``LAKEHOUSE_LIVE=true`` starts the live loop's sensors RUNNING."""
    live = DefaultSensorStatus.RUNNING if settings.operations.live else DefaultSensorStatus.STOPPED
    return [
        auto_restore_sensor(settings.auto_restore),
        freshness_sensor(settings),
        alert_router_sensor(assets, settings),
        orphaned_run_sensor(),
        landing_sensor(
            ALL_SOURCES,
            landing_root=settings.landing_root,
            job_name=DAILY_JOB_NAME,
            interval_seconds=settings.sensor_interval_seconds,
            calendar=PARTITION_CALENDAR,
            targets=landing_targets(assets),
            generated=generated_target(assets),
            default_status=live,
        ),
        # Dagster's own automation daemon evaluates the assets' automation conditions; this
        # names the sensor and sets its interval and default state explicitly.
        AutomationConditionSensorDefinition(
            AUTOMATION_SENSOR_NAME,
            # Not the freshness checks: they judge runs from outside, on their own sensor,
            # and a run that materializes a table must not also carry its SLA verdict.
            target=AssetSelection.all() - AssetSelection.checks(*freshness_check_keys(assets)),
            minimum_interval_seconds=settings.operations.automation_interval_seconds,
            default_status=live,
            run_tags={"lakehouse/trigger": "automation"},
            description="Carries bronze's changes to silver, gold, features and the index.",
        ),
    ]


def build_definitions(settings: LakehouseSettings | None = None) -> Definitions:
    """Assemble assets, checks, jobs, schedules, sensors and the environment's resources."""
    settings = settings or LakehouseSettings.from_env()
    if settings.env == "local":
        settings.require_usable_locations()
    # Locally every step of a run shares one Spark JVM (in-process); on Databricks each step
    # runs on a cluster through the step launcher, so steps may run in parallel processes.
    executor = in_process_executor if settings.env == "local" else multiprocess_executor
    jobs_and_schedules = build_jobs(settings.log_format)
    # Snapshot sources: they land only on the days they change. (Whole tables, the
    # unpartitioned dimensions and knowledge base, are told apart by their partitioning.)
    snapshots = AssetSelection.assets(
        *[bronze_asset_name(s) for s in ALL_SOURCES if not s.daily_extract]
    )
    assets = apply_operational_policies(
        [*TABLE_ASSETS, *DOWNSTREAM_ASSETS, *monitoring_assets], settings.operations, snapshots
    )
    return Definitions(
        assets=assets,
        asset_checks=[
            build_freshness_checks([*TABLE_ASSETS, *DOWNSTREAM_ASSETS], settings),
            *DOWNSTREAM_CHECKS,
        ],
        jobs=[*jobs_and_schedules.jobs, restore_table],
        schedules=jobs_and_schedules.schedules,
        sensors=build_sensors(settings, assets),
        resources=build_resources(settings),
        executor=executor,
        # The jobs' default run config picks one (LAKEHOUSE_LOG_FORMAT): JSON lines by default.
        loggers={"json": json_logger, "console": colored_console_logger},
    )


defs = build_definitions()
