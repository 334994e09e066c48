"""Jobs and schedules of the batch path. The streaming path is the landing sensors.

Jobs are built with the Definitions (not at import) because their default run config names
the run logger that ``LAKEHOUSE_LOG_FORMAT`` selects: Dagster starts a job's loggers only
when its run config lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetSelection,
    ScheduleDefinition,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from lakehouse_assets.bronze.replay import replay_dead_letters_job
from lakehouse_assets.operations.freshness_checks import (
    FRESHNESS_JOB_NAME,
    freshness_check_keys,
)
from lakehouse_assets.partitions import daily_partitions
from lakehouse_assets.resources.keys import LAYERS
from lakehouse_assets.table_assets import TABLE_ASSETS

INGEST_BRONZE_JOB_NAME = "ingest_bronze_job"


@dataclass(frozen=True)
class JobsAndSchedules:
    jobs: list[Any]
    schedules: list[ScheduleDefinition]


def run_logging_config(log_format: str) -> dict[str, Any]:
    """Default run config starting the ``json`` (or ``console``) logger of the Definitions."""
    logger_name = "console" if log_format == "text" else "json"
    # DEBUG: Dagster records its structured events (step start, materialization) at DEBUG.
    return {"loggers": {logger_name: {"config": {"log_level": "DEBUG"}}}}


def build_jobs(log_format: str = "json") -> JobsAndSchedules:
    """Every job and schedule of the code location."""
    logging_config = run_logging_config(log_format)
    # The freshness SLA checks run on their own sensor, not inside the runs they judge.
    freshness_checks = AssetSelection.checks(*freshness_check_keys(TABLE_ASSETS))

    lakehouse_daily_job = define_asset_job(
        name="lakehouse_daily_job",
        # pipeline_runs is unpartitioned (it reads run history, not order dates): own schedule.
        selection=AssetSelection.groups(*LAYERS)
        - AssetSelection.assets("pipeline_runs")
        - freshness_checks,
        partitions_def=daily_partitions,
        config=logging_config,
        description=(
            "Bronze -> silver -> gold -> features and the document index for one date (or a "
            "range, as one run)."
        ),
    )
    ingest_bronze_job = define_asset_job(
        name=INGEST_BRONZE_JOB_NAME,
        selection=AssetSelection.groups("bronze") - freshness_checks,
        partitions_def=daily_partitions,
        config=logging_config,
        description="Run the bronze ingestion streams (every new landed file, exactly once).",
    )
    pipeline_runs_job = define_asset_job(
        name="pipeline_runs_job",
        selection=AssetSelection.assets("pipeline_runs"),
        config=logging_config,
        description="Refresh monitoring.pipeline_runs from the Dagster run history.",
    )
    freshness_checks_job = define_asset_job(
        name=FRESHNESS_JOB_NAME,
        selection=freshness_checks,
        config=logging_config,
        description="Evaluate every table's freshness SLA (written to monitoring.sla_metrics).",
    )
    schedules = [
        # Daily at 05:00 UTC: the previous day's partition, ahead of the 07:00 gold SLA.
        build_schedule_from_partitioned_job(lakehouse_daily_job, hour_of_day=5, minute_of_hour=0),
        # For teams that prefer batch ingestion to the file-arrival sensors.
        build_schedule_from_partitioned_job(
            ingest_bronze_job, hour_of_day=4, minute_of_hour=0, name="bronze_ingest_schedule"
        ),
        ScheduleDefinition(
            job=pipeline_runs_job, cron_schedule="*/30 * * * *", name="pipeline_runs_schedule"
        ),
    ]
    jobs = [
        lakehouse_daily_job,
        ingest_bronze_job,
        replay_dead_letters_job,
        pipeline_runs_job,
        freshness_checks_job,
    ]
    return JobsAndSchedules(jobs, schedules)
