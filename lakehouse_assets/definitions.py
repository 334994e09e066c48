"""The one Definitions object of the code location.

Environment is read here, once: ``LAKEHOUSE_ENV`` selects the resources (and the executor);
assets are identical in every environment. Building the Definitions starts no Spark session and
opens no connection, so ``dagster definitions validate`` stays fast.
"""

from __future__ import annotations

from dagster import (
    AssetKey,
    Definitions,
    colored_console_logger,
    in_process_executor,
    multiprocess_executor,
)

from lakehouse_assets.bronze.assets import bronze_asset_name
from lakehouse_assets.bronze.sensors import landing_sensor
from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.gold.restore import auto_restore_sensor, restore_table
from lakehouse_assets.jobs import INGEST_BRONZE_JOB_NAME, build_jobs
from lakehouse_assets.monitoring.assets import monitoring_assets
from lakehouse_assets.operations.alert_router import alert_router_sensor
from lakehouse_assets.operations.freshness_checks import build_freshness_checks, freshness_sensor
from lakehouse_assets.operations.json_logs import json_logger
from lakehouse_assets.operations.orphaned_runs import orphaned_run_sensor
from lakehouse_assets.operations.policies import apply_operational_policies
from lakehouse_assets.resources import build_resources
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.table_assets import DOWNSTREAM_ASSETS, DOWNSTREAM_CHECKS, TABLE_ASSETS


def build_sensors(settings: LakehouseSettings, assets: list) -> list:
    """File-arrival sensors per source, gold auto-restore, freshness SLAs and alert routing."""
    return [
        auto_restore_sensor(settings.auto_restore),
        freshness_sensor(settings),
        alert_router_sensor(assets, settings),
        orphaned_run_sensor(),
    ] + [
        landing_sensor(
            source,
            AssetKey(bronze_asset_name(source)),
            landing_dir=f"{settings.landing_root}/{source.name}",
            job_name=INGEST_BRONZE_JOB_NAME,
            interval_seconds=settings.sensor_interval_seconds,
        )
        for source in ALL_SOURCES
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
    assets = apply_operational_policies(
        [*TABLE_ASSETS, *DOWNSTREAM_ASSETS, *monitoring_assets], settings.operations
    )
    return Definitions(
        assets=assets,
        asset_checks=[build_freshness_checks(TABLE_ASSETS, settings), *DOWNSTREAM_CHECKS],
        jobs=[*jobs_and_schedules.jobs, restore_table],
        schedules=jobs_and_schedules.schedules,
        sensors=build_sensors(settings, assets),
        resources=build_resources(settings),
        executor=executor,
        # The jobs' default run config picks one (LAKEHOUSE_LOG_FORMAT): JSON lines by default.
        loggers={"json": json_logger, "console": colored_console_logger},
    )


defs = build_definitions()
