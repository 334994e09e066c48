"""Slack and PagerDuty, as Dagster resources. Each is off when its secret is unset.

* ``SlackAlerts`` is dagster-slack's ``SlackResource`` with a configurable Web API base URL
  (tests point it at a local server that speaks the Slack Web API) and the alert channel.
* ``PagerDutyEvents`` posts Events API v2 events to ``<base_url>/v2/enqueue``.

Delivery errors raise ``AlertDeliveryError`` naming the service and its answer - never the
token or routing key.
"""

from typing import Any

import requests
from dagster import ConfigurableResource
from dagster_slack import SlackResource
from pydantic import Field
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from lakehouse_assets.settings import DEFAULT_PAGERDUTY_BASE_URL, DEFAULT_SLACK_BASE_URL

REQUEST_TIMEOUT_SECONDS = 10


# Slack errors that no retry fixes: the token, the channel or the message is wrong.
SLACK_PERMANENT_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "no_text",
        "msg_too_long",
        "invalid_arguments",
    }
)


class AlertDeliveryError(RuntimeError):
    """Slack or PagerDuty refused (or did not answer) an alert.

    ``permanent``: retrying cannot help (a revoked token, an unknown channel, an invalid
    event); ``retry_after``: the seconds the service asked to wait (HTTP 429)."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


def retry_after_seconds(headers: Any) -> float | None:
    """The ``Retry-After`` header in seconds (None: absent or not a number of seconds)."""
    value = None
    if headers is not None:
        value = headers.get("Retry-After") or headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class SlackAlerts(SlackResource):
    """Posts alert messages to one channel through the Slack Web API (``chat.postMessage``)."""

    token: str | None = Field(  # type: ignore[assignment]
        default=None, description="Bot token (xoxb-...); alerts to Slack are off when unset."
    )
    channel: str = Field(default="#lakehouse-alerts", description="Channel for alerts.")
    base_url: str = Field(default=DEFAULT_SLACK_BASE_URL, description="Slack Web API base URL.")

    @property
    def enabled(self) -> bool:
        return bool(self.token)

    def get_client(self) -> WebClient:
        base = self.base_url if self.base_url.endswith("/") else f"{self.base_url}/"
        return WebClient(token=self.token, base_url=base, timeout=REQUEST_TIMEOUT_SECONDS)

    def post(self, text: str, thread_ts: str | None = None) -> str:
        """Post ``text`` (in the thread ``thread_ts`` if given); returns the message's ts."""
        try:
            response = self.get_client().chat_postMessage(
                channel=self.channel, text=text, thread_ts=thread_ts, unfurl_links=False
            )
        except SlackApiError as error:
            response = error.response
            code = response.get("error") if isinstance(response.data, dict) else None
            status = response.status_code
            raise AlertDeliveryError(
                f"Slack chat.postMessage failed: HTTP {status} {code or str(response.data)[:200]}",
                permanent=code in SLACK_PERMANENT_ERRORS,
                retry_after=retry_after_seconds(response.headers),
            ) from None
        except OSError as error:
            raise AlertDeliveryError(f"Slack unreachable at {self.base_url}: {error}") from None
        return str(response["ts"])


class PagerDutyEvents(ConfigurableResource):
    """Sends PagerDuty Events API v2 events (trigger / resolve) for one service."""

    routing_key: str | None = Field(
        default=None, description="Integration key of the service; paging is off when unset."
    )
    base_url: str = Field(default=DEFAULT_PAGERDUTY_BASE_URL, description="Events API base URL.")

    @property
    def enabled(self) -> bool:
        return bool(self.routing_key)

    def send(self, event: dict[str, Any]) -> str:
        """Enqueue ``event``; returns the dedup key PagerDuty acknowledged."""
        url = f"{self.base_url.rstrip('/')}/v2/enqueue"
        try:
            response = requests.post(url, json=event, timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise AlertDeliveryError(f"PagerDuty unreachable at {url}: {error}") from None
        if response.status_code != 202:
            # 400: the event is invalid (or the routing key unknown), no retry fixes it; 429
            # (throttled) and 5xx are PagerDuty's "try again later".
            raise AlertDeliveryError(
                f"PagerDuty rejected a {event.get('event_action')} event: "
                f"HTTP {response.status_code} {response.text[:300]}",
                permanent=response.status_code in (400, 401, 403, 404),
                retry_after=retry_after_seconds(response.headers),
            )
        return str(response.json()["dedup_key"])
