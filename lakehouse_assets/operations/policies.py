"""Operational policies applied centrally, per asset group, when the Definitions are built.

* Freshness: each layer's SLA (``operations/sla.py``) becomes the assets' ``FreshnessPolicy``,
  so the UI shows the promise next to the asset; the ``freshness_sla`` checks enforce it.
* Automation: silver and gold materialize on their own when an upstream partition updates
  (``AutomationCondition.eager()``, for every date): the streaming path (file-arrival
  sensors -> bronze) flows on to gold without a schedule; the daily schedule stays the batch
  path.

Retries are an op property, so they are set by the asset factory (``operations/retries.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetsDefinition, AssetSpec, AutomationCondition

from lakehouse_assets.operations.sla import layer_policies
from lakehouse_assets.settings import OperationsSettings

AUTOMATED_LAYERS = ("silver", "gold")


def downstream_automation() -> AutomationCondition:
    """Materialize a partition once its upstream partitions updated (and none is missing).

    ``eager()`` without its latest-time-window clause: partitions here are business dates
    (TPC-H order dates), and a late file for any date must flow on, not only the newest one.
    Updates made by a run that also targeted this asset (the daily job) do not re-trigger it.
    """
    return AutomationCondition.eager().without(AutomationCondition.in_latest_time_window())


def apply_operational_policies(
    assets_defs: Sequence[AssetsDefinition], settings: OperationsSettings
) -> list[AssetsDefinition]:
    """``assets_defs`` with their layer's freshness policy and automation condition."""
    policies = layer_policies(settings)

    def with_policies(spec: AssetSpec) -> AssetSpec:
        layer = spec.group_name or ""
        changes: dict = {}
        if layer in policies:
            changes["freshness_policy"] = policies[layer].freshness_policy()
        if layer in AUTOMATED_LAYERS:
            changes["automation_condition"] = downstream_automation()
        return spec.replace_attributes(**changes) if changes else spec

    return [a.map_asset_specs(with_policies) for a in assets_defs]
