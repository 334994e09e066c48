"""Freshness SLAs per layer and their evaluation: pure date math, no Dagster instance, no Spark.

Two kinds of promise:

* **lag** (bronze, silver, features, vector index): new upstream data - a landed file, an
  upstream materialization - is reflected within ``max_lag``. The lag is measured from the
  oldest upstream change the table has not caught up with yet. And the table changes at least
  every ``cadence`` (plus its lag): the sources land a daily extract, so a table that has not
  changed for a day and its lag is stale because a source missed its day, even with nothing
  pending (a snapshot source, which lands only when it changes, has a cadence of weeks).
* **deadline** (gold): refreshed every day by ``HH:MM`` UTC. At any instant the table must
  have been updated after the start of the window ending at the most recent deadline
  (``deadline - lower_bound``): by default gold must be refreshed between 00:00 and 07:00 UTC
  (a refresh after the deadline counts from then on).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
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
    cadence: dt.timedelta | None = None

    def __post_init__(self) -> None:
        if self.kind == "lag" and (self.max_lag is None or self.max_lag <= dt.timedelta(0)):
            raise ValueError(f"{self.layer}: a lag SLA needs a positive max_lag")
        if self.kind == "lag" and (self.cadence is None or self.cadence <= dt.timedelta(0)):
            raise ValueError(f"{self.layer}: a lag SLA needs a positive cadence")
        if self.kind == "deadline" and self.deadline is None:
            raise ValueError(f"{self.layer}: a deadline SLA needs a deadline time")

    def describe(self) -> str:
        if self.kind == "lag":
            return (
                f"upstream changes reflected within {_minutes(self.max_lag):g} min, "
                f"changed at least every {_hours(self.stale_after):g} h"
            )
        return f"refreshed daily by {self.deadline:%H:%M} UTC"

    @property
    def stale_after(self) -> dt.timedelta:
        """A lag table unchanged for this long is stale: its cadence plus its lag."""
        assert self.cadence is not None and self.max_lag is not None
        return self.cadence + self.max_lag

    def freshness_policy(self) -> FreshnessPolicy:
        """The same promise as a native Dagster ``FreshnessPolicy``, as near as one can say it.

        A deadline is a cron policy, judged by the same rule as :func:`evaluate_sla`. A lag
        promise is a ``time_window`` of its cadence plus its lag: the half of the promise
        Dagster can judge from the table's own materializations. The other half, a pending
        upstream change older than the lag, needs the landing zone and the upstream tables,
        so only the ``freshness_sla`` check sees it: the check can fail while the native
        policy passes, never the other way round.
        """
        if self.kind == "lag":
            return FreshnessPolicy.time_window(fail_window=self.stale_after)
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
    warn = AssetCheckSeverity.WARN
    daily = dt.timedelta(minutes=settings.sla_cadence_minutes)

    def lag(layer: str, minutes: int) -> SlaPolicy:
        return SlaPolicy(layer, "lag", warn, max_lag=dt.timedelta(minutes=minutes), cadence=daily)

    return {
        "bronze": lag("bronze", settings.bronze_sla_minutes),
        "silver": lag("silver", settings.silver_sla_minutes),
        # Gold feeds the morning's dashboards: a miss there is what pages someone.
        "gold": daily_deadline("gold", settings, AssetCheckSeverity.ERROR),
        "features": lag("features", settings.features_sla_minutes),
        "vector_index": lag("vector_index", settings.vector_index_sla_minutes),
    }


def daily_deadline(
    layer: str, settings: OperationsSettings, severity: AssetCheckSeverity
) -> SlaPolicy:
    """Refreshed every day between midnight UTC and ``gold_deadline`` (at least an hour), so a
    job that finishes 30 minutes late every day misses every day."""
    hour, minute = (int(part) for part in settings.gold_deadline.split(":"))
    return SlaPolicy(
        layer,
        "deadline",
        severity,
        deadline=dt.time(hour, minute),
        lower_bound=max(dt.timedelta(hours=hour, minutes=minute), dt.timedelta(hours=1)),
    )


def snapshot_source_policy(settings: OperationsSettings) -> SlaPolicy:
    """A snapshot source's bronze table (reference data landing when it changes): bronze's lag,
    and stale when its newest snapshot is ``snapshot_sla_days`` old."""
    bronze = layer_policies(settings)["bronze"]
    return replace(bronze, cadence=dt.timedelta(days=settings.snapshot_sla_days))


def monitoring_policy(settings: OperationsSettings) -> SlaPolicy:
    """The monitoring tables (data dictionary, pipeline runs): refreshed by the daily job ahead
    of gold's deadline (``pipeline_runs`` also every 30 minutes), so gold's deadline, at WARN:
    a stale dictionary misleads, it does not stop the dashboards."""
    return daily_deadline("monitoring", settings, AssetCheckSeverity.WARN)


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
        return _evaluate_lag(table_name, policy, now, last_update, pending_since)
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


def _evaluate_lag(
    table_name: str,
    policy: SlaPolicy,
    now: dt.datetime,
    last_update: dt.datetime | None,
    pending_since: dt.datetime | None,
) -> SlaEvaluation:
    """Both halves of a lag promise: nothing pending for longer than the lag, and a change
    within the cadence. A table never materialized is not judged by its cadence (Dagster's
    native policy calls it unknown too): before the first landing nothing is late."""
    assert policy.max_lag is not None
    expected = _minutes(policy.max_lag)
    lag = _minutes(now - pending_since) if pending_since is not None else 0.0
    reasons = []
    if pending_since is not None and lag > expected:
        reasons.append(f"oldest unprocessed upstream change is {lag:.1f} min old")
    if last_update is not None and now - last_update > policy.stale_after:
        reasons.append(
            f"unchanged for {_hours(now - last_update):.1f} h, more than its "
            f"{_hours(policy.stale_after):g} h: did a source miss its day?"
        )
    if reasons:
        reason = f"{'; '.join(reasons)} (SLA {expected:.0f} min)"
    elif pending_since is None:
        reason = "nothing pending upstream"
    else:
        reason = f"oldest unprocessed upstream change is {lag:.1f} min old (SLA {expected:.0f} min)"
    return SlaEvaluation(table_name, now, expected, lag, not reasons, last_update, reason)


def _hours(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _minutes(delta: dt.timedelta | None) -> float:
    assert delta is not None
    return round(delta.total_seconds() / 60, 2)


def _require_utc(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {moment!r}")
