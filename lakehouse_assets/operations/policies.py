"""Operational policies applied centrally, per asset group, when the Definitions are built.

* Freshness: every table a step builds has a native ``FreshnessPolicy``, the nearest form of
  its SLA (``SlaPolicy.freshness_policy``): gold's deadline and the monitoring tables' daily
  refresh are cron policies, the lag layers a time window of their cadence plus lag (a
  snapshot source's of weeks). Side tables have none: they change only when their writer has
  something for them (a quiet dead-letter queue is a healthy one), and their writer's policy
  says whether that writer ran.
* Automation: silver, gold, features and the vector index materialize on their own, and wait
  while a blocking check upstream fails: a daily table for exactly the dates whose upstream
  updated (``AutomationCondition.eager()``, for every date); a whole table (unpartitioned)
  once when any input updated, and once a day in gold's refresh window. The streaming path
  (landing sensor -> bronze) flows on to the vector index without a schedule; the daily
  schedule stays the batch path. A snapshot table kept as known (``customer_features``) is
  built once per date: a late change upstream of an existing snapshot requests nothing.
  The monitoring tables that describe the whole lakehouse (the data dictionary, the run
  history) have no upstream edges; they refresh daily in gold's refresh window and when their
  code changes (``catalog_refresh_automation``).

Retries are an op property, so they are set by the asset factory (``operations/retries.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from dagster import AssetsDefinition, AssetSelection, AssetSpec, AutomationCondition

from lakehouse_assets.operations.sla import (
    SlaPolicy,
    layer_policies,
    monitoring_policy,
    snapshot_source_policy,
)
from lakehouse_assets.settings import OperationsSettings
from lakehouse_assets.table_lineage import (
    AS_KNOWN,
    SIDE_TABLE,
    SNAPSHOT_SEMANTICS_TAG,
    TABLE_ROLE_TAG,
)

# The layer of the tables that describe the lakehouse rather than read its assets.
CATALOG_LAYER = "monitoring"


def downstream_automation(
    snapshot_assets: AssetSelection | None = None,
    whole_tables: AssetSelection | None = None,
) -> AutomationCondition:
    """A *daily* table: materialize a partition once its upstream partitions updated (and none
    is missing).

    Dagster's ``eager()`` with four changes:

    * without its latest-time-window clause: partitions are business dates, and a late file
      for any date must flow on, not only the newest one;
    * without its "newly missing" trigger: every date's inputs arrive after its partition
      opens (files land during their day, and a landing run builds the date whole), so "an
      input updated" covers a new date. The newly-missing request, held from the partition's
      opening until its inputs exist, raced the landing run writing that same date: under
      load the daemon re-requested a date in the instant its run had written it but not yet
      finished (seen in the daemon test: fact_orders, then fact_sales and agg_daily_sales, of
      the first date re-run one after the other for nothing). A date that a failed run left
      missing is re-run by whoever re-runs it (the retry, a re-landing, the schedule, a
      backfill), after the failure's alert;
    * a missing partition of a snapshot source (``snapshot_assets``: part, supplier, nation,
      region, which land only on the days they change) does not hold a date back;
    * a *whole table* upstream (``whole_tables``: the unpartitioned dimensions and knowledge
      base) neither holds a date back nor re-triggers dates when it changes: one rebuild of
      ``dim_product`` must not request every date of ``fact_sales``. The run that brings a
      date's rows builds the whole tables with it, and facts of a new date read them as they
      are.

    Updates made by a run that also targeted this asset (the daily job) do not re-trigger it.
    A partition whose upstream failed a blocking check waits until a run fixes it: "no
    upstream blocking check failed", not ``all_deps_blocking_checks_passed()``, because an
    upstream partition requested in the same tick has no result yet and requiring a pass
    would hold every layer back a tick, one run per layer. Riding along in one run is safe:
    inside a run a failed blocking check stops the steps downstream of it.
    """
    ignored = _union(snapshot_assets, whole_tables)
    missing = AutomationCondition.any_deps_missing()
    updated = AutomationCondition.any_deps_updated()
    if ignored is not None:
        missing = missing.ignore(ignored)
    if whole_tables is not None:
        updated = updated.ignore(whole_tables)
    return _when_ready(
        updated.since_last_handled().with_label("upstream updated"), missing
    ).with_label("every date whose upstream updated, no upstream blocking check failed")


def as_known_snapshot_automation(daily: AutomationCondition) -> AutomationCondition:
    """A snapshot table kept as first known (``features/snapshots.py``): ``daily``'s condition
    for a date that has no snapshot yet; a late change upstream of an existing snapshot
    requests nothing (it appears from the next snapshot on)."""
    return (daily & AutomationCondition.missing()).with_label(
        "every new date whose upstream updated; existing snapshots are kept as known"
    )


def whole_table_automation(
    daily_tables: AssetSelection | None = None, daily_refresh_cron: str | None = None
) -> AutomationCondition:
    """A *whole table* (unpartitioned: a dimension, the knowledge base): rebuild it once when
    any of its inputs updated, whichever dates they updated, and once a day at
    ``daily_refresh_cron`` (UTC).

    The daily tick is what keeps a quiet whole table current and judged: ``dim_date`` has no
    inputs and extends itself when the year turns, the reference snapshots land rarely and the
    docs change outside any run, and gold's deadline SLA expects every gold table refreshed
    each day. A refresh whose inputs are unchanged rewrites nothing (``publish_gold_table``,
    the knowledge base's MERGEs) and re-runs the checks on the table as it stands.

    Not on "newly missing": a whole table with inputs is built by the runs that bring those
    inputs (landing runs, the daily job), and before they exist it has nothing to be built
    from. A daily upstream's unmaterialized dates (``daily_tables``: today's, a snapshot's
    quiet days) do not hold it back; one in progress or one failing a blocking check does.
    """
    trigger = AutomationCondition.any_deps_updated()
    if daily_refresh_cron is not None:
        trigger = trigger | AutomationCondition.cron_tick_passed(daily_refresh_cron, "UTC")
    missing = AutomationCondition.any_deps_missing()
    if daily_tables is not None:
        missing = missing.ignore(daily_tables)
    return _when_ready(
        trigger.since_last_handled().with_label("upstream updated or the daily refresh"), missing
    ).with_label("rebuilt once when an input updated and daily, no upstream blocking check failed")


def catalog_refresh_automation(daily_refresh_cron: str) -> AutomationCondition:
    """A table that describes the lakehouse (``monitoring.data_dictionary``, ``pipeline_runs``)
    and so reads no asset: refresh it once a day at ``daily_refresh_cron`` (UTC), counting for
    its deadline like the whole tables', and when its code version changes (the dictionary's
    covers the table catalog, see ``observability/assets.py``)."""
    trigger = AutomationCondition.cron_tick_passed(
        daily_refresh_cron, "UTC"
    ) | AutomationCondition.code_version_changed().with_label("code changed")
    return (
        trigger.since_last_handled().with_label("the daily refresh or a code change")
        & ~AutomationCondition.in_progress()
    ).with_label("refreshed daily and when its code or the table catalog changes")


def whole_table_refresh_cron(gold: SlaPolicy) -> str:
    """Five minutes into gold's daily refresh window (``deadline - lower_bound``, UTC): the
    daily refresh of the whole tables counts for that day's deadline."""
    assert gold.deadline is not None and gold.lower_bound is not None
    deadline = dt.datetime.combine(dt.date(2000, 1, 2), gold.deadline)
    start = deadline - gold.lower_bound + dt.timedelta(minutes=5)
    return f"{start.minute} {start.hour} * * *"


def _when_ready(trigger: AutomationCondition, missing: AutomationCondition) -> AutomationCondition:
    """``trigger``, held while an input is ``missing`` or in progress, the asset itself is in
    progress, or an upstream blocking check failed: the guards both conditions share."""
    return (
        trigger
        & ~missing
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
        & ~_upstream_blocked()
    )


def _upstream_blocked() -> AutomationCondition:
    return AutomationCondition.any_deps_match(
        AutomationCondition.any_checks_match(AutomationCondition.check_failed(), blocking_only=True)
    ).with_label("an upstream blocking check failed")


def _union(*selections: AssetSelection | None) -> AssetSelection | None:
    present = [s for s in selections if s is not None]
    if not present:
        return None
    union = present[0]
    for selection in present[1:]:
        union = union | selection
    return union


def automated_layers(
    assets_defs: Sequence[AssetsDefinition], sla_layers: Sequence[str]
) -> set[str]:
    """The layers that materialize on their own: every layer with an SLA that reads another
    asset (silver through the vector index). A layer of sources only (bronze) is started by
    what lands, the landing sensor; the monitoring tables by ``catalog_refresh_automation``."""
    reads = {a.group_names_by_key[key] for a in assets_defs for key in a.keys if a.asset_deps[key]}
    return reads & set(sla_layers)


def asset_policies(
    assets_defs: Sequence[AssetsDefinition | AssetSpec],
    settings: OperationsSettings,
    snapshot_assets: AssetSelection | None = None,
) -> Callable[[AssetSpec], AssetSpec]:
    """What an asset spec of the graph ``assets_defs`` becomes: owned by the team, with its
    layer's freshness policy and automation condition.

    Which tables are whole tables is read from the assets themselves (unpartitioned), not
    from a list: a new unpartitioned asset gets the whole-table condition by being one; a new
    layer with an SLA that reads another is automated by being one.
    """
    policies = layer_policies(settings)
    built = [a for a in assets_defs if isinstance(a, AssetsDefinition) and a.is_executable]
    automated = automated_layers(built, list(policies))
    owners = [f"team:{settings.owner}"]
    whole = [k for a in built if a.partitions_def is None for k in a.keys]
    daily = [k for a in built if a.partitions_def is not None for k in a.keys]
    whole_tables = AssetSelection.assets(*whole) if whole else None
    daily_tables = AssetSelection.assets(*daily) if daily else None
    refresh_cron = settings.refresh_cron or whole_table_refresh_cron(policies["gold"])
    snapshots = set(snapshot_assets.resolve(built)) if snapshot_assets else set()
    native = {
        **{layer: policy.freshness_policy() for layer, policy in policies.items()},
        "monitoring": monitoring_policy(settings).freshness_policy(),
    }
    snapshot_native = snapshot_source_policy(settings).freshness_policy()

    def with_policies(spec: AssetSpec) -> AssetSpec:
        layer = spec.group_name or ""
        changes: dict = {"owners": owners}
        if spec.tags.get(TABLE_ROLE_TAG) == SIDE_TABLE:
            # Filled by the steps that write it: their policies are its policies.
            return spec.replace_attributes(**changes)
        if spec.key in snapshots:
            changes["freshness_policy"] = snapshot_native
        elif layer in native:
            changes["freshness_policy"] = native[layer]
        if layer == CATALOG_LAYER and not spec.deps:
            changes["automation_condition"] = catalog_refresh_automation(refresh_cron)
        elif layer in automated:
            changes["automation_condition"] = (
                whole_table_automation(daily_tables, refresh_cron)
                if spec.partitions_def is None
                else downstream_automation(snapshot_assets, whole_tables)
            )
            if spec.tags.get(SNAPSHOT_SEMANTICS_TAG) == AS_KNOWN:
                changes["automation_condition"] = as_known_snapshot_automation(
                    changes["automation_condition"]
                )
        return spec.replace_attributes(**changes)

    return with_policies
