"""Alerts: what went wrong, how bad it is, and the messages that say so. Pure - no I/O.

Five kinds of problem raise an alert: a run failure (a step that failed for good, after its
retries), a blocking check failure, a quality threshold breach (a non-blocking check failing),
a freshness SLA miss and schema drift (one alert per field a source sent new or mistyped for
the first time: its incident is the field, so each is announced once). Severity picks the
route: ``warning`` goes to Slack, ``critical`` to Slack and PagerDuty. Each alert has a dedup
key naming its *incident* (the kind, asset and check - not the run), so a problem that keeps
failing is one incident and pages once.

Messages carry names, ids, a link and numbers only: error text is passed through
:func:`redact`, and check metadata contributes numeric values, never sample rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AlertKind = Literal[
    "run_failure", "blocking_check_failure", "quality_breach", "freshness_miss", "schema_drift"
]
Severity = Literal["warning", "critical"]

KIND_TITLES: dict[str, str] = {
    "run_failure": "Run failure",
    "blocking_check_failure": "Blocking check failure",
    "quality_breach": "Quality threshold breach",
    "freshness_miss": "Freshness SLA miss",
    "schema_drift": "Schema drift",
}

# Which runbook explains each kind (relative to the repository root).
RUNBOOKS: dict[str, str] = {
    "run_failure": "docs/runbooks/pipeline_failure.md",
    "blocking_check_failure": "docs/runbooks/data_quality_incident.md",
    "quality_breach": "docs/runbooks/data_quality_incident.md",
    "freshness_miss": "docs/runbooks/sla_miss.md",
    "schema_drift": "docs/runbooks/schema_drift.md",
}

# The bronze check that reports schema drift, and its metadata entry listing the drifted
# fields ({"field", "kind", "declared_type", "records", "first_file"} each): the router alerts
# once per field.
SCHEMA_DRIFT_CHECK = "no_schema_drift"
SCHEMA_DRIFT_FIELDS_KEY = "drifted_field_list"

MAX_REASON_CHARS = 400
MAX_SUMMARY_CHARS = 1024  # PagerDuty's limit for payload.summary

_REDACTIONS = (
    (re.compile(r"xox[abposr]-[A-Za-z0-9-]+"), "[slack-token]"),
    (re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [redacted]"),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|routing[_-]?key|accountkey|sig)"
            r"(\"?\s*[=:]\s*\"?)[^\s\",;&]+"
        ),
        r"\1\2[redacted]",
    ),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "[aws-key]"),
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "[email]"),
    # Phone numbers as TPC-H (and most sources) write them, e.g. 25-989-741-2988.
    (re.compile(r"\b\d{2,3}-\d{3}-\d{3}-\d{4}\b"), "[phone]"),
    (re.compile(r"\b[0-9A-Za-z]{32,}\b"), "[key]"),
    (re.compile(r"\bdapi[0-9a-f]{16,}\b"), "[databricks-token]"),
)


def redact(text: str) -> str:
    """``text`` without tokens, keys, e-mail addresses or phone numbers."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def slack_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control (``<!channel>``, links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line_reason(text: str | None) -> str:
    """The first lines of an error or check description, redacted and bounded."""
    if not text:
        return "no reason recorded"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    reason = redact(" ".join(lines[:3]))
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 3] + "..."
    return reason


def numeric_counts(metadata: Mapping[str, Any]) -> dict[str, float | int]:
    """The numeric entries of check/step metadata (never strings: those may hold samples)."""
    counts: dict[str, float | int] = {}
    for name, value in metadata.items():
        raw = getattr(value, "value", value)
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            continue
        counts[name] = raw
    return counts


@dataclass(frozen=True)
class Alert:
    """One observed problem, ready to be routed."""

    kind: AlertKind
    severity: Severity
    asset: str
    run_id: str
    partition: str | None
    reason: str
    catalog: str
    check: str | None = None
    counts: Mapping[str, float | int] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return incident_key(self.catalog, self.kind, self.asset, self.check)

    @property
    def subject(self) -> str:
        return f"{self.asset}.{self.check}" if self.check else self.asset

    def summary(self) -> str:
        text = f"[{self.severity.upper()}] {KIND_TITLES[self.kind]}: {self.subject}"
        if self.partition:
            text += f" (partition {self.partition})"
        return f"{text} - {self.reason}"[:MAX_SUMMARY_CHARS]


@dataclass(frozen=True)
class Recovery:
    """Evidence that an incident is over: the asset materialized, or the check passed."""

    dedup_key: str
    run_id: str
    subject: str


def incident_key(catalog: str, kind: str, asset: str, check: str | None = None) -> str:
    """``lakehouse:<catalog>:<kind>:<asset>[:<check>]`` - stable across runs and partitions."""
    parts = ["lakehouse", catalog, kind, asset] + ([check] if check else [])
    return ":".join(parts)


def check_alert_kind(check_name: str, *, blocking: bool, is_freshness: bool) -> AlertKind:
    if is_freshness:
        return "freshness_miss"
    if check_name == SCHEMA_DRIFT_CHECK:
        return "schema_drift"
    return "blocking_check_failure" if blocking else "quality_breach"


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def slack_alert_text(alert: Alert, ui_url: str) -> str:
    """The Slack message (mrkdwn) opening an incident."""
    icon = ":rotating_light:" if alert.severity == "critical" else ":warning:"
    lines = [
        f"{icon} *{alert.severity.upper()}: {KIND_TITLES[alert.kind]}* `{alert.subject}`",
        f"*Asset:* `{alert.asset}`",
        f"*Partition:* {alert.partition or 'unpartitioned'}",
        f"*Run:* <{run_url(ui_url, alert.run_id)}|{alert.run_id}>",
        f"*Reason:* {slack_escape(alert.reason)}",
    ]
    if alert.counts:
        lines.append("*Counts:* " + ", ".join(f"{k}={v}" for k, v in sorted(alert.counts.items())))
    lines.append(f"*Runbook:* {RUNBOOKS[alert.kind]}")
    return "\n".join(lines)


def slack_repeat_text(alert: Alert, ui_url: str) -> str:
    """Thread reply when an open incident happens again (no new page)."""
    return (
        f"Still failing: run <{run_url(ui_url, alert.run_id)}|{alert.run_id}> "
        f"(partition {alert.partition or 'unpartitioned'}): {slack_escape(alert.reason)}"
    )


def slack_resolved_text(recovery: Recovery, ui_url: str) -> str:
    return (
        f":white_check_mark: Resolved: `{recovery.subject}` recovered in run "
        f"<{run_url(ui_url, recovery.run_id)}|{recovery.run_id}>"
    )


def pagerduty_trigger(alert: Alert, routing_key: str, ui_url: str) -> dict[str, Any]:
    """An Events API v2 ``trigger`` event for ``alert``."""
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": alert.dedup_key,
        "payload": {
            "summary": alert.summary(),
            "source": f"lakehouse_assets/{alert.catalog}",
            "severity": "critical" if alert.severity == "critical" else "warning",
            "component": alert.asset,
            "class": alert.kind,
            "custom_details": {
                "asset": alert.asset,
                "check": alert.check,
                "partition": alert.partition,
                "run_id": alert.run_id,
                "reason": alert.reason,
                "counts": dict(alert.counts),
                "runbook": RUNBOOKS[alert.kind],
            },
        },
        "links": [{"href": run_url(ui_url, alert.run_id), "text": "Dagster run"}],
    }


def pagerduty_resolve(dedup_key: str, routing_key: str) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
