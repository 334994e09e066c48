"""Structured JSON logs: one JSON object per line, with the run, asset, partition and a trace id.

Shipped to stderr of the run process, where log collectors (Databricks driver logs, Loki,
CloudWatch, Datadog) pick them up. The trace id is the run's ``lakehouse/trace_id`` tag when a
sensor or caller set one (so a file landing can be followed through every run it causes), else
the run id. Messages pass through :func:`redact`: no tokens, keys, e-mails or phone numbers.
"""

import datetime as dt
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from dagster import Field, InitLoggerContext, logger

from lakehouse_assets.operations.alerts import redact

TRACE_ID_TAG = "lakehouse/trace_id"


def log_record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The JSON object of one Dagster log record."""
    meta: Mapping[str, Any] = getattr(record, "dagster_meta", None) or {}
    tags: Mapping[str, str] = meta.get("job_tags") or {}
    event = meta.get("dagster_event")
    run_id = meta.get("run_id")
    partition = tags.get("dagster/partition")
    if partition is None and "dagster/asset_partition_range_start" in tags:
        partition = (
            f"{tags['dagster/asset_partition_range_start']}..."
            f"{tags.get('dagster/asset_partition_range_end', '')}"
        )
    fields: dict[str, Any] = {
        "timestamp": _utc_timestamp(meta.get("log_timestamp"), record.created),
        "level": record.levelname,
        "message": redact(str(meta.get("orig_message") or record.getMessage())),
        "run_id": run_id,
        "job": meta.get("job_name"),
        "asset": meta.get("op_name") or meta.get("step_key"),
        "step": meta.get("step_key"),
        "partition": partition,
        "trace_id": tags.get(TRACE_ID_TAG) or run_id,
    }
    if event is not None:
        fields["event_type"] = event.event_type_value
    return {key: value for key, value in fields.items() if value is not None}


def _utc_timestamp(dagster_timestamp: str | None, created: float) -> str:
    # Dagster stamps records with a naive UTC ISO string; say it is UTC.
    if dagster_timestamp:
        return f"{dagster_timestamp}+00:00"
    return dt.datetime.fromtimestamp(created, dt.UTC).isoformat()


class JsonLogFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(log_record_fields(record), default=str, sort_keys=True)


@logger(
    config_schema={"log_level": Field(str, is_required=False, default_value="INFO")},
    description="JSON lines on stderr: run id, asset, partition, trace id; secrets redacted.",
)
def json_logger(init_context: InitLoggerContext) -> logging.Logger:
    level = init_context.logger_config["log_level"].upper()
    json_log = logging.Logger("lakehouse_json", level=level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    json_log.addHandler(handler)
    return json_log
