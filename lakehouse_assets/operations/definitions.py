"""Operations' definitions, built over the whole graph they are given: the freshness SLA
checks and the table they record into, and the sensors that watch every run (alert routing,
orphaned runs) and carry changes downstream (declarative automation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
)

from lakehouse_assets.monitoring.tables import SLA_METRICS
from lakehouse_assets.operations.alert_router import alert_router_sensor
from lakehouse_assets.operations.freshness_checks import (
    LandedSince,
    build_freshness_checks,
    freshness_sensor,
)
from lakehouse_assets.operations.orphaned_runs import orphaned_run_sensor
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.table_lineage import side_table_spec

AUTOMATION_SENSOR_NAME = "lakehouse_automation"


def sla_metrics_spec() -> AssetSpec:
    """``monitoring.sla_metrics`` in the graph: written by the freshness checks, not a step."""
    return side_table_spec(SLA_METRICS, writers=[], written_by="the freshness_sla checks")


def build_defs(
    settings: LakehouseSettings,
    assets: Sequence[AssetsDefinition],
    landed_since: Mapping[AssetKey, LandedSince],
    snapshot_sources: AssetSelection | None = None,
) -> Definitions:
    """The freshness checks of every table of ``assets`` and the operational sensors.
    ``LAKEHOUSE_LIVE=true`` starts the automation sensor RUNNING."""
    snapshots = snapshot_sources.resolve(assets) if snapshot_sources is not None else set()
    freshness = build_freshness_checks(assets, settings, landed_since, snapshots)
    live = DefaultSensorStatus.RUNNING if settings.operations.live else DefaultSensorStatus.STOPPED
    return Definitions(
        assets=[sla_metrics_spec()],
        asset_checks=[freshness],
        sensors=[
            freshness_sensor(settings),
            alert_router_sensor(assets, settings),
            orphaned_run_sensor(),
            # Dagster's own automation daemon evaluates the assets' automation conditions;
            # this names the sensor and sets its interval and default state explicitly.
            AutomationConditionSensorDefinition(
                AUTOMATION_SENSOR_NAME,
                # Not the freshness checks: they judge runs from outside, on their own sensor,
                # and a run that materializes a table must not also carry its SLA verdict.
                target=AssetSelection.all() - AssetSelection.checks(freshness),
                minimum_interval_seconds=settings.operations.automation_interval_seconds,
                default_status=live,
                run_tags={"lakehouse/trigger": "automation"},
                description="Carries bronze's changes to silver, gold, features and the index.",
            ),
        ],
    )
