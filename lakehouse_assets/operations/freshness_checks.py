"""Freshness SLA checks: one ``freshness_sla`` check per table, bronze through vector index.

The checks read *when* things happened from the Dagster instance (last materialization of the
table and of its upstream tables) and from the landing zone (when files landed), judge each
table with :func:`evaluate_sla`, record every evaluation in ``monitoring.sla_metrics`` and
report a check result whose severity is the layer's (WARN bronze/silver, ERROR gold). They
never block: a late table is still the best data there is.

The evaluation instant is run config (``evaluated_at``); the sensor pins it to the tick time,
so re-running an evaluation rewrites the same rows (MERGE on table + timestamp) and tests can
freeze the clock.
"""

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSpec,
    AssetKey,
    AssetRecordsFilter,
    AssetsDefinition,
    AssetSpec,
    Config,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    multi_asset_check,
    sensor,
)
from pydantic import Field

from lakehouse_assets.monitoring.schemas import SLA_METRICS_SCHEMA
from lakehouse_assets.monitoring.tables import SLA_METRICS
from lakehouse_assets.operations.sla import (
    SlaEvaluation,
    SlaPolicy,
    evaluate_sla,
    layer_policies,
    policy_layers,
    snapshot_source_policy,
)
from lakehouse_assets.settings import LakehouseSettings

FRESHNESS_CHECK_NAME = "freshness_sla"
FRESHNESS_CHECKS_OP = "freshness_sla_checks"
FRESHNESS_JOB_NAME = "freshness_checks_job"

# Per landed asset: the landing time of the oldest file that landed after an instant (None:
# none did). Given by the layer that ingests files (bronze), so these checks know no source.
LandedSince = Callable[[float | None], float | None]


class FreshnessCheckConfig(Config):
    evaluated_at: str | None = Field(
        default=None,
        description="ISO-8601 UTC instant to evaluate the SLAs at (default: now).",
    )


def sla_targets(
    assets_defs: Iterable[AssetsDefinition | AssetSpec], sla_layers: Iterable[str] | None = None
) -> dict[AssetKey, str]:
    """Every table asset (executable: built by a step) of a layer with an SLA (default: every
    layer ``layer_policies`` has one for), with its layer (its group)."""
    layers = set(sla_layers if sla_layers is not None else policy_layers())
    return {
        key: a.group_names_by_key[key]
        for a in assets_defs
        # Only the tables steps build: not a side table's spec (its writers carry the SLA).
        if isinstance(a, AssetsDefinition) and a.is_executable
        for key in a.keys
        if a.group_names_by_key[key] in layers
    }


def freshness_check_keys(
    assets_defs: Iterable[AssetsDefinition | AssetSpec], sla_layers: Iterable[str] | None = None
) -> list[AssetCheckKey]:
    return [
        AssetCheckKey(key, FRESHNESS_CHECK_NAME) for key in sla_targets(assets_defs, sla_layers)
    ]


def parse_evaluated_at(raw: str | None) -> dt.datetime:
    if raw is None:
        return dt.datetime.now(dt.UTC)
    moment = dt.datetime.fromisoformat(raw)
    if moment.tzinfo is None:
        raise ValueError(f"evaluated_at={raw!r} needs a timezone, e.g. {raw}+00:00")
    return moment.astimezone(dt.UTC)


def last_materialized(instance: DagsterInstance, key: AssetKey) -> float | None:
    event = instance.get_latest_materialization_event(key)
    return event.timestamp if event is not None else None


def first_materialized_after(
    instance: DagsterInstance, key: AssetKey, after: float | None
) -> float | None:
    result = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=key, after_timestamp=after), limit=1, ascending=True
    )
    return result.records[0].timestamp if result.records else None


def _utc(timestamp: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC) if timestamp is not None else None


def build_freshness_checks(
    assets_defs: Sequence[AssetsDefinition],
    settings: LakehouseSettings,
    landed_since: Mapping[AssetKey, LandedSince],
    snapshot_sources: Collection[AssetKey] = (),
) -> AssetsDefinition:
    """The multi-asset check evaluating every table's freshness SLA. A table in
    ``landed_since`` is pending from its oldest newer landed file; any other from its oldest
    newer upstream materialization. ``snapshot_sources`` (reference data landing when it
    changes) have the snapshot cadence, every other table its layer's."""
    layers = layer_policies(settings.operations)
    targets = sla_targets(assets_defs, layers)
    snapshot = snapshot_source_policy(settings.operations)
    policies = {
        key: snapshot if key in snapshot_sources else layers[layer]
        for key, layer in targets.items()
    }
    upstream = {key: sorted(a.asset_deps[key]) for a in assets_defs for key in a.keys}

    def pending_since(
        instance: DagsterInstance, key: AssetKey, last_update: float | None
    ) -> float | None:
        if key in landed_since:
            return landed_since[key](last_update)
        times = [first_materialized_after(instance, up, last_update) for up in upstream[key]]
        return min((t for t in times if t is not None), default=None)

    @multi_asset_check(
        specs=[
            AssetCheckSpec(
                FRESHNESS_CHECK_NAME,
                asset=key,
                description=f"Freshness SLA ({layer}): {policies[key].describe()}.",
            )
            for key, layer in targets.items()
        ],
        name=FRESHNESS_CHECKS_OP,
        required_resource_keys={"spark", "storage"},
        # Writes only monitoring.sla_metrics: its own pool, so it never waits for a long run.
        pool="monitoring_sla_metrics",
        # Subsettable: Dagster includes a table's checks in every run that materializes it
        # (automation cannot leave one out), so such a run evaluates just that table's SLA,
        # after it materialized. The freshness sensor's runs evaluate every table.
        can_subset=True,
        description="Evaluates every table's freshness SLA and records it in sla_metrics.",
    )
    def freshness_sla_checks(
        context: AssetCheckExecutionContext, config: FreshnessCheckConfig
    ) -> Iterable[AssetCheckResult]:
        now = parse_evaluated_at(config.evaluated_at)
        evaluations: list[tuple[AssetKey, SlaPolicy, SlaEvaluation]] = []
        selected = {check.asset_key for check in context.selected_asset_check_keys}
        for key in targets:
            if key not in selected:
                continue
            last = last_materialized(context.instance, key)
            policy = policies[key]
            evaluation = evaluate_sla(
                key.to_user_string(),
                policy,
                now=now,
                last_update=_utc(last),
                pending_since=_utc(pending_since(context.instance, key, last)),
            )
            evaluations.append((key, policy, evaluation))
        record_sla_metrics(context, [(p.layer, e) for _, p, e in evaluations])
        for key, policy, evaluation in evaluations:
            yield AssetCheckResult(
                asset_key=key,
                check_name=FRESHNESS_CHECK_NAME,
                passed=evaluation.sla_met,
                severity=policy.severity,
                description=evaluation.reason,
                metadata=sla_check_metadata(evaluation),
            )

    return freshness_sla_checks


def sla_check_metadata(evaluation: SlaEvaluation) -> dict[str, object]:
    metadata: dict[str, object] = {
        "evaluated_at": evaluation.evaluated_at.isoformat(),
        "expected_freshness_minutes": evaluation.expected_freshness_minutes,
        "reason": evaluation.reason,
    }
    if evaluation.actual_freshness_minutes is not None:
        metadata["actual_freshness_minutes"] = evaluation.actual_freshness_minutes
    return metadata


def sla_metrics_row(layer: str, evaluation: SlaEvaluation, run_id: str) -> tuple:
    """One ``monitoring.sla_metrics`` row (timezone-aware, so Spark stores the right instant)."""
    return (
        evaluation.table_name,
        layer,
        evaluation.evaluated_at,
        evaluation.expected_freshness_minutes,
        evaluation.actual_freshness_minutes,
        evaluation.sla_met,
        evaluation.last_update,
        evaluation.reason,
        run_id,
    )


def record_sla_metrics(
    context: AssetCheckExecutionContext, evaluations: Sequence[tuple[str, SlaEvaluation]]
) -> None:
    """MERGE the evaluations into ``monitoring.sla_metrics`` (keyed by table + timestamp)."""
    session = context.resources.spark.get_session()
    store = context.resources.storage.store(session)
    rows = session.createDataFrame(
        [sla_metrics_row(layer, e, context.run.run_id) for layer, e in evaluations],
        SLA_METRICS_SCHEMA,
    )
    store.merge(SLA_METRICS, rows, keys=["table_name", "sla_timestamp"])


# A freshness run in one of these has not evaluated yet: another request would only queue.
WAITING_STATUSES = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
]


def freshness_sensor(settings: LakehouseSettings) -> SensorDefinition:
    """Launches the freshness checks every ``freshness_interval_seconds``, clock pinned, and
    not while the previous evaluation still waits to start.

    Each run evaluates the instant its tick pinned. When the runs take longer than the
    interval (a busy laptop, a cold cluster), requesting on every tick piles them up in the
    queue, and each judges a moment that is older the longer it waited: a source that missed
    its day is reported minutes late, after a backlog of stale verdicts (seen under the
    daemon with a 45-second interval and 50-second runs). One waiting run at most."""
    operations = settings.operations
    running = operations.slack_enabled or operations.pagerduty_enabled or operations.live

    @sensor(
        name="freshness_sla_sensor",
        job_name=FRESHNESS_JOB_NAME,
        minimum_interval_seconds=operations.freshness_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        description="Evaluates the freshness SLA of every table, bronze through vector index.",
    )
    def freshness_sla_sensor(context: SensorEvaluationContext) -> RunRequest | SkipReason:
        waiting = context.instance.get_runs(
            RunsFilter(job_name=FRESHNESS_JOB_NAME, statuses=WAITING_STATUSES), limit=1
        )
        if waiting:
            return SkipReason(
                f"the previous freshness evaluation ({waiting[0].run_id}) has not started yet"
            )
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return freshness_run_request(now)

    return freshness_sla_sensor


def freshness_run_request(now: dt.datetime) -> RunRequest:
    """A run of the freshness checks evaluated at ``now`` (the run key dedups a tick)."""
    stamp = now.isoformat()
    return RunRequest(
        run_key=f"freshness:{stamp}",
        run_config={"ops": {FRESHNESS_CHECKS_OP: {"config": {"evaluated_at": stamp}}}},
        tags={"lakehouse/trigger": "freshness_sla_sensor"},
    )
