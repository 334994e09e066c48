"""Operational policies applied centrally, per asset group, when the Definitions are built.

* Freshness: gold's deadline becomes a native cron ``FreshnessPolicy`` (the same rule as its
  ``freshness_sla`` check); lag layers have no native form and show the check alone
  (``SlaPolicy.freshness_policy``), so there is one freshness verdict per table.
* Automation: silver, gold, features and the vector index materialize on their own, for
  exactly the partitions whose upstream updated (``AutomationCondition.eager()``, for every
  date), and wait while a blocking check upstream fails: the streaming path (landing sensor ->
  bronze) flows on to the vector index without a schedule; the daily schedule stays the batch
  path.

Retries are an op property, so they are set by the asset factory (``operations/retries.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetsDefinition, AssetSelection, AssetSpec, AutomationCondition

from lakehouse_assets.operations.sla import layer_policies
from lakehouse_assets.settings import OperationsSettings

AUTOMATED_LAYERS = ("silver", "gold", "features", "vector_index")


def downstream_automation(snapshot_assets: AssetSelection | None = None) -> AutomationCondition:
    """Materialize a partition once its upstream partitions updated (and none is missing).

    Dagster's ``eager()`` with two changes:

    * without its latest-time-window clause: partitions are business dates, and a late file
      for any date must flow on, not only the newest one;
    * a missing partition of a *whole-table* asset (``snapshot_assets``: the snapshot sources
      part, supplier, nation, region, which land on the days they change, and the dimensions
      rebuilt whole from them) does not hold a date back: every partition of such a table
      is the same current table, so facts of a new date read the dimensions as they are.

    Updates made by a run that also targeted this asset (the daily job) do not re-trigger it.
    A partition whose upstream failed a blocking check waits until a run fixes it: "no
    upstream blocking check failed", not ``all_deps_blocking_checks_passed()``, because an
    upstream partition requested in the same tick has no result yet and requiring a pass
    would hold every layer back a tick, one run per layer. Riding along in one run is safe:
    inside a run a failed blocking check stops the steps downstream of it.
    """
    missing = AutomationCondition.any_deps_missing()
    if snapshot_assets is not None:
        missing = missing.ignore(snapshot_assets)
    upstream_blocked = AutomationCondition.any_deps_match(
        AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)
    ).with_label("an upstream blocking check failed")
    return (
        (AutomationCondition.newly_missing() | AutomationCondition.any_deps_updated())
        .since_last_handled()
        .with_label("newly missing or upstream updated")
        & ~missing
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
        & ~upstream_blocked
    ).with_label("eager for every date, snapshots current, no upstream blocking check failed")


def apply_operational_policies(
    assets_defs: Sequence[AssetsDefinition],
    settings: OperationsSettings,
    snapshot_assets: AssetSelection | None = None,
) -> list[AssetsDefinition]:
    """``assets_defs`` with their layer's freshness policy and automation condition."""
    policies = layer_policies(settings)

    def with_policies(spec: AssetSpec) -> AssetSpec:
        layer = spec.group_name or ""
        changes: dict = {}
        native = policies[layer].freshness_policy() if layer in policies else None
        if native is not None:
            changes["freshness_policy"] = native
        if layer in AUTOMATED_LAYERS:
            changes["automation_condition"] = downstream_automation(snapshot_assets)
        return spec.replace_attributes(**changes) if changes else spec

    return [a.map_asset_specs(with_policies) for a in assets_defs]
