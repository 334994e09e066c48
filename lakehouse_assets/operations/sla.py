"""Freshness SLAs per layer and their evaluation: pure date math, no Dagster instance, no Spark.

Two kinds of promise:

* **lag** (bronze, silver, features, vector index): new upstream data - a landed file, an
  upstream materialization - is reflected within ``max_lag``. The lag is measured from the
  oldest upstream change the table has not caught up with yet; a table with nothing pending
  is fresh however old it is (a quiet source is not an SLA miss).
* **deadline** (gold): refreshed every day by ``HH:MM`` UTC. At any instant the table must
  have been updated after the start of the window ending at the most recent deadline
  (``deadline - lower_bound``): by default gold must be refreshed between 00:00 and 07:00 UTC
  (a refresh after the deadline counts from then on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from dagster import AssetCheckSeverity, FreshnessPolicy

from lakehouse_assets.settings import OperationsSettings

SlaKind = Literal["lag", "deadline"]


@dataclass(frozen=True)
class SlaPolicy:
    """The freshness promise of one layer."""

    layer: str
    kind: SlaKind
    severity: AssetCheckSeverity
    max_lag: dt.timedelta | None = None
    deadline: dt.time | None = None
    lower_bound: dt.timedelta = dt.timedelta(hours=24)  # see layer_policies for gold's

    def __post_init__(self) -> None:
        if self.kind == "lag" and (self.max_lag is None or self.max_lag <= dt.timedelta(0)):
            raise ValueError(f"{self.layer}: a lag SLA needs a positive max_lag")
        if self.kind == "deadline" and self.deadline is None:
            raise ValueError(f"{self.layer}: a deadline SLA needs a deadline time")

    def describe(self) -> str:
        if self.kind == "lag":
            return f"upstream changes reflected within {_minutes(self.max_lag)} min"
        return f"refreshed daily by {self.deadline:%H:%M} UTC"

    def freshness_policy(self) -> FreshnessPolicy | None:
        """The same promise as a native Dagster ``FreshnessPolicy``, where one can say it.

        A deadline is a cron policy, judged by the same rule as :func:`evaluate_sla`. A lag
        promise has no native form: Dagster's ``time_window`` policy fails an asset that has
        not materialized for the window, i.e. it calls a quiet source late. Lag layers
        therefore show their freshness through the ``freshness_sla`` check alone, so the UI
        never shows two verdicts that disagree.
        """
        if self.kind == "lag":
            return None
        assert self.deadline is not None
        cron = f"{self.deadline.minute} {self.deadline.hour} * * *"
        return FreshnessPolicy.cron(deadline_cron=cron, lower_bound_delta=self.lower_bound)


@dataclass(frozen=True)
class SlaEvaluation:
    """One row of ``monitoring.sla_metrics``: expected vs actual freshness at ``evaluated_at``."""

    table_name: str
    evaluated_at: dt.datetime
    expected_freshness_minutes: float
    actual_freshness_minutes: float | None
    sla_met: bool
    last_update: dt.datetime | None
    reason: str


def layer_policies(settings: OperationsSettings) -> dict[str, SlaPolicy]:
    """The configured SLA of every table layer (bronze through vector index)."""
    hour, minute = (int(part) for part in settings.gold_deadline.split(":"))
    warn, error = AssetCheckSeverity.WARN, AssetCheckSeverity.ERROR
    return {
        "bronze": SlaPolicy(
            "bronze", "lag", warn, max_lag=dt.timedelta(minutes=settings.bronze_sla_minutes)
        ),
        "silver": SlaPolicy(
            "silver", "lag", warn, max_lag=dt.timedelta(minutes=settings.silver_sla_minutes)
        ),
        # Gold feeds the morning's dashboards: a miss there is what pages someone. The refresh
        # must fall between midnight UTC and the deadline (at least an hour), so a job that
        # finishes 30 minutes late every day misses every day.
        "gold": SlaPolicy(
            "gold",
            "deadline",
            error,
            deadline=dt.time(hour, minute),
            lower_bound=max(dt.timedelta(hours=hour, minutes=minute), dt.timedelta(hours=1)),
        ),
        "features": SlaPolicy(
            "features", "lag", warn, max_lag=dt.timedelta(minutes=settings.features_sla_minutes)
        ),
        "vector_index": SlaPolicy(
            "vector_index",
            "lag",
            warn,
            max_lag=dt.timedelta(minutes=settings.vector_index_sla_minutes),
        ),
    }


def policy_layers() -> tuple[str, ...]:
    """The layers that have an SLA (whatever its configured values)."""
    return tuple(layer_policies(OperationsSettings.from_env({})))


def last_deadline(deadline: dt.time, now: dt.datetime) -> dt.datetime:
    """The most recent instant at or before ``now`` that the daily ``deadline`` (UTC) fell."""
    now = now.astimezone(dt.UTC)
    today = dt.datetime.combine(now.date(), deadline, tzinfo=dt.UTC)
    return today if today <= now else today - dt.timedelta(days=1)


def evaluate_sla(
    table_name: str,
    policy: SlaPolicy,
    *,
    now: dt.datetime,
    last_update: dt.datetime | None,
    pending_since: dt.datetime | None,
) -> SlaEvaluation:
    """Judge one table against its layer's policy.

    Args:
        last_update: When the table was last materialized (None: never).
        pending_since: The oldest upstream change not yet reflected in the table (None: none);
            only lag policies use it.
    """
    _require_utc(now, "now")
    if policy.kind == "lag":
        assert policy.max_lag is not None
        expected = _minutes(policy.max_lag)
        lag = _minutes(now - pending_since) if pending_since is not None else 0.0
        met = lag <= expected
        reason = (
            "nothing pending upstream"
            if pending_since is None
            else f"oldest unprocessed upstream change is {lag:.1f} min old (SLA {expected:.0f} min)"
        )
        return SlaEvaluation(table_name, now, expected, lag, met, last_update, reason)
    assert policy.deadline is not None
    window_start = last_deadline(policy.deadline, now) - policy.lower_bound
    expected = _minutes(now - window_start)
    if last_update is None:
        return SlaEvaluation(table_name, now, expected, None, False, None, "never materialized")
    age = _minutes(now - last_update)
    met = last_update >= window_start
    reason = (
        f"refreshed {age:.1f} min ago"
        if met
        else f"last refresh {age:.1f} min ago is before {window_start:%Y-%m-%d %H:%M} UTC, "
        f"so the {policy.deadline:%H:%M} UTC deadline was missed"
    )
    return SlaEvaluation(table_name, now, expected, age, met, last_update, reason)


def _minutes(delta: dt.timedelta | None) -> float:
    assert delta is not None
    return round(delta.total_seconds() / 60, 2)


def _require_utc(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {moment!r}")
