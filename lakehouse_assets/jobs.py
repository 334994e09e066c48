"""Jobs and schedules of the batch path. The streaming path is the landing sensors.

Jobs are built with the Definitions (not at import) because their default run config names
the run logger that ``LAKEHOUSE_LOG_FORMAT`` selects: Dagster starts a job's loggers only
when its run config lists them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)
from dagster._core.definitions.assets.graph.asset_graph import AssetGraph

from lakehouse_assets.operations.freshness_checks import FRESHNESS_JOB_NAME
from lakehouse_assets.partitions import PARTITION_CALENDAR, PartitionCalendar, daily_partitions

INGEST_BRONZE_JOB_NAME = "ingest_bronze_job"
DAILY_JOB_NAME = "lakehouse_daily_job"


def run_logging_config(log_format: str) -> dict[str, Any]:
    """Default run config starting the ``json`` (or ``console``) logger of the Definitions."""
    logger_name = "console" if log_format == "text" else "json"
    # DEBUG: Dagster records its structured events (step start, materialization) at DEBUG.
    return {"loggers": {logger_name: {"config": {"log_level": "DEBUG"}}}}


@dataclass(frozen=True)
class JobTarget:
    """The assets and checks a job's runs execute, named in each scheduled run request."""

    assets: tuple[AssetKey, ...]
    checks: tuple[AssetCheckKey, ...]

    @classmethod
    def of(cls, selection: AssetSelection, asset_graph: AssetGraph) -> JobTarget:
        """``selection`` resolved over ``asset_graph`` (the freshness checks, which
        ``selection`` leaves out, are not in it: they are built over the graph, after it)."""
        return cls(
            tuple(sorted(selection.resolve(asset_graph, allow_missing=True), key=str)),
            tuple(sorted(selection.resolve_checks(asset_graph, allow_missing=True), key=str)),
        )


def jobs_defs(
    graph: Sequence[AssetsDefinition],
    freshness_check_keys: Sequence[AssetCheckKey],
    log_format: str,
    daily_schedule_cron: str = "0 5 * * *",
) -> Definitions:
    """The batch jobs over the assets of ``graph`` and their schedules;
    ``freshness_check_keys``: the SLA checks, which run on their own sensor, not inside the
    runs they judge; ``daily_schedule_cron``: when the daily job runs the previous day
    (``LAKEHOUSE_DAILY_SCHEDULE_CRON``)."""
    logging_config = run_logging_config(log_format)
    freshness_checks = AssetSelection.checks(*freshness_check_keys)
    # pipeline_runs is unpartitioned (it reads run history, not order dates): own schedule.
    # Every table the steps build (the side tables are filled by those steps).
    daily_selection = (
        AssetSelection.all().materializable() - AssetSelection.assets("pipeline_runs")
    ) - freshness_checks
    bronze_selection = AssetSelection.groups("bronze").materializable() - freshness_checks
    asset_graph = AssetGraph.from_assets(graph)  # once: both schedules resolve over it

    lakehouse_daily_job = define_asset_job(
        name=DAILY_JOB_NAME,
        selection=daily_selection,
        partitions_def=daily_partitions,
        config=logging_config,
        description=(
            "Bronze -> silver -> gold -> features and the document index for one date (or a "
            "range, as one run)."
        ),
    )
    ingest_bronze_job = define_asset_job(
        name=INGEST_BRONZE_JOB_NAME,
        selection=bronze_selection,
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
        # Daily (05:00 by default): the previous day's partition, ahead of the 07:00 UTC gold
        # SLA.
        previous_day_schedule(
            lakehouse_daily_job,
            "lakehouse_daily_schedule",
            daily_schedule_cron,
            JobTarget.of(daily_selection, asset_graph),
        ),
        # For teams that prefer batch ingestion to the landing sensor.
        previous_day_schedule(
            ingest_bronze_job,
            "bronze_ingest_schedule",
            "0 4 * * *",
            JobTarget.of(bronze_selection, asset_graph),
        ),
        ScheduleDefinition(
            job=pipeline_runs_job, cron_schedule="*/30 * * * *", name="pipeline_runs_schedule"
        ),
    ]
    jobs = [lakehouse_daily_job, ingest_bronze_job, pipeline_runs_job, freshness_checks_job]
    return Definitions(jobs=jobs, schedules=schedules)


def previous_day_partition(scheduled_at: dt.datetime, calendar: PartitionCalendar) -> str | None:
    """The partition a daily run at ``scheduled_at`` completes: the previous calendar day
    (in the partitions' timezone), or None if that day is before the partition start."""
    day = calendar.previous_day(scheduled_at)
    return day.isoformat() if day >= calendar.start else None


def previous_day_schedule(job: Any, name: str, cron: str, target: JobTarget) -> ScheduleDefinition:
    """A daily schedule of ``job`` for the previous day of the real calendar.

    Not ``build_schedule_from_partitioned_job``: the partitions reach today (files land during
    the day), so "the last partition" would be a day that has not finished yet.

    Each run names its ``target`` (the job's assets and checks) instead of leaving the job
    implied: declarative automation ignores an upstream update only when the run that made
    it targeted the downstream asset, and it reads that from the run's asset selection. A run
    of the whole job without one looks to it like a run that built only the upstream tables:
    it then re-runs what the scheduled run has just built (seen under the daemon:
    ``feature_drift`` of the scheduled day).
    """

    @schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=PARTITION_CALENDAR.timezone,
        description=f"{job.name} for the previous day ({PARTITION_CALENDAR.timezone}).",
    )
    def _schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
        scheduled_at = context.scheduled_execution_time or dt.datetime.now(dt.UTC)
        key = previous_day_partition(scheduled_at, PARTITION_CALENDAR)
        if key is None:
            return SkipReason(
                f"the previous day is before the partition start {PARTITION_CALENDAR.start}"
            )
        return RunRequest(
            run_key=f"{name}:{key}",
            partition_key=key,
            asset_selection=list(target.assets),
            asset_check_keys=list(target.checks),
        )

    return _schedule
