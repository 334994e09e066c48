"""The alert outbox: what the alert sensor decided to send, until Slack or PagerDuty took it.

The sensor decides once per finished run (the incident book opens, repeats and resolves) and
puts the messages it decided on here; delivery is a separate step that can fail and be tried
again without deciding anything twice. So a message is sent **exactly once** when the service
answers at all: a refusal (HTTP 429, a 5xx, an HTML error page, Slack's ``ok: false``) leaves it
pending and nothing else is sent again.

* **Order.** Per service, messages go out in the order they were decided: a Slack reply waits
  for the message that opens its thread, a PagerDuty resolve for its trigger. A refused message
  holds back the later ones of its service (not the other service's) until its next attempt.
* **Backoff.** The next attempt waits what the service asked (``Retry-After``) or an
  exponential backoff (30 s doubling, at most 10 minutes).
* **Giving up** is visible, never only a log line: a message refused permanently (a revoked
  token, an unknown channel, an invalid event) or for longer than ``give_up_after`` becomes
  *undeliverable*: kept in :attr:`Outbox.undeliverable` (``lakehouse alerts`` prints it, every
  tick's message counts it), and announced through the other service when it is configured
  (a PagerDuty incident "alerts to Slack are not delivered", or a Slack message when PagerDuty
  refuses), resolved once the service takes a message again.

Pure: no I/O here (the sensor owns the clock and the clients), everything JSON-serializable for
the sensor's cursor.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Service = Literal["slack", "pagerduty"]
SERVICES: tuple[Service, ...] = ("slack", "pagerduty")
FIRST_BACKOFF_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 600.0
UNDELIVERABLE_KEPT = 50


@dataclass
class Notification:
    """One message for one service."""

    id: str
    service: Service
    subject: str  # what it is about (kind, asset, check): no personal data, no secrets
    created_at: float
    text: str | None = None  # Slack
    thread: str | None = None  # Slack: the dedup key whose thread it replies in
    opens_thread: str | None = None  # Slack: the dedup key whose thread it starts
    event: dict[str, Any] | None = None  # PagerDuty Events API v2
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""


@dataclass(frozen=True)
class Refused:
    """A service's refusal of one attempt."""

    reason: str
    permanent: bool = False
    retry_after: float | None = None


@dataclass
class Outbox:
    """Pending messages, Slack thread heads, and what could not be delivered."""

    pending: list[Notification] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)  # dedup key -> Slack ts
    undeliverable: list[dict[str, Any]] = field(default_factory=list)
    degraded: dict[str, str] = field(default_factory=dict)  # service -> reason it is failing
    sequence: int = 0

    def add(self, notification: Notification) -> None:
        self.pending.append(notification)

    def next_id(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}:{self.sequence}"

    def due(self, now: float) -> list[Notification]:
        """The messages to attempt now: per service, the pending ones in order up to the
        first that is waiting for its next attempt."""
        blocked: set[str] = set()
        due = []
        for notification in self.pending:
            if notification.service in blocked:
                continue
            if notification.next_attempt_at > now:
                blocked.add(notification.service)
                continue
            due.append(notification)
        return due

    def delivered(self, notification: Notification, slack_ts: str | None = None) -> None:
        """``notification`` was taken by its service (``slack_ts``: the message's ts)."""
        self.pending = [n for n in self.pending if n.id != notification.id]
        if notification.opens_thread and slack_ts:
            self.threads[notification.opens_thread] = slack_ts

    def refused(
        self,
        notification: Notification,
        refusal: Refused,
        now: float,
        give_up_after: float,
        first_backoff: float = FIRST_BACKOFF_SECONDS,
    ) -> bool:
        """Record a refused attempt; True if the message is given up (undeliverable)."""
        notification.attempts += 1
        notification.last_error = refusal.reason
        if refusal.permanent or now - notification.created_at >= give_up_after:
            self.pending = [n for n in self.pending if n.id != notification.id]
            self.undeliverable.append(
                {
                    "id": notification.id,
                    "service": notification.service,
                    "subject": notification.subject,
                    "attempts": notification.attempts,
                    "error": refusal.reason,
                    "decided_at": notification.created_at,
                    "given_up_at": now,
                }
            )
            del self.undeliverable[:-UNDELIVERABLE_KEPT]
            return True
        backoff = min(MAX_BACKOFF_SECONDS, first_backoff * 2 ** (notification.attempts - 1))
        wait = refusal.retry_after if refusal.retry_after is not None else backoff
        notification.next_attempt_at = now + wait
        return False

    def thread_ts(self, notification: Notification) -> str | None:
        """The Slack ts to reply under (None: post at the top level, e.g. when the message
        that opened the thread was undeliverable)."""
        return self.threads.get(notification.thread) if notification.thread else None

    def forget_thread(self, dedup_key: str) -> None:
        """The incident is resolved and its replies sent: its thread head is not needed."""
        if not any(n.thread == dedup_key for n in self.pending):
            self.threads.pop(dedup_key, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "pending": [asdict(n) for n in self.pending],
            "threads": self.threads,
            "undeliverable": self.undeliverable,
            "degraded": self.degraded,
            "sequence": self.sequence,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Outbox:
        data = data or {}
        return cls(
            pending=[Notification(**n) for n in data.get("pending", [])],
            threads=dict(data.get("threads", {})),
            undeliverable=list(data.get("undeliverable", [])),
            degraded=dict(data.get("degraded", {})),
            sequence=int(data.get("sequence", 0)),
        )


def describe_outbox(outbox: Outbox, now: float) -> list[str]:
    """Lines for on-call: the alerts waiting for a retry, then the undeliverable ones."""
    lines = [f"{len(outbox.pending)} alerts waiting for a retry"]
    for n in outbox.pending:
        wait = max(0.0, n.next_attempt_at - now)
        lines.append(
            f"  {n.service:9} {n.subject} - {n.attempts} attempts, next in {wait:.0f}s"
            + (f" ({n.last_error})" if n.last_error else "")
        )
    lines.append(f"{len(outbox.undeliverable)} alerts undeliverable")
    for lost in outbox.undeliverable:
        given_up = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(lost["given_up_at"]))
        lines.append(
            f"  {lost['service']:9} {lost['subject']} - gave up {given_up} UTC after "
            f"{lost['attempts']} attempts: {lost['error']}"
        )
    return lines
