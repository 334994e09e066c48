"""The lifecycle jobs, built over the tables of the graph: one maintenance job per layer on its
own schedule, and the retention job.

* ``maintain_<layer>_tables`` (daily, staggered from 01:00 UTC, before the 05:00 daily run):
  OPTIMIZE, which compacts small files and clusters the liquid-clustered tables, then VACUUM
  with ``LAKEHOUSE_VACUUM_RETENTION_HOURS`` (never below the 168-hour floor).
* ``enforce_retention`` (daily 00:30 UTC): deletes the rows each table's retention policy has
  expired (``LAKEHOUSE_RETENTION_<KIND>_DAYS``; docs/operations.md).

Every op runs in the table writers' pool, so locally no run writes a table while its files
are being rewritten; on Databricks each runs on its layer's cluster through the step launcher.
Each records what it did in ``monitoring.table_maintenance``.
"""

import datetime as dt
from collections.abc import Sequence

from dagster import (
    AssetMaterialization,
    AssetSpec,
    Config,
    DefaultScheduleStatus,
    Definitions,
    JobDefinition,
    OpExecutionContext,
    ScheduleDefinition,
    colored_console_logger,
    job,
    op,
)
from pydantic import Field

from lakehouse_assets.asset_factory import TABLE_WRITERS_POOL
from lakehouse_assets.jobs import run_logging_config
from lakehouse_assets.lifecycle.erasure import ErasureRequest, erase_customer
from lakehouse_assets.lifecycle.maintenance import expire_rows, maintain_tables, record_maintenance
from lakehouse_assets.monitoring.tables import (
    ERASURE_AUDIT,
    ERASURE_SUPPRESSIONS,
    TABLE_MAINTENANCE,
)
from lakehouse_assets.operations.json_logs import json_logger
from lakehouse_assets.resources.keys import step_launcher_key
from lakehouse_assets.settings import LifecycleSettings
from lakehouse_assets.storage import DeltaTableStore, TableSpec
from lakehouse_assets.storage.maintenance import MaintenanceOutcome
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.table_lineage import side_table_key, side_table_spec

RETENTION_JOB_NAME = "enforce_retention"
ERASURE_JOB_NAME = "erase_customer"
# An op job names its loggers itself (asset jobs get the Definitions'): the same two.
RUN_LOGGERS = {"json": json_logger, "console": colored_console_logger}
# Minutes after 01:00 UTC at which each layer's maintenance starts, upstream first, so the
# layers do not queue behind each other in the writers' pool at the same minute.
LAYER_OFFSET_MINUTES = 20


def maintenance_job_name(layer: str) -> str:
    return f"maintain_{layer}_tables"


class MaintenanceConfig(Config):
    """What a maintenance run does (both by default), and to which tables (default: all)."""

    optimize: bool = Field(default=True, description="Compact and cluster (OPTIMIZE).")
    vacuum: bool = Field(default=True, description="Delete unreferenced files (VACUUM).")
    tables: list[str] = Field(
        default_factory=list, description="Qualified names (layer.table); empty: every table."
    )


def lifecycle_table_specs() -> list[AssetSpec]:
    """The tables the lifecycle jobs write, in the graph: the maintenance record, the erasure
    audit and the suppression list bronze reads."""
    return [
        side_table_spec(
            TABLE_MAINTENANCE, writers=[], written_by="the maintenance and retention jobs"
        ),
        side_table_spec(ERASURE_AUDIT, writers=[], written_by="the erase_customer job"),
        side_table_spec(ERASURE_SUPPRESSIONS, writers=[], written_by="the erase_customer job"),
    ]


def lifecycle_definitions(
    lifecycle: LifecycleSettings,
    tables: Sequence[TableSpec],
    launcher_layers: set[str],
    log_format: str,
) -> Definitions:
    """The maintenance job of each layer of ``tables``, the retention job, their schedules and
    the table they record into. ``launcher_layers``: layers with their own step launcher (the
    others' tables are maintained on gold's)."""
    # Lineage order, the lakehouse's own record last.
    layers = sorted(dict.fromkeys(t.layer for t in tables), key=lambda layer: layer == "monitoring")
    jobs: list[JobDefinition] = []
    schedules = []
    for position, layer in enumerate(layers):
        launcher = step_launcher_key(layer if layer in launcher_layers else "gold")
        layer_tables = [t for t in tables if t.layer == layer]
        maintenance = _maintenance_job(layer, layer_tables, lifecycle, launcher, log_format)
        minutes = position * LAYER_OFFSET_MINUTES
        jobs.append(maintenance)
        schedules.append(
            ScheduleDefinition(
                name=f"{maintenance.name}_schedule",
                job=maintenance,
                cron_schedule=f"{minutes % 60} {1 + minutes // 60} * * *",
                execution_timezone="UTC",
                default_status=DefaultScheduleStatus.RUNNING,
                description=f"OPTIMIZE and VACUUM the {layer} tables daily.",
            )
        )
    retention = _retention_job(tables, lifecycle, step_launcher_key("gold"), log_format)
    jobs.append(retention)
    schedules.append(
        ScheduleDefinition(
            name=f"{RETENTION_JOB_NAME}_schedule",
            job=retention,
            cron_schedule="30 0 * * *",
            execution_timezone="UTC",
            default_status=DefaultScheduleStatus.RUNNING,
            description="Delete the rows the retention policies have expired, daily.",
        )
    )
    jobs.append(_erasure_job(tables, step_launcher_key("gold")))
    return Definitions(jobs=jobs, schedules=schedules)


def _maintenance_job(
    layer: str,
    tables: Sequence[TableSpec],
    lifecycle: LifecycleSettings,
    launcher: str,
    log_format: str,
) -> JobDefinition:
    by_name = {t.qualified_name: t for t in tables}

    @op(
        name=f"{maintenance_job_name(layer)}_op",
        required_resource_keys={"spark", "storage", launcher},
        pool=TABLE_WRITERS_POOL,
        tags={"lakehouse/layer": layer},
    )
    def maintain(context: OpExecutionContext, config: MaintenanceConfig) -> None:
        unknown = sorted(set(config.tables) - set(by_name))
        if unknown:
            raise ValueError(f"not {layer} tables: {unknown}; expected some of {sorted(by_name)}")
        chosen = [by_name[n] for n in config.tables] if config.tables else list(by_name.values())
        store = context.resources.storage.store(context.resources.spark.get_session())
        outcomes = maintain_tables(
            store,
            chosen,
            lifecycle.vacuum_retention,
            optimize=config.optimize,
            remove_files=config.vacuum,
        )
        _report(context, store, outcomes)

    @job(
        name=maintenance_job_name(layer),
        description=(
            f"OPTIMIZE (compact, cluster) and VACUUM (retain {lifecycle.vacuum_retention_hours} "
            f"hours) every {layer} table; recorded in monitoring.table_maintenance."
        ),
        config=run_logging_config(log_format),
        logger_defs=RUN_LOGGERS,
        tags={"lakehouse/layer": layer},
    )
    def maintenance_job() -> None:
        maintain()

    return maintenance_job


def _retention_job(
    tables: Sequence[TableSpec], lifecycle: LifecycleSettings, launcher: str, log_format: str
) -> JobDefinition:
    expiring = [t for t in tables if t.retention is not None]

    @op(
        name=f"{RETENTION_JOB_NAME}_op",
        required_resource_keys={"spark", "storage", launcher},
        pool=TABLE_WRITERS_POOL,
    )
    def enforce(context: OpExecutionContext) -> None:
        store = context.resources.storage.store(context.resources.spark.get_session())
        today = dt.datetime.now(dt.UTC).date()
        outcomes = expire_rows(store, expiring, lifecycle.retention_days, today)
        _report(context, store, outcomes)

    kept = ", ".join(f"{k} {d} days" for k, d in lifecycle.retention_days.items()) or "nothing"

    @job(
        name=RETENTION_JOB_NAME,
        description=f"Delete expired rows ({kept}); recorded in monitoring.table_maintenance.",
        config=run_logging_config(log_format),
        logger_defs=RUN_LOGGERS,
    )
    def retention_job() -> None:
        enforce()

    return retention_job


class ErasureConfig(Config):
    """Whose personal data to erase, who asked and why; a dry run changes nothing."""

    customer_id: int = Field(description="The customer's key (c_custkey / customer_id).")
    reason: str = Field(description="Why: a request or ticket reference, never personal data.")
    requested_by: str = Field(description="Who asked for the erasure.")
    dry_run: bool = Field(default=False, description="Only count what would change.")


def _erasure_job(tables: Sequence[TableSpec], launcher: str) -> JobDefinition:
    @op(
        name=f"{ERASURE_JOB_NAME}_op",
        required_resource_keys={"spark", "storage", launcher},
        pool=TABLE_WRITERS_POOL,
    )
    def erase(context: OpExecutionContext, config: ErasureConfig) -> dict:
        request = ErasureRequest(
            config.customer_id, config.reason, config.requested_by, config.dry_run
        )
        store = context.resources.storage.store(context.resources.spark.get_session())
        outcome = erase_customer(store, tables, request, context.run_id)
        # Counts and the key only: no personal value is ever logged.
        context.log.info(outcome.summary())
        return {
            "request_id": outcome.request_id,
            "dry_run": outcome.dry_run,
            "rows_changed": outcome.rows_changed,
            "files_vacuumed": outcome.files_vacuumed,
        }

    @job(
        name=ERASURE_JOB_NAME,
        description=(
            "Erase a customer's personal data from every table (keys kept, facts reconcile), "
            "vacuum it away, suppress re-ingestion and record the request."
        ),
        # No default run config: the op's config (who, why) has no default to merge into.
        logger_defs=RUN_LOGGERS,
    )
    def erasure_job() -> None:
        erase()

    return erasure_job


def _report(
    context: OpExecutionContext, store: DeltaTableStore, outcomes: Sequence[MaintenanceOutcome]
) -> None:
    """Log each operation, record them all, and report the monitoring table as written."""
    for outcome in outcomes:
        context.log.info(
            f"{outcome.operation} {outcome.table}: files {outcome.before.files} -> "
            f"{outcome.after.files} (+{outcome.files_added} -{outcome.files_removed}), bytes "
            f"{outcome.before.bytes} -> {outcome.after.bytes}, rows expired "
            f"{outcome.rows_removed}, {outcome.duration_seconds:.2f} s ({outcome.detail})"
        )
    record_maintenance(store, outcomes, context.run_id)
    if outcomes:
        context.log_event(
            AssetMaterialization(
                asset_key=side_table_key(TABLE_MAINTENANCE),
                description=f"{len(outcomes)} maintenance operations recorded",
                metadata=materialization_metadata(store, TABLE_MAINTENANCE, write=None),
            )
        )
