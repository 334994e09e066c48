"""``monitoring.pipeline_runs``: one row per run and asset partition, read from the instance.

A run that materialized a range of partitions in one go (a single-run backfill) is one row
with the range as its partition ("1992-01-01...1992-01-31"), so counts are never repeated per
day. Times are those of the asset's step; rows read / written come from what the asset
reported (materialization metadata, or its accounting check), null when it reported none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from lakehouse_assets.operations.alert_router import run_partition
from lakehouse_assets.operations.alerts import one_line_reason

# Metadata names assets use for their input and output counts (first present wins).
ROWS_READ_KEYS = ("input_records", "input_rows", "rows_read")
ROWS_WRITTEN_KEYS = ("rows_written", "written_rows", "dagster/partition_row_count")

_STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}
_RUN_STATUS = {
    DagsterRunStatus.SUCCESS: "SUCCESS",
    DagsterRunStatus.FAILURE: "FAILED",
    DagsterRunStatus.CANCELED: "CANCELED",
}


@dataclass(frozen=True)
class PipelineRunRow:
    pipeline_name: str
    run_id: str
    asset: str
    partition: str
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    status: str
    rows_read: int | None
    rows_written: int | None
    duration_seconds: float | None
    error_message: str | None


@dataclass
class _StepRecord:
    start: float | None = None
    end: float | None = None
    failed: bool = False
    error: str | None = None
    materialized: set[str] | None = None
    metadata: dict[str, dict[str, Any]] | None = None


def first_count(metadata: Mapping[str, Any], names: Sequence[str]) -> int | None:
    for name in names:
        raw = getattr(metadata.get(name), "value", metadata.get(name))
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return int(raw)
    return None


def pipeline_run_rows(
    instance: DagsterInstance,
    op_assets: Mapping[str, Sequence[str]],
    *,
    updated_after: dt.datetime,
) -> list[PipelineRunRow]:
    """A row per asset (partition) of every run updated after ``updated_after``."""
    records = instance.get_run_records(RunsFilter(updated_after=updated_after))
    rows: list[PipelineRunRow] = []
    for record in records:
        run = record.dagster_run
        status = _RUN_STATUS.get(run.status, "RUNNING")
        steps = _steps_of_run(instance, run.run_id)
        partition = run_partition(run.tags) or "unpartitioned"
        for step_key, step in sorted(steps.items()):
            for asset in op_assets.get(step_key, []):
                rows.append(_row(run.job_name, run.run_id, asset, partition, step, status))
    return rows


def _steps_of_run(instance: DagsterInstance, run_id: str) -> dict[str, _StepRecord]:
    steps: dict[str, _StepRecord] = defaultdict(_StepRecord)
    connection = instance.get_records_for_run(run_id, of_type=_STEP_EVENTS)
    for record in connection.records:
        event = record.event_log_entry.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps[event.step_key]
        timestamp = record.event_log_entry.timestamp
        if event.event_type == DagsterEventType.STEP_START:
            step.start = step.start or timestamp
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            step.end = timestamp
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            step.end, step.failed = timestamp, True
            error = event.step_failure_data.error
            cause = error.cause if error is not None and error.cause is not None else error
            step.error = one_line_reason(cause.message if cause is not None else None)
        else:
            asset = _asset_of(event)
            step.metadata = step.metadata or {}
            step.metadata.setdefault(asset, {}).update(_metadata_of(event))
            if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
                step.materialized = (step.materialized or set()) | {asset}
    return steps


def _asset_of(event: Any) -> str:
    data = event.event_specific_data
    key = getattr(data, "asset_key", None) or event.asset_key
    return key.to_user_string()


def _metadata_of(event: Any) -> Mapping[str, Any]:
    if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
        return event.event_specific_data.materialization.metadata
    return event.event_specific_data.metadata or {}


def _row(
    job: str, run_id: str, asset: str, partition: str, step: _StepRecord, run_status: str
) -> PipelineRunRow:
    metadata = (step.metadata or {}).get(asset, {})
    if step.failed:
        status = "FAILED"
    elif step.end is not None:
        status = "SUCCESS"
    else:
        status = run_status if run_status != "SUCCESS" else "RUNNING"
    start, end = _utc(step.start), _utc(step.end)
    duration = round(step.end - step.start, 3) if step.start and step.end else None
    return PipelineRunRow(
        pipeline_name=job,
        run_id=run_id,
        asset=asset,
        partition=partition,
        start_time=start,
        end_time=end,
        status=status,
        rows_read=first_count(metadata, ROWS_READ_KEYS),
        rows_written=first_count(metadata, ROWS_WRITTEN_KEYS),
        duration_seconds=duration,
        error_message=step.error,
    )


def _utc(timestamp: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC) if timestamp is not None else None
