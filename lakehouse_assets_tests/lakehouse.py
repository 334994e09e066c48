"""Helpers for tests that materialize assets against a temporary lakehouse."""

from __future__ import annotations

import datetime as dt
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from dagster import (
    AssetsDefinition,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
    MaterializeResult,
    PartitionKeyRange,
    build_asset_context,
    materialize,
)

from lakehouse_assets.bronze import definitions as bronze
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.gold import definitions as gold
from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECKS_OP
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.silver import definitions as silver

# Every bronze..gold table asset (not the monitoring data dictionary, features or documents).
TABLE_ASSETS = [a for layer in (bronze, silver, gold) for a in layer.build_defs().assets or []]
TABLE_ASSET_NAMES = [key.to_user_string() for a in TABLE_ASSETS for key in a.keys]

# Groups that whole-history builds leave out (tested on their own, on a few days).
DOWNSTREAM_OF_GOLD = ("features", "vector_index")

# The order fact and everything it is built from (bronze -> silver -> gold).
ORDER_FACT_PATH = [
    "bronze_orders",
    "bronze_lineitem",
    "bronze_customer_events",
    "bronze_nation",
    "bronze_region",
    "silver_orders",
    "silver_line_items",
    "silver_customers",
    "dim_date",
    "dim_geography",
    "dim_customer",
    "fact_orders",
]

# The orders / line-items path through every layer (what the slice tests materialize).
SLICE = [
    "bronze_orders",
    "bronze_lineitem",
    "silver_orders",
    "silver_line_items",
    "fact_sales",
    "agg_daily_sales",
]


def settings_for(root: Path, landing_root: Path | None = None) -> LakehouseSettings:
    """Local settings rooted at ``root`` (landing defaults to ``root/landing``)."""
    return LakehouseSettings(
        env="local",
        root=str(root),
        landing_root=str(landing_root or root / "landing"),
        checkpoint_root=str(root / "_checkpoints"),
        catalog="dev",
    )


def local_resources(settings: LakehouseSettings) -> dict[str, Any]:
    """The local resource set; its Spark resource reuses the ``spark`` fixture's session."""
    return dict(build_definitions(settings).resources or {})


def runnable_definitions(defs: Definitions) -> list[Any]:
    """Assets and the stand-alone asset checks (not the freshness checks: their own sensor)."""
    checks = [c for c in defs.asset_checks or [] if c.node_def.name != FRESHNESS_CHECKS_OP]
    return [*(defs.assets or []), *checks]


def materialize_range(
    settings: LakehouseSettings,
    first: dt.date,
    last: dt.date,
    *,
    selection: str | list[str] = "*",
    raise_on_error: bool = True,
    instance: DagsterInstance | None = None,
) -> ExecuteInProcessResult:
    """Materialize the selected assets for ``first..last`` as one run (a single-run backfill)."""
    defs = build_definitions(settings)
    assets = runnable_definitions(defs)
    return materialize(
        assets,
        resources=local_resources(settings),
        selection=selection,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=raise_on_error,
        instance=instance,
    )


def materialize_day(
    settings: LakehouseSettings,
    day: dt.date,
    *,
    selection: str | list[str] = "*",
    raise_on_error: bool = True,
    run_config: dict[str, Any] | None = None,
    instance: DagsterInstance | None = None,
) -> ExecuteInProcessResult:
    """Materialize the selected assets for one partition (a selection of whole tables only,
    the unpartitioned ones, runs without one: they have no partition to name)."""
    defs = build_definitions(settings)
    assets = runnable_definitions(defs)
    return materialize(
        assets,
        resources=local_resources(settings),
        selection=selection,
        partition_key=day.isoformat() if _selects_a_daily_asset(assets, selection) else None,
        raise_on_error=raise_on_error,
        run_config=run_config,
        instance=instance,
    )


def _selects_a_daily_asset(assets: list[Any], selection: str | list[str]) -> bool:
    names = {key.to_user_string() for a in assets for key in getattr(a, "keys", ())}
    if isinstance(selection, str):
        if selection not in names:
            return True  # "*" and the other selection strings used here include daily assets
        selection = [selection]
    daily = {
        key.to_user_string()
        for a in assets
        if getattr(a, "partitions_def", None) is not None
        for key in a.keys
    }
    return bool(daily & set(selection))


def invoke_in_dependency_order(
    settings: LakehouseSettings,
    first: dt.date,
    last: dt.date,
    asset_config: dict[str, dict[str, Any]] | None = None,
) -> dict[str, MaterializeResult]:
    """Call every bronze..gold and monitoring asset's body for ``first..last``, upstream first.

    Outside a Dagster run. Features and the vector index are left out: their tests build them.

    For whole-history builds in tests: a Dagster run records one event per partition per
    asset (about 10 ms each: 18 assets x 2,406 TPC-H dates is minutes of bookkeeping), while
    the asset bodies - the code under test - are the same either way.
    """
    defs = build_definitions(settings)
    by_key = {
        key: a
        for a in defs.assets or []
        # The assets steps build (a side table's spec is filled by its writer's step).
        if isinstance(a, AssetsDefinition) and a.is_executable
        for key in a.keys
        if a.group_names_by_key[key] not in DOWNSTREAM_OF_GOLD
    }
    order = TopologicalSorter(
        {key: {d for d in a.dependency_keys if d in by_key} for key, a in by_key.items()}
    ).static_order()
    # The monitoring tables read the catalog and the run history, not an upstream asset: they
    # go last, as their daily refresh comes after the day's tables, the dictionary very last
    # (it describes every table that exists, the run history's included).
    order = sorted(
        order,
        key=lambda k: (
            by_key[k].group_names_by_key[k] == "monitoring",
            k.path == ["data_dictionary"],
        ),
    )
    resources = local_resources(settings)
    results = {}
    for key in order:
        name = key.to_user_string()
        context = build_asset_context(
            resources=resources,
            partition_key_range=PartitionKeyRange(first.isoformat(), last.isoformat()),
            asset_config=(asset_config or {}).get(name),
        )
        results[name] = by_key[key](context)
    return results


def failed_checks(results: dict[str, MaterializeResult]) -> dict[str, Any]:
    """Checks that did not pass in directly invoked assets' results, by name."""
    return {
        c.check_name: c.metadata
        for r in results.values()
        for c in r.check_results or []
        if not c.passed
    }


def step_error(result: ExecuteInProcessResult) -> Any:
    """The user-code error of the first failed step."""
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.step_failure_data.error.cause


def checks_by_name(
    result: ExecuteInProcessResult, instance: DagsterInstance | None = None
) -> dict[str, Any]:
    """The run's check evaluations by name. With ``instance``, as the instance recorded them:
    a rejected candidate's checks are reported by its failing step, which the in-process
    result's event list leaves out."""
    if instance is None:
        return {e.check_name: e for e in result.get_asset_check_evaluations()}
    records = instance.all_logs(result.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    return {
        r.dagster_event.event_specific_data.check_name: r.dagster_event.event_specific_data
        for r in records
    }


def rejected_candidate(instance: DagsterInstance, run_id: str, asset: str) -> dict[str, Any]:
    """The metadata a run recorded for ``asset``'s rejected candidate (its observation): the
    run did not materialize it (rejection.py)."""
    records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_OBSERVATION)
    [observation] = [
        r.dagster_event.event_specific_data.asset_observation
        for r in records
        if r.dagster_event.asset_key.path == [asset]
    ]
    materialized = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    assert not [r for r in materialized if r.dagster_event.asset_key.path == [asset]]
    return {k: v.value for k, v in observation.metadata.items()}


def own_materialization(result: Any, asset: str) -> Any:
    """The materialization of ``asset`` itself in ``result``: its step also reports the side
    tables it wrote (such as the dead-letter queue) and other dates it changed, before its own
    result, which is the last."""
    return [
        m for m in result.asset_materializations_for_node(asset) if m.asset_key.path == [asset]
    ][-1]
