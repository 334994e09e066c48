"""The alert sensor: reads finished runs from the Dagster instance and routes their problems.

Every finished run (success or failure) is read once, in event-log order. From its events:

* ``STEP_FAILURE`` (after retries) -> a critical ``run_failure`` alert for the step's asset(s);
  a step that failed *because* a blocking check failed (or rejected its candidate,
  ``rejection.py``) is left to the check's own alert;
* a failed ``ASSET_CHECK_EVALUATION`` -> ``freshness_miss``, ``blocking_check_failure`` or
  ``quality_breach``; ERROR severity is critical, WARN is a warning (Slack only);
* ``ASSET_MATERIALIZATION`` / a passing check -> recovery of the matching open incident.

The sensor's cursor holds the last run-status event processed, the open incidents
(:class:`IncidentBook`) and the outbox (``outbox.py``). Each run is read and decided on once;
the messages decided go to the outbox and are delivered in order, each exactly once: a refusal
(rate limit, server error) is tried again after the wait the service asks, and a message that
cannot be delivered is kept, counted in every tick's message, listed by ``lakehouse alerts``,
and announced through the other service.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dagster import (
    AssetCheckSeverity,
    AssetsDefinition,
    DagsterEventType,
    DagsterInstance,
    DefaultSensorStatus,
    RunStatusChangeRecordsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from lakehouse_assets.operations.alert_delivery import AlertRouter, Observation
from lakehouse_assets.operations.alerts import (
    SCHEMA_DRIFT_FIELDS_KEY,
    Alert,
    Recovery,
    check_alert_kind,
    incident_key,
    numeric_counts,
    one_line_reason,
)
from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECK_NAME
from lakehouse_assets.operations.incidents import IncidentBook
from lakehouse_assets.operations.notifiers import PagerDutyEvents, SlackAlerts
from lakehouse_assets.operations.outbox import Outbox
from lakehouse_assets.rejection import REJECTED_ROWS_KEY
from lakehouse_assets.settings import LakehouseSettings

ALERT_SENSOR_NAME = "lakehouse_alert_router"
RUNS_PER_TICK = 50

_FINISHED = (DagsterEventType.RUN_SUCCESS, DagsterEventType.RUN_FAILURE)
_RUN_EVENTS = {
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}
_BLOCKING_CHECK_ERROR = "DagsterAssetCheckFailedError"


@dataclass(frozen=True)
class FinishedRun:
    storage_id: int
    run_id: str
    failed: bool
    failure_message: str | None


def op_asset_names(assets_defs: Iterable[AssetsDefinition]) -> dict[str, list[str]]:
    """Op (step) name -> the asset names it materializes."""
    return {
        a.node_def.name: sorted(k.to_user_string() for k in a.keys) for a in assets_defs if a.keys
    }


def run_partition(tags: Mapping[str, str]) -> str | None:
    """The partition (or ``first...last`` range) a run materialized, from its tags."""
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    first = tags.get("dagster/asset_partition_range_start")
    last = tags.get("dagster/asset_partition_range_end")
    return f"{first}...{last}" if first and last else None


def finished_runs(instance: DagsterInstance, after: int, limit: int) -> list[FinishedRun]:
    """Run successes and failures recorded after storage id ``after``, oldest first."""
    found = []
    for event_type in _FINISHED:
        result = instance.fetch_run_status_changes(
            RunStatusChangeRecordsFilter(event_type, after_storage_id=after),
            limit=limit,
            ascending=True,
        )
        for record in result.records:
            entry = record.event_log_entry
            failed = event_type == DagsterEventType.RUN_FAILURE
            message = entry.dagster_event.message if failed and entry.dagster_event else None
            found.append(FinishedRun(record.storage_id, entry.run_id, failed, message))
    return sorted(found, key=lambda run: run.storage_id)[:limit]


def latest_run_status_storage_id(instance: DagsterInstance) -> int:
    latest = 0
    for event_type in _FINISHED:
        result = instance.fetch_run_status_changes(event_type, limit=1, ascending=False)
        latest = max([latest, *(r.storage_id for r in result.records)])
    return latest


def observations_for_run(
    instance: DagsterInstance,
    finished: FinishedRun,
    op_assets: Mapping[str, Sequence[str]],
    catalog: str,
) -> list[Observation]:
    """The problems and recoveries one finished run shows, in event order."""
    run = instance.get_run_by_id(finished.run_id)
    if run is None:
        return []
    partition = run_partition(run.tags)
    records = instance.get_records_for_run(finished.run_id, of_type=_RUN_EVENTS).records
    observed: list[Observation] = []
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_FAILURE:
            observed += _step_failure_alerts(event, op_assets, finished.run_id, partition, catalog)
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            # Steps that are not assets (check ops, the replay and restore ops) recover here;
            # asset steps recover with their materialization.
            step = event.step_key or ""
            if step not in op_assets:
                key = incident_key(catalog, "run_failure", step)
                observed.append(Recovery(key, finished.run_id, step))
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            asset = event.asset_key.to_user_string()
            key = incident_key(catalog, "run_failure", asset)
            observed.append(Recovery(key, finished.run_id, asset))
        else:
            observed += _check_observations(event, finished.run_id, partition, catalog)
    if finished.failed and not any(
        isinstance(o, Alert) and o.severity == "critical" for o in observed
    ):
        # The run failed and nothing critical explains it (a crash outside any step, a
        # launch or resource failure): alert on the job itself.
        observed.append(
            Alert(
                "run_failure",
                "critical",
                asset=run.job_name,
                run_id=finished.run_id,
                partition=partition,
                reason=one_line_reason(finished.failure_message),
                catalog=catalog,
            )
        )
    if not finished.failed:
        key = incident_key(catalog, "run_failure", run.job_name)
        observed.append(Recovery(key, finished.run_id, run.job_name))
    return observed


def _step_failure_alerts(
    event: Any,
    op_assets: Mapping[str, Sequence[str]],
    run_id: str,
    partition: str | None,
    catalog: str,
) -> list[Alert]:
    data = event.step_failure_data
    error = data.error
    if error is not None and error.cls_name == _BLOCKING_CHECK_ERROR:
        return []
    message = error.message if error is not None else None
    if error is not None and error.cause is not None:
        message = error.cause.message  # the user's exception, not Dagster's wrapper
    failure_metadata = data.user_failure_data.metadata if data.user_failure_data else {}
    if REJECTED_ROWS_KEY in failure_metadata:
        return []  # a rejected candidate: the failing blocking check alerts, naming the rows
    step = event.step_key or "unknown_step"
    return [
        Alert(
            "run_failure",
            "critical",
            asset=asset,
            run_id=run_id,
            partition=partition,
            reason=one_line_reason(message),
            catalog=catalog,
            counts=numeric_counts(failure_metadata),
        )
        for asset in op_assets.get(step, [step])
    ]


def _check_observations(
    event: Any, run_id: str, partition: str | None, catalog: str
) -> list[Observation]:
    evaluation = event.event_specific_data
    asset = evaluation.asset_key.to_user_string()
    kind = check_alert_kind(
        evaluation.check_name,
        blocking=bool(evaluation.blocking),
        is_freshness=evaluation.check_name == FRESHNESS_CHECK_NAME,
    )
    if evaluation.passed:
        key = incident_key(catalog, kind, asset, evaluation.check_name)
        return [Recovery(key, run_id, f"{asset}.{evaluation.check_name}")]
    metadata = evaluation.metadata or {}
    reason_entry = metadata.get("reason")
    reason = evaluation.description or getattr(reason_entry, "value", None)
    alert = Alert(
        kind,
        "critical" if evaluation.severity == AssetCheckSeverity.ERROR else "warning",
        asset=asset,
        run_id=run_id,
        partition=evaluation.partition or partition,
        reason=one_line_reason(reason or f"check {evaluation.check_name} failed"),
        catalog=catalog,
        check=evaluation.check_name,
        counts=numeric_counts(metadata),
    )
    if kind == "schema_drift":
        return schema_drift_alerts(alert, metadata)
    return [alert]


def schema_drift_alerts(alert: Alert, metadata: Mapping[str, Any]) -> list[Observation]:
    """One alert per drifted field, its incident the field (``<check>:<field>:<kind>``): each
    field is announced once, whichever run or source file brings it again. Names, types and
    counts only: the rescued values themselves never leave the table."""
    entry = metadata.get(SCHEMA_DRIFT_FIELDS_KEY)
    fields = getattr(entry, "value", None) or []
    return [
        replace(
            alert,
            check=f"{alert.check}:{d['field']}:{d['kind']}",
            reason=one_line_reason(
                f"field {d['field']!r} ({d['kind']}, declared {d['declared_type']}) in "
                f"{d['records']} records, first in {d['first_file']}; kept in _rescued_data"
            ),
            counts={"records": d["records"]},
        )
        for d in fields
    ] or [alert]


def alert_router_sensor(
    assets_defs: Sequence[AssetsDefinition], settings: LakehouseSettings
) -> SensorDefinition:
    """The sensor that turns run failures, failed checks and SLA misses into alerts."""
    op_assets = op_asset_names(assets_defs)
    operations = settings.operations
    enabled = operations.slack_enabled or operations.pagerduty_enabled

    @sensor(
        name=ALERT_SENSOR_NAME,
        minimum_interval_seconds=30,
        # Running whenever an integration is configured: alerts must not depend on a click.
        default_status=DefaultSensorStatus.RUNNING if enabled else DefaultSensorStatus.STOPPED,
        description=(
            "Routes run failures, failed checks and freshness SLA misses to Slack (warning) "
            "and Slack + PagerDuty (critical), one incident per dedup key."
        ),
    )
    def lakehouse_alert_router(
        context: SensorEvaluationContext, slack_alerts: SlackAlerts, pagerduty: PagerDutyEvents
    ) -> SkipReason:
        state = json.loads(context.cursor) if context.cursor else None
        if state is None:
            # First tick: alert on what happens from now on, not on the instance's history.
            after = latest_run_status_storage_id(context.instance)
            context.update_cursor(json.dumps({"after": after, "open": {}}))
            return SkipReason(f"started after run-status event {after}")
        router = AlertRouter(
            slack_alerts,
            pagerduty,
            operations.ui_url,
            IncidentBook.from_json(state["open"]),
            Outbox.from_json(state.get("outbox")),
        )
        after, processed = state["after"], 0
        for finished in finished_runs(context.instance, after, RUNS_PER_TICK):
            # Decided once, into the outbox: delivery below can fail without a run read twice.
            router.route(
                observations_for_run(context.instance, finished, op_assets, settings.catalog)
            )
            after, processed = finished.storage_id, processed + 1
        given_up = router.deliver(
            give_up_after=operations.alert_give_up_minutes * 60.0,
            first_backoff=float(operations.alert_retry_seconds),
        )
        for lost in given_up:
            context.log.error(
                f"alert undeliverable after {lost['attempts']} attempts to {lost['service']}: "
                f"{lost['subject']} ({lost['error']})"
            )
        context.update_cursor(
            json.dumps(
                {"after": after, "open": router.book.to_json(), "outbox": router.outbox.to_json()}
            )
        )
        outbox = router.outbox
        return SkipReason(
            f"{processed} finished runs read, {router.sent} notifications sent, "
            f"{len(outbox.pending)} waiting to be retried, {len(outbox.undeliverable)} "
            f"undeliverable (`lakehouse alerts`), {len(router.book.open)} incidents open"
        )

    return lakehouse_alert_router


def alert_outbox_of(instance: DagsterInstance) -> Outbox | None:
    """The alert sensor's outbox as its last tick left it (None: it has not ticked)."""
    from dagster._core.scheduler.instigation import InstigatorType

    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        cursor = getattr(state.instigator_data, "cursor", None)
        if state.name == ALERT_SENSOR_NAME and cursor:
            return Outbox.from_json(json.loads(cursor).get("outbox"))
    return None
