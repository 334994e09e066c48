"""The one Definitions object of the code location.

Environment is read here, once: ``LAKEHOUSE_ENV`` selects the resources (and the executor);
assets are identical in every environment. Building the Definitions starts no Spark session and
opens no connection, so ``dagster definitions validate`` stays fast.
"""

from __future__ import annotations

from dagster import AssetKey, Definitions, in_process_executor, multiprocess_executor

from lakehouse_assets.bronze.assets import bronze_asset_name
from lakehouse_assets.bronze.sensors import landing_sensor
from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.gold.restore import auto_restore_sensor, restore_table
from lakehouse_assets.jobs import ingest_bronze_job, jobs, schedules
from lakehouse_assets.monitoring.assets import monitoring_assets
from lakehouse_assets.resources import build_resources
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.table_assets import TABLE_ASSETS


def build_sensors(settings: LakehouseSettings) -> list:
    """One file-arrival sensor per landed source, and the gold auto-restore sensor."""
    return [auto_restore_sensor(settings.auto_restore)] + [
        landing_sensor(
            source,
            AssetKey(bronze_asset_name(source)),
            landing_dir=f"{settings.landing_root}/{source.name}",
            job_name=ingest_bronze_job.name,
            interval_seconds=settings.sensor_interval_seconds,
        )
        for source in ALL_SOURCES
    ]


def build_definitions(settings: LakehouseSettings | None = None) -> Definitions:
    """Assemble assets, checks, jobs, schedules, sensors and the environment's resources."""
    settings = settings or LakehouseSettings.from_env()
    # Locally every step of a run shares one Spark JVM (in-process); on Databricks each step
    # runs on a cluster through the step launcher, so steps may run in parallel processes.
    executor = in_process_executor if settings.env == "local" else multiprocess_executor
    return Definitions(
        assets=[*TABLE_ASSETS, *monitoring_assets],
        jobs=[*jobs, restore_table],
        schedules=schedules,
        sensors=build_sensors(settings),
        resources=build_resources(settings),
        executor=executor,
    )


defs = build_definitions()
