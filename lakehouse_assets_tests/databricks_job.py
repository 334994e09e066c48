"""A reconstructable job over the code location, for runs that go through the step launcher.

The step launcher ships a *reconstructable* job to the cluster: the remote process imports this
module and calls :func:`databricks_slice_job`, which rebuilds the Definitions from the
environment exactly as the orchestrator did (the launcher forwards ``LAKEHOUSE_*``).

Run as a script it executes the job for one partition against ``$DAGSTER_HOME`` (tests use it
to interrupt a run the way ``dagster run terminate`` does).
"""

from __future__ import annotations

import sys

from dagster import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    JobDefinition,
    define_asset_job,
    execute_job,
    reconstructable,
)

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.operations.freshness_checks import freshness_check_keys
from lakehouse_assets.settings import LakehouseSettings

SLICE_JOB = "databricks_slice"
# Bronze -> silver -> gold: the customer dimension and everything it is built from, so every
# layer and every launcher hop is exercised, and gold reads what silver wrote on the cluster.
# Six remote steps (each one a cluster process and JVM), not the order fact's twelve: the
# fact's own logic is the same code in either mode and is proven locally.
SLICE = [
    "bronze_customer_events",
    "bronze_nation",
    "bronze_region",
    "silver_customers",
    "dim_geography",
    "dim_customer",
]


def asset_job(name: str, assets: list[str]) -> JobDefinition:
    """A job of ``assets`` in the code location's Definitions (built from the environment)."""
    defs = build_definitions(LakehouseSettings.from_env())
    freshness_checks = AssetSelection.checks(*freshness_check_keys(defs.assets or []))
    job = define_asset_job(name, selection=AssetSelection.assets(*assets) - freshness_checks)
    return Definitions.merge(defs, Definitions(jobs=[job])).resolve_job_def(name)


def databricks_slice_job() -> JobDefinition:
    return asset_job(SLICE_JOB, SLICE)


def databricks_bronze_orders_job() -> JobDefinition:
    return asset_job("databricks_bronze_orders", ["bronze_orders"])


def databricks_restore_job() -> JobDefinition:
    """The code location's ``restore_table`` job (its op runs on the gold launcher)."""
    return build_definitions(LakehouseSettings.from_env()).resolve_job_def("restore_table")


JOBS = {
    "slice": databricks_slice_job,
    "bronze_orders": databricks_bronze_orders_job,
    "restore": databricks_restore_job,
}


def run_job(
    instance: DagsterInstance,
    partition: str | None,
    job: str = "slice",
    run_config: dict | None = None,
):
    """Execute one of :data:`JOBS` (for ``partition``) through the environment's executor."""
    tags = {"dagster/partition": partition} if partition else {}
    return execute_job(reconstructable(JOBS[job]), instance, run_config=run_config, tags=tags)


if __name__ == "__main__":
    with DagsterInstance.get() as current:
        result = run_job(current, sys.argv[1], sys.argv[2])
        sys.exit(0 if result.success else 1)
