"""The alert outbox's rules (order, backoff, giving up), pure: no services, no Dagster."""

from __future__ import annotations

from lakehouse_assets.operations.outbox import Notification, Outbox, Refused


def note(outbox: Outbox, service: str, **kwargs) -> Notification:  # type: ignore[no-untyped-def]
    notification = Notification(outbox.next_id(service), service, "subject", 0.0, **kwargs)  # type: ignore[arg-type]
    outbox.add(notification)
    return notification


def test_a_refused_message_holds_back_its_service_only_in_order():
    outbox = Outbox()
    first, second = note(outbox, "slack", text="a"), note(outbox, "slack", text="b")
    page = note(outbox, "pagerduty", event={})
    assert outbox.due(0.0) == [first, second, page]
    assert not outbox.refused(first, Refused("HTTP 500"), now=0.0, give_up_after=3600)
    assert outbox.due(1.0) == [page]  # the Slack messages wait for the first one's retry
    assert outbox.due(30.0) == [first, second, page]
    assert not outbox.refused(first, Refused("HTTP 429", retry_after=5), 30.0, 3600)
    assert first.next_attempt_at == 35.0  # the service's Retry-After wins over the backoff
    assert not outbox.refused(first, Refused("HTTP 500"), 35.0, 3600)
    assert first.next_attempt_at == 35.0 + 120  # 30 s doubling: third refusal waits 120 s


def test_a_reply_threads_under_its_opening_message_or_posts_alone_if_that_was_lost():
    outbox = Outbox()
    opening = note(outbox, "slack", text="open", opens_thread="k")
    reply = note(outbox, "slack", text="reply", thread="k")
    outbox.delivered(opening, slack_ts="1.1")
    assert outbox.thread_ts(reply) == "1.1"
    lost = Outbox()
    opening = note(lost, "slack", text="open", opens_thread="k")
    reply = note(lost, "slack", text="reply", thread="k")
    assert lost.refused(opening, Refused("invalid_auth", permanent=True), 0.0, 3600)
    assert lost.pending == [reply] and lost.thread_ts(reply) is None


def test_a_message_is_given_up_when_refused_for_good_or_for_too_long():
    outbox = Outbox()
    message = note(outbox, "pagerduty", event={})
    assert not outbox.refused(message, Refused("HTTP 503"), now=10.0, give_up_after=60)
    assert outbox.refused(message, Refused("HTTP 503"), now=60.0, give_up_after=60)
    [lost] = outbox.undeliverable
    assert (lost["service"], lost["attempts"], lost["error"]) == ("pagerduty", 2, "HTTP 503")
    assert outbox.pending == []
    restored = Outbox.from_json(outbox.to_json())
    assert restored.undeliverable == outbox.undeliverable and restored.sequence == 1
