"""Local HTTP servers speaking the Slack Web API and the PagerDuty Events API v2.

They implement what the lakehouse relies on, with the real services' validation and answers:

* Slack ``POST /api/chat.postMessage`` - bearer-token auth (``not_authed`` / ``invalid_auth``),
  a known channel (``channel_not_found``), text required (``no_text``), ``thread_ts`` must name
  a message of the channel (``thread_not_found``); success returns ``ok``, ``channel``, ``ts``
  and the ``message``.
* PagerDuty ``POST /v2/enqueue`` - a 32-character routing key, ``event_action`` trigger /
  acknowledge / resolve, trigger payloads with summary, source and a valid severity; invalid
  events get HTTP 400 ``invalid event`` with ``errors``; valid ones HTTP 202 with the dedup key.
  Incidents follow PagerDuty's dedup semantics: a trigger for an open dedup key adds an alert
  to the open incident (no new page); a resolve closes it.

Every request is recorded (path, headers, parsed body) so tests assert exactly what was sent.

Like the real services, either can refuse for a while (:meth:`_JsonServer.refuse_next`): HTTP 429
with ``Retry-After`` (Slack's ``ratelimited`` body, PagerDuty's ``throttle event``), HTTP 500
with an HTML page instead of JSON, or HTTP 200 with Slack's ``{"ok": false, ...}`` error. A
refused request is recorded and changes nothing (no message, no incident).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PD_SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class SlackMessage:
    channel: str
    text: str
    ts: str
    thread_ts: str | None


@dataclass
class PagerDutyIncident:
    dedup_key: str
    status: str
    summary: str
    severity: str
    alerts: int = 1


@dataclass(frozen=True)
class Refusal:
    """One answer a server gives instead of handling a request."""

    status: int
    body: str  # sent as is: JSON, or an HTML error page
    headers: tuple[tuple[str, str], ...] = ()


SERVER_ERROR_PAGE = "<html><body><h1>500 Internal Server Error</h1></body></html>"


class _JsonServer:
    """A threaded HTTP server on an ephemeral localhost port."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.refusals: list[Refusal] = []
        self.refused = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                content_type = self.headers.get("Content-Type", "")
                if "application/json" in content_type:
                    body = json.loads(raw or "{}")
                else:
                    body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                headers: tuple[tuple[str, str], ...] = ()
                with owner.lock:
                    owner.requests.append(Recorded(self.path, dict(self.headers), body))
                    if owner.refusals:
                        refusal = owner.refusals.pop(0)
                        owner.refused += 1
                        status, payload = refusal.status, refusal.body.encode()
                        headers = refusal.headers
                    else:
                        status, answer = owner.handle(self.path, dict(self.headers), body)
                        payload = json.dumps(answer).encode()
                html = payload.startswith(b"<")
                self.send_response(status)
                self.send_header(
                    "Content-Type", "text/html" if html else "application/json; charset=utf-8"
                )
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def handle(self, path: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        raise NotImplementedError

    def refuse_next(self, *refusals: Refusal) -> None:
        """Answer the next requests with ``refusals``, in order, then serve normally."""
        with self.lock:
            self.refusals.extend(refusals)

    def rate_limited(self, retry_after: int = 1) -> Refusal:
        raise NotImplementedError

    def server_error(self) -> Refusal:
        """HTTP 500 with an HTML page (not JSON), as a proxy in front of a service sends."""
        return Refusal(500, SERVER_ERROR_PAGE)

    def __enter__(self) -> _JsonServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class SlackWebApiServer(_JsonServer):
    def __init__(self, token: str, channels: tuple[str, ...]) -> None:
        super().__init__()
        self.token = token
        self.channels = {name: f"C{index:08d}" for index, name in enumerate(channels, 1)}
        self.messages: list[SlackMessage] = []
        self._clock = 1_790_000_000

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def handle(self, path: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        if path != "/api/chat.postMessage":
            return 404, {"ok": False, "error": "unknown_method"}
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth.removeprefix("Bearer ").strip() if auth else body.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}
        channel = body.get("channel")
        if channel not in self.channels and channel not in self.channels.values():
            return 200, {"ok": False, "error": "channel_not_found"}
        text = body.get("text")
        if not text and not body.get("blocks"):
            return 200, {"ok": False, "error": "no_text"}
        thread_ts = body.get("thread_ts")
        if thread_ts and not any(m.ts == thread_ts for m in self.messages):
            return 200, {"ok": False, "error": "thread_not_found"}
        self._clock += 1
        ts = f"{self._clock}.000100"
        self.messages.append(SlackMessage(channel, text, ts, thread_ts))
        message = {"type": "message", "user": "U0LAKEHOUSE", "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        return 200, {
            "ok": True,
            "channel": self.channels.get(channel, channel),
            "ts": ts,
            "message": message,
        }

    def rate_limited(self, retry_after: int = 1) -> Refusal:
        """Slack's answer to too many messages: HTTP 429, ``Retry-After`` in seconds."""
        body = json.dumps({"ok": False, "error": "ratelimited"})
        return Refusal(429, body, (("Retry-After", str(retry_after)),))

    def error(self, code: str) -> Refusal:
        """Slack's refusal of the call: HTTP 200 with ``{"ok": false, "error": code}``."""
        return Refusal(200, json.dumps({"ok": False, "error": code}))

    def top_level(self) -> list[SlackMessage]:
        return [m for m in self.messages if m.thread_ts is None]


class PagerDutyEventsServer(_JsonServer):
    def __init__(self, routing_key: str) -> None:
        super().__init__()
        self.routing_key = routing_key
        self.incidents: dict[str, PagerDutyIncident] = {}
        self.pages = 0  # incidents opened = times someone was paged

    def handle(self, path: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        if path != "/v2/enqueue":
            return 404, {"status": "not found", "message": "Not Found"}
        errors = self._validate(body)
        if errors:
            return 400, {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": errors,
            }
        action, key = body["event_action"], body.get("dedup_key") or uuid.uuid4().hex
        incident = self.incidents.get(key)
        if action == "trigger":
            payload = body["payload"]
            if incident is None or incident.status == "resolved":
                self.incidents[key] = PagerDutyIncident(
                    key, "triggered", payload["summary"], payload["severity"]
                )
                self.pages += 1
            else:
                incident.alerts += 1
        elif incident is not None:
            incident.status = "resolved" if action == "resolve" else "acknowledged"
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}

    def _validate(self, body: dict) -> list[str]:
        errors = []
        if body.get("routing_key") != self.routing_key or len(str(body.get("routing_key"))) != 32:
            errors.append("'routing_key' is invalid")
        action = body.get("event_action")
        if action not in {"trigger", "acknowledge", "resolve"}:
            errors.append("'event_action' is invalid")
        if action in {"acknowledge", "resolve"} and not body.get("dedup_key"):
            errors.append("'dedup_key' is missing or blank")
        if len(str(body.get("dedup_key") or "")) > 255:
            errors.append("'dedup_key' is too long")
        if action == "trigger":
            payload = body.get("payload") or {}
            for name in ("summary", "source", "severity"):
                if not payload.get(name):
                    errors.append(f"'payload.{name}' is missing or blank")
            if payload.get("severity") and payload["severity"] not in PD_SEVERITIES:
                errors.append("'payload.severity' is invalid")
            if len(str(payload.get("summary") or "")) > 1024:
                errors.append("'payload.summary' is too long")
        return errors

    def rate_limited(self, retry_after: int = 1) -> Refusal:
        """PagerDuty's throttling answer: HTTP 429 (it sends no ``Retry-After``)."""
        body = json.dumps(
            {
                "status": "throttle event",
                "message": "Requests for this service are arriving too quickly. Please retry "
                "later.",
            }
        )
        return Refusal(429, body)

    def events(self) -> list[dict]:
        return [r.body for r in self.requests]


@dataclass
class AlertEnvironment:
    """Both servers plus the environment variables that point the lakehouse at them."""

    slack: SlackWebApiServer
    pagerduty: PagerDutyEventsServer
    environ: dict[str, str] = field(default_factory=dict)
