"""The one Definitions object of the code location.

Environment is read here, once: ``LAKEHOUSE_ENV`` selects the resources (and the executor);
assets are identical in every environment. Building the Definitions starts no Spark session and
opens no connection, so ``dagster definitions validate`` stays fast.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor, multiprocess_executor

from lakehouse_assets.bronze.assets import bronze_assets
from lakehouse_assets.gold.assets import gold_assets
from lakehouse_assets.jobs import jobs, schedules
from lakehouse_assets.resources import build_resources
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.silver.assets import silver_assets


def build_definitions(settings: LakehouseSettings | None = None) -> Definitions:
    """Assemble assets, checks, jobs, schedules and the environment's resources."""
    settings = settings or LakehouseSettings.from_env()
    # Locally every step of a run shares one Spark JVM (in-process); on Databricks each step
    # runs on a cluster through the step launcher, so steps may run in parallel processes.
    executor = in_process_executor if settings.env == "local" else multiprocess_executor
    return Definitions(
        assets=[*bronze_assets, *silver_assets, *gold_assets],
        jobs=jobs,
        schedules=schedules,
        resources=build_resources(settings),
        executor=executor,
    )


defs = build_definitions()
