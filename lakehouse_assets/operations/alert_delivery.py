"""What the alert sensor sends: decisions into the outbox, and the outbox's delivery.

:class:`AlertRouter` turns the incident book's decisions (open, repeat, escalate, resolve) into
messages in the outbox (``outbox.py``), then delivers the due ones in order, each exactly once.
When a service stops taking messages for good, the other service says so (and says when it
takes them again): on-call never learns of lost alerts from a log alone.
"""

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lakehouse_assets.operations.alerts import (
    Alert,
    Recovery,
    one_line_reason,
    pagerduty_resolve,
    pagerduty_trigger,
    slack_alert_text,
    slack_repeat_text,
    slack_resolved_text,
)
from lakehouse_assets.operations.incidents import Action, IncidentBook
from lakehouse_assets.operations.notifiers import (
    AlertDeliveryError,
    PagerDutyEvents,
    SlackAlerts,
)
from lakehouse_assets.operations.outbox import Notification, Outbox, Refused

# The dedup key of the incident that says alerts to a service are not being delivered.
DELIVERY_INCIDENT = "lakehouse:alert-delivery:{service}"

Observation = Alert | Recovery


@dataclass
class AlertRouter:
    """Decides what the incident book says to send, into the outbox, and delivers it."""

    slack: SlackAlerts
    pagerduty: PagerDutyEvents
    ui_url: str
    book: IncidentBook = field(default_factory=IncidentBook)
    outbox: Outbox = field(default_factory=Outbox)
    now: float = field(default_factory=time.time)
    sent: int = 0

    def route(self, observations: Iterable[Observation]) -> None:
        for observation in observations:
            if isinstance(observation, Alert):
                action = self.book.observe_problem(observation)
                self._decide_problem(action, observation)
            else:
                resolved = self.book.observe_recovery(observation)
                if resolved is not None:
                    self._decide_resolve(resolved, observation)

    def _decide_problem(self, action: Action, alert: Alert) -> None:
        key = alert.dedup_key
        if action.kind == "quiet_repeat":
            return
        if self.slack.enabled:
            if action.kind == "open":
                text = slack_alert_text(alert, self.ui_url)
                self._slack(f"{action.kind} {alert.subject}", text, opens_thread=key)
            else:
                text = slack_repeat_text(alert, self.ui_url)
                self._slack(f"{action.kind} {alert.subject}", text, thread=key)
        if action.page and self.pagerduty.enabled:
            assert self.pagerduty.routing_key is not None
            event = pagerduty_trigger(alert, self.pagerduty.routing_key, self.ui_url)
            self._page(f"trigger {alert.subject}", event)

    def _decide_resolve(self, action: Action, recovery: Recovery) -> None:
        if action.page and self.pagerduty.enabled:
            assert self.pagerduty.routing_key is not None
            event = pagerduty_resolve(recovery.dedup_key, self.pagerduty.routing_key)
            self._page(f"resolve {recovery.dedup_key}", event)
        if self.slack.enabled:
            text = slack_resolved_text(recovery, self.ui_url)
            self._slack(f"resolve {recovery.dedup_key}", text, thread=recovery.dedup_key)

    def _slack(
        self, subject: str, text: str, thread: str | None = None, opens_thread: str | None = None
    ) -> None:
        self.outbox.add(
            Notification(
                self.outbox.next_id("slack"),
                "slack",
                subject,
                self.now,
                text=text,
                thread=thread,
                opens_thread=opens_thread,
            )
        )

    def _page(self, subject: str, event: dict[str, Any]) -> None:
        self.outbox.add(
            Notification(
                self.outbox.next_id("pagerduty"), "pagerduty", subject, self.now, event=event
            )
        )

    def deliver(self, give_up_after: float, first_backoff: float = 30.0) -> list[dict[str, Any]]:
        """Attempt every due message in order; return those given up on this time."""
        given_up = []
        refused_now: set[str] = set()  # a refusal holds back the service's later messages
        for notification in self.outbox.due(self.now):
            if notification.service in refused_now:
                continue
            try:
                self._send(notification)
            except AlertDeliveryError as error:
                refusal = Refused(str(error), error.permanent, error.retry_after)
                refused_now.add(notification.service)
                if self.outbox.refused(
                    notification, refusal, self.now, give_up_after, first_backoff
                ):
                    given_up.append(self.outbox.undeliverable[-1])
                    self._announce_failing(notification.service, str(error))
                continue
            self.sent += 1
            self._announce_recovered(notification.service)
        return given_up

    def _send(self, notification: Notification) -> None:
        if notification.service == "slack":
            assert notification.text is not None
            ts = self.slack.post(notification.text, self.outbox.thread_ts(notification))
            self.outbox.delivered(notification, ts)
        else:
            assert notification.event is not None
            self.pagerduty.send(notification.event)
            self.outbox.delivered(notification)

    def _announce_failing(self, service: str, reason: str) -> None:
        """Tell on-call through the other service that alerts to ``service`` are lost."""
        if service in self.outbox.degraded:
            return
        self.outbox.degraded[service] = reason
        summary = (
            f"Lakehouse alerts to {service} are not delivered ({one_line_reason(reason)}); "
            "see `lakehouse alerts` for what was lost"
        )
        if service == "slack" and self.pagerduty.enabled:
            assert self.pagerduty.routing_key is not None
            self._page(f"delivery {service}", _delivery_trigger(service, summary, self.pagerduty))
        elif service == "pagerduty" and self.slack.enabled:
            self._slack(f"delivery {service}", f":rotating_light: {summary}")

    def _announce_recovered(self, service: str) -> None:
        if self.outbox.degraded.pop(service, None) is None:
            return
        if service == "slack" and self.pagerduty.enabled:
            assert self.pagerduty.routing_key is not None
            key = DELIVERY_INCIDENT.format(service=service)
            self._page(f"delivery {service}", pagerduty_resolve(key, self.pagerduty.routing_key))
        elif service == "pagerduty" and self.slack.enabled:
            self._slack(
                f"delivery {service}",
                f":white_check_mark: Alerts to {service} are delivered again.",
            )


def _delivery_trigger(service: str, summary: str, pagerduty: PagerDutyEvents) -> dict[str, Any]:
    return {
        "routing_key": pagerduty.routing_key,
        "event_action": "trigger",
        "dedup_key": DELIVERY_INCIDENT.format(service=service),
        "payload": {"summary": summary, "source": "lakehouse_alert_router", "severity": "error"},
    }
