"""The incident book: which problems are open, and what each observation should send. Pure.

The book turns a stream of problems and recoveries into notifications:

* a problem with no open incident opens one: a Slack message, and a PagerDuty trigger when
  critical;
* the same problem again (same dedup key) does not page again: the 2nd and 3rd occurrences
  are Slack thread replies, later ones every ``REPEAT_EVERY``-th (a table late for hours is
  re-evaluated every few minutes); a warning that escalates to critical pages once;
* a recovery of an open incident resolves it: a PagerDuty resolve if it paged, and a
  "resolved" reply in its Slack thread.

The book is JSON-serialisable; the alert sensor keeps it in its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from lakehouse_assets.operations.alerts import Alert, Recovery

ActionKind = Literal["open", "repeat", "quiet_repeat", "escalate", "resolve"]
REPEAT_EVERY = 12


@dataclass
class Incident:
    dedup_key: str
    severity: str
    paged: bool = False
    slack_ts: str | None = None
    occurrences: int = 1


@dataclass(frozen=True)
class Action:
    """What to send for one observation."""

    kind: ActionKind
    incident: Incident
    page: bool  # send a PagerDuty trigger (open/escalate) or resolve (resolve)


@dataclass
class IncidentBook:
    open: dict[str, Incident] = field(default_factory=dict)

    def observe_problem(self, alert: Alert) -> Action:
        critical = alert.severity == "critical"
        incident = self.open.get(alert.dedup_key)
        if incident is None:
            incident = Incident(alert.dedup_key, alert.severity, paged=critical)
            self.open[alert.dedup_key] = incident
            return Action("open", incident, page=critical)
        incident.occurrences += 1
        if critical and not incident.paged:
            incident.paged, incident.severity = True, "critical"
            return Action("escalate", incident, page=True)
        if incident.occurrences <= 3 or incident.occurrences % REPEAT_EVERY == 0:
            return Action("repeat", incident, page=False)
        return Action("quiet_repeat", incident, page=False)

    def observe_recovery(self, recovery: Recovery) -> Action | None:
        incident = self.open.pop(recovery.dedup_key, None)
        if incident is None:
            return None
        return Action("resolve", incident, page=incident.paged)

    def to_json(self) -> dict[str, Any]:
        return {key: vars(incident) for key, incident in sorted(self.open.items())}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> IncidentBook:
        return cls({key: Incident(**value) for key, value in (data or {}).items()})
