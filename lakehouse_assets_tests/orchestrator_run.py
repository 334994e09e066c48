"""Run the steps that stay on the orchestrator in databricks mode: ``pipeline_runs`` and the
freshness checks, in the environment ``requirements-databricks.lock`` installs (Databricks
Connect, no ``pyspark`` distribution). Settings come from the environment; Databricks Connect
reaches its Spark through ``SPARK_REMOTE``. Prints one JSON line with what ran.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import sys

from dagster import AssetMaterialization, DagsterInstance

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECKS_OP, FRESHNESS_JOB_NAME
from lakehouse_assets.settings import LakehouseSettings


def _distribution(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def main() -> None:
    settings = LakehouseSettings.from_env()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    # What the freshness checks judge: bronze updated now, silver never.
    instance.report_runless_asset_event(
        AssetMaterialization("bronze_orders", partition="1992-01-02")
    )
    pipeline_runs = defs.resolve_job_def("pipeline_runs_job")
    first = pipeline_runs.execute_in_process(instance=instance, raise_on_error=False)
    second = pipeline_runs.execute_in_process(instance=instance, raise_on_error=False)
    evaluated_at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    freshness = defs.resolve_job_def(FRESHNESS_JOB_NAME).execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={
            "ops": {FRESHNESS_CHECKS_OP: {"config": {"evaluated_at": evaluated_at.isoformat()}}}
        },
    )
    spark = defs.resources["spark"]  # type: ignore[index]
    failures = [
        e.event_specific_data.error.message[:2000]
        for result in (first, second, freshness)
        for e in result.all_events
        if e.is_step_failure
    ]
    print(
        json.dumps(
            {
                "spark_resource": type(spark).__name__,
                "databricks_connect": _distribution("databricks-connect"),
                "pyspark_distribution": _distribution("pyspark"),
                "pipeline_runs": [first.success, second.success],
                "pipeline_run_ids": [first.run_id, second.run_id],
                "freshness": freshness.success,
                "freshness_checks": {
                    e.asset_key.to_user_string(): e.passed
                    for e in freshness.get_asset_check_evaluations()
                },
                "failures": failures,
            }
        )
    )
    sys.exit(0 if first.success and second.success and freshness.success else 1)


if __name__ == "__main__":
    main()
