"""Helpers for tests that materialize assets against a temporary lakehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from dagster import ExecuteInProcessResult, materialize

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.resources import build_resources
from lakehouse_assets.settings import LakehouseSettings

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
    return build_resources(settings)


def materialize_range(
    settings: LakehouseSettings,
    first: dt.date,
    last: dt.date,
    *,
    selection: str | list[str] = "*",
    raise_on_error: bool = True,
) -> ExecuteInProcessResult:
    """Materialize the selected assets for ``first..last`` as one run (a single-run backfill)."""
    defs = build_definitions(settings)
    assets = list(defs.assets or [])
    return materialize(
        assets,
        resources=local_resources(settings),
        selection=selection,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=raise_on_error,
    )


def materialize_day(
    settings: LakehouseSettings,
    day: dt.date,
    *,
    selection: str | list[str] = "*",
    raise_on_error: bool = True,
    run_config: dict[str, Any] | None = None,
) -> ExecuteInProcessResult:
    """Materialize the selected assets for one partition."""
    defs = build_definitions(settings)
    return materialize(
        list(defs.assets or []),
        resources=local_resources(settings),
        selection=selection,
        partition_key=day.isoformat(),
        raise_on_error=raise_on_error,
        run_config=run_config,
    )


def step_error(result: ExecuteInProcessResult) -> Any:
    """The user-code error of the first failed step."""
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    return failure.step_failure_data.error.cause


def checks_by_name(result: ExecuteInProcessResult) -> dict[str, Any]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}
