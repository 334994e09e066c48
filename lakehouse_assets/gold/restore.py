"""The ``restore_table`` job and the sensor that can trigger it when a gold check blocks.

Restoring is Delta ``RESTORE``: a new commit whose content is an earlier version, so readers
never see a partial state and the restore itself can be undone by restoring again.

Any table of the lakehouse can be restored to a given version, so the job is built from the
tables of the asset graph (:func:`restore_definitions`), not from a list kept here.
"""

from collections.abc import Sequence

from dagster import (
    AssetObservation,
    Config,
    DagsterEventType,
    DefaultSensorStatus,
    Definitions,
    JobDefinition,
    OpExecutionContext,
    RunFailureSensorContext,
    RunRequest,
    SkipReason,
    job,
    op,
    run_failure_sensor,
)

from lakehouse_assets.asset_factory import TABLE_WRITERS_POOL
from lakehouse_assets.gold.versions import RestoreError, last_good_version, restore_table_version
from lakehouse_assets.rejection import REJECTED_ROWS_KEY
from lakehouse_assets.resources.keys import step_launcher_key
from lakehouse_assets.storage import TableSpec

RESTORE_JOB_NAME = "restore_table"


class TableDirectory:
    """The tables a restore may name: ``gold.fact_sales``, or a gold table's bare name."""

    def __init__(self, tables: Sequence[TableSpec]) -> None:
        self.by_name = {spec.qualified_name: spec for spec in tables}
        self.gold = {spec.name: spec for spec in tables if spec.layer == "gold"}

    def find(self, name: str) -> TableSpec:
        spec = self.by_name.get(name) or self.gold.get(name)
        if spec is None:
            raise RestoreError(f"unknown table {name!r}; expected one of {sorted(self.by_name)}")
        return spec


class RestoreConfig(Config):
    """Which table to restore, and to which version (default: the last that passed checks)."""

    table: str
    version: int | None = None


def restore_table_job(tables: Sequence[TableSpec]) -> JobDefinition:
    """The job restoring one of ``tables`` with Delta RESTORE."""
    directory = TableDirectory(tables)

    @op(
        name="restore_table_op",
        required_resource_keys={"spark", "storage", step_launcher_key("gold")},
        pool=TABLE_WRITERS_POOL,
    )
    def restore_table_op(context: OpExecutionContext, config: RestoreConfig) -> dict:
        """Restore one table with Delta RESTORE and report what changed."""
        return _restore(context, config, directory.find(config.table))

    @job(
        name=RESTORE_JOB_NAME,
        description="Restore a table to its last version that passed its checks (or a version).",
    )
    def restore_table() -> None:
        restore_table_op()

    return restore_table


def _restore(context: OpExecutionContext, config: RestoreConfig, spec: TableSpec) -> dict:
    store = context.resources.storage.store(context.resources.spark.get_session())
    version = config.version
    if version is None:
        if spec.layer != "gold":
            raise RestoreError(f"{spec.qualified_name} is not checked by gold; give a version")
        # From the lake (monitoring.table_versions): this op may run on a cluster, which
        # cannot see the Dagster instance.
        version = last_good_version(store, spec)
        if version is None:
            raise RestoreError(
                f"{spec.qualified_name} has no recorded version whose blocking checks passed; "
                "give a version"
            )
    outcome = restore_table_version(store, spec, version)
    context.log.info(
        f"restored {outcome.table} to version {outcome.restored_to} "
        f"(was {outcome.version_before}, now {outcome.new_version}): {outcome.metrics}"
    )
    if spec.layer == "gold":
        context.log_event(
            AssetObservation(
                asset_key=spec.name,
                description=f"restored to version {outcome.restored_to}",
                metadata={
                    "restored_to_version": outcome.restored_to,
                    "version_before": outcome.version_before,
                    "delta_version": outcome.new_version,
                    **{f"restore_{k}": v for k, v in outcome.metrics.items()},
                },
            )
        )
    return {
        "table": outcome.table,
        "restored_to": outcome.restored_to,
        "version_before": outcome.version_before,
        "new_version": outcome.new_version,
        "metrics": outcome.metrics,
    }


def failed_blocking_gold_checks(
    context: RunFailureSensorContext, gold_tables: set[str]
) -> list[str]:
    """Gold tables (of ``gold_tables``) of the failed run whose blocking (ERROR) checks failed
    on a published version: a rejected candidate (``REJECTED_ROWS_KEY``) left the table as it
    was, there is nothing to restore."""
    records = context.instance.all_logs(
        context.dagster_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION
    )
    tables = set()
    for record in records:
        evaluation = record.dagster_event.event_specific_data
        asset = evaluation.asset_key.to_user_string()
        if evaluation.passed or evaluation.severity.value != "ERROR" or asset not in gold_tables:
            continue
        if REJECTED_ROWS_KEY not in (evaluation.metadata or {}):
            tables.add(asset)
    return sorted(tables)


def auto_restore_sensor(enabled: bool, restore_job: JobDefinition, gold_tables: set[str]):  # type: ignore[no-untyped-def]
    """On a run that failed on a blocking gold check, restore those tables (if enabled)."""

    @run_failure_sensor(
        name="restore_gold_on_blocking_check_failure",
        request_job=restore_job,
        default_status=DefaultSensorStatus.RUNNING if enabled else DefaultSensorStatus.STOPPED,
        description=(
            "Restores a gold table to its last good version when a blocking check fails on it "
            "(on by default when LAKEHOUSE_AUTO_RESTORE=true)."
        ),
    )
    def _restore_on_failure(context: RunFailureSensorContext):  # type: ignore[no-untyped-def]
        tables = failed_blocking_gold_checks(context, gold_tables)
        if not tables:
            return SkipReason(
                "the run failed, but no published gold version failed a blocking check"
            )
        run_id = context.dagster_run.run_id
        return [
            RunRequest(
                run_key=f"restore:{run_id}:{table}",
                run_config={"ops": {"restore_table_op": {"config": {"table": table}}}},
                # Ahead of the other queued table writers: readers see the bad version
                # until it is restored.
                tags={"lakehouse/restore_after_run": run_id, "dagster/priority": "1"},
            )
            for table in tables
        ]

    return _restore_on_failure


def restore_definitions(enabled: bool, tables: Sequence[TableSpec]) -> Definitions:
    """The restore job over ``tables`` (every table of the graph) and the auto-restore sensor
    of the gold ones (running when ``enabled``: ``LAKEHOUSE_AUTO_RESTORE``)."""
    restore_job = restore_table_job(tables)
    gold = {spec.name for spec in tables if spec.layer == "gold"}
    return Definitions(
        jobs=[restore_job], sensors=[auto_restore_sensor(enabled, restore_job, gold)]
    )
