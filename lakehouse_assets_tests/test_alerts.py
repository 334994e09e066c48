"""Alerts end to end: real lakehouse runs, the alert sensor, and local Slack / PagerDuty servers.

Each test runs real assets against a temporary lakehouse in an ephemeral Dagster instance,
ticks the real alert sensor, and asserts the exact HTTP requests the servers received.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetMaterialization,
    DagsterEventType,
    DagsterInstance,
    build_sensor_context,
)

from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.monitoring.tables import SCHEMA_CHANGES, SLA_METRICS
from lakehouse_assets.operations.alert_router import ALERT_SENSOR_NAME
from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECKS_OP, FRESHNESS_JOB_NAME
from lakehouse_assets.resources import alerting_resources
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .alert_servers import PagerDutyEventsServer, SlackWebApiServer
from .lakehouse import materialize_day
from .landing_files import jsonl, land, order

DAY = dt.date(1992, 1, 2)
SLACK_TOKEN = "xoxb-1234-test-token"
ROUTING_KEY = "R0UT1NGKEY0000000000000000000001"
UI_URL = "http://dagster.example.test:3000"
CHANNEL = "#lakehouse-alerts"


@dataclass
class AlertHarness:
    settings: LakehouseSettings
    instance: DagsterInstance
    slack: SlackWebApiServer
    pagerduty: PagerDutyEventsServer
    landing: Path
    cursor: str | None = None

    def tick(self) -> str:
        """One evaluation of the real alert sensor; returns its skip message."""
        defs = build_definitions(self.settings)
        sensor = defs.resolve_sensor_def(ALERT_SENSOR_NAME)
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources=alerting_resources(self.settings.operations),
        )
        result = sensor(context)
        self.cursor = context.cursor
        return result.skip_message

    def materialize_orders(self) -> str:
        result = materialize_day(
            self.settings,
            DAY,
            selection="bronze_orders",
            raise_on_error=False,
            instance=self.instance,
        )
        return result.run_id


@pytest.fixture
def alerts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertHarness]:
    with (
        SlackWebApiServer(SLACK_TOKEN, channels=(CHANNEL,)) as slack,
        PagerDutyEventsServer(ROUTING_KEY) as pagerduty,
    ):
        environ = {
            "LAKEHOUSE_ROOT": str(tmp_path / "lh"),
            "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "landing"),
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "LAKEHOUSE_SLACK_CHANNEL": CHANNEL,
            "LAKEHOUSE_SLACK_BASE_URL": slack.api_url,
            "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
            "LAKEHOUSE_PAGERDUTY_BASE_URL": pagerduty.url,
            "LAKEHOUSE_DAGSTER_UI_URL": UI_URL,
        }
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        harness = AlertHarness(
            LakehouseSettings.from_env(),
            DagsterInstance.ephemeral(),
            slack,
            pagerduty,
            tmp_path / "landing",
        )
        harness.tick()  # the sensor starts before anything happens
        yield harness


def test_failure_pages_once_repeats_quietly_and_resolves_on_recovery(spark, alerts):
    # No landing folder: bronze_orders fails for good (a permanent error is not retried).
    failed_run = alerts.materialize_orders()
    restarts = alerts.instance.all_logs(failed_run, of_type=DagsterEventType.STEP_RESTARTED)
    assert restarts == []
    alerts.tick()

    [message] = alerts.slack.messages
    assert message.channel == CHANNEL and message.thread_ts is None
    assert "CRITICAL: Run failure" in message.text
    assert "*Asset:* `bronze_orders`" in message.text
    assert f"*Partition:* {DAY.isoformat()}" in message.text
    assert f"<{UI_URL}/runs/{failed_run}|{failed_run}>" in message.text
    assert "landing folder for source 'orders' does not exist" in message.text
    assert "docs/runbooks/pipeline_failure.md" in message.text
    [slack_request] = alerts.slack.requests
    assert slack_request.headers["Authorization"] == f"Bearer {SLACK_TOKEN}"
    assert SLACK_TOKEN not in message.text

    [trigger] = alerts.pagerduty.events()
    dedup_key = "lakehouse:dev:run_failure:bronze_orders"
    assert trigger["event_action"] == "trigger"
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["dedup_key"] == dedup_key
    assert trigger["payload"]["severity"] == "critical"
    assert trigger["payload"]["component"] == "bronze_orders"
    assert trigger["payload"]["custom_details"]["run_id"] == failed_run
    assert trigger["payload"]["custom_details"]["partition"] == DAY.isoformat()
    assert trigger["links"] == [{"href": f"{UI_URL}/runs/{failed_run}", "text": "Dagster run"}]
    assert alerts.pagerduty.pages == 1

    # The same incident again: a reply in the Slack thread, no second page.
    second_run = alerts.materialize_orders()
    alerts.tick()
    assert len(alerts.pagerduty.requests) == 1 and alerts.pagerduty.pages == 1
    reply = alerts.slack.messages[-1]
    assert reply.thread_ts == message.ts and second_run in reply.text

    # Files land, the asset materializes: PagerDuty gets a resolve, Slack a resolved reply.
    land(
        alerts.landing, "orders", DAY.isoformat(), "orders.jsonl", jsonl(order(1, DAY.isoformat()))
    )
    recovered_run = alerts.materialize_orders()
    alerts.tick()
    resolve = alerts.pagerduty.events()[-1]
    assert resolve == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": dedup_key,
    }
    assert alerts.pagerduty.incidents[dedup_key].status == "resolved"
    resolved = alerts.slack.messages[-1]
    assert resolved.thread_ts == message.ts and "Resolved" in resolved.text
    assert recovered_run in resolved.text
    assert len(alerts.slack.top_level()) == 1

    # A quiet tick sends nothing more.
    sent = len(alerts.slack.requests) + len(alerts.pagerduty.requests)
    alerts.tick()
    assert len(alerts.slack.requests) + len(alerts.pagerduty.requests) == sent


def test_warning_only_check_goes_to_slack_and_never_pages(spark, alerts):
    # One malformed line: bronze dead-letters it, and its WARN check fails.
    day = DAY.isoformat()
    land(
        alerts.landing,
        "orders",
        day,
        "orders.jsonl",
        jsonl(order(1, day), "{not json, customer jane.doe@example.com"),
    )
    alerts.materialize_orders()
    alerts.tick()

    [message] = alerts.slack.messages
    assert "WARNING: Quality threshold breach" in message.text
    assert "`bronze_orders.no_new_dead_letters`" in message.text
    assert "dead_lettered=1" in message.text
    assert "@example.com" not in message.text  # counts only, never record content
    assert alerts.pagerduty.requests == []


def test_schema_drift_is_recorded_warned_and_alerted_once_per_field(spark, alerts):
    """A producer adds a field and changes another's type: both rows are kept (the values in
    _rescued_data), each drift is a schema_changes row, the WARN check names both, and Slack
    gets one alert per field. The same drift the next day records rows, alerts nobody."""
    day, next_day = DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()
    land(
        alerts.landing,
        "orders",
        day,
        "orders.jsonl",
        jsonl(
            order(1, day, o_loyalty_tier="gold"),
            order(2, day, o_totalprice="12.50 EUR"),
            order(3, day),
        ),
    )
    first = materialize_day(
        alerts.settings, DAY, selection="bronze_orders", instance=alerts.instance
    )
    alerts.tick()

    [check] = [c for c in first.get_asset_check_evaluations() if c.check_name == "no_schema_drift"]
    assert not check.passed and check.severity == AssetCheckSeverity.WARN
    assert "o_loyalty_tier (new_field, 1 records)" in check.description
    assert "o_totalprice (type_mismatch, 1 records)" in check.description
    store = DeltaTableStore(spark, PathLocator(alerts.settings.root))
    changes = {(r.column_name, r.change_kind): r for r in store.read(SCHEMA_CHANGES).collect()}
    assert set(changes) == {("o_loyalty_tier", "new_field"), ("o_totalprice", "type_mismatch")}
    mistyped = changes[("o_totalprice", "type_mismatch")]
    assert (mistyped.column_type, mistyped.record_count, mistyped.is_new) == (
        "decimal(15,2)",
        1,
        True,
    )
    assert mistyped.first_seen_file.endswith(f"{day}/orders.jsonl")
    bronze = {r.o_orderkey: r for r in store.read(bronze_table(ORDERS)).collect()}
    assert len(bronze) == 3 and bronze[2].o_totalprice is None
    assert json.loads(bronze[2]._rescued_data) == {"o_totalprice": "12.50 EUR"}

    drift = [m for m in alerts.slack.top_level() if "Schema drift" in m.text]
    assert len(drift) == 2, [m.text for m in drift]
    assert any("o_loyalty_tier" in m.text for m in drift)
    assert any("o_totalprice" in m.text and "decimal(15,2)" in m.text for m in drift)
    assert all("docs/runbooks/schema_drift.md" in m.text for m in drift)
    assert all("12.50 EUR" not in m.text for m in drift)  # names and counts, never values
    assert alerts.pagerduty.requests == []

    # The next day the producer still sends the new field: recorded, not new, no alert.
    land(
        alerts.landing,
        "orders",
        next_day,
        "orders.jsonl",
        jsonl(order(4, next_day, o_loyalty_tier="silver")),
    )
    sent = len(alerts.slack.requests)
    second = materialize_day(
        alerts.settings,
        DAY + dt.timedelta(days=1),
        selection="bronze_orders",
        instance=alerts.instance,
    )
    alerts.tick()
    [check] = [c for c in second.get_asset_check_evaluations() if c.check_name == "no_schema_drift"]
    assert check.passed
    again = [r for r in store.read(SCHEMA_CHANGES).collect() if r.is_new is False]
    assert [(r.column_name, r.change_kind, r.record_count) for r in again] == [
        ("o_loyalty_tier", "new_field", 1)
    ]
    assert len(alerts.slack.requests) == sent


def test_alerting_is_off_when_unset(spark, tmp_path, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "PAGERDUTY_ROUTING_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = LakehouseSettings.from_env({"LAKEHOUSE_ROOT": str(tmp_path / "lh")})
    resources = alerting_resources(settings.operations)
    assert not resources["slack_alerts"].enabled and not resources["pagerduty"].enabled
    sensor = build_definitions(settings).resolve_sensor_def(ALERT_SENSOR_NAME)
    assert sensor.default_status.value == "STOPPED"


def test_freshness_miss_on_a_frozen_clock_warns_and_is_recorded(spark, alerts):
    """Bronze updated, silver did not follow: two hours later silver misses its 60-min SLA."""
    instance = alerts.instance
    defs = build_definitions(alerts.settings)
    instance.report_runless_asset_event(
        AssetMaterialization("bronze_orders", partition="1992-01-02")
    )
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        if defs.resolve_assets_def(key).group_names_by_key[key] == "gold":
            instance.report_runless_asset_event(AssetMaterialization(key))
    frozen = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    run_config = {"ops": {FRESHNESS_CHECKS_OP: {"config": {"evaluated_at": frozen.isoformat()}}}}
    job = defs.resolve_job_def(FRESHNESS_JOB_NAME)
    for _ in range(2):  # evaluating the same instant twice writes the same rows
        result = job.execute_in_process(instance=instance, run_config=run_config)

    failed = {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    silver = failed["silver_orders"]
    assert silver.severity == AssetCheckSeverity.WARN
    assert 119 <= silver.metadata["actual_freshness_minutes"].value <= 121
    assert silver.metadata["expected_freshness_minutes"].value == 60
    assert all(e.severity == AssetCheckSeverity.WARN for e in failed.values())
    assert not any(key.startswith(("bronze_", "fact_", "dim_", "agg_")) for key in failed)

    store = DeltaTableStore(spark, PathLocator(alerts.settings.root))
    rows = {r.table_name: r for r in store.read(SLA_METRICS).collect()}
    assert len(rows) == len(result.get_asset_check_evaluations())  # MERGEd, not appended
    assert rows["silver_orders"].sla_met is False
    assert rows["silver_orders"].expected_freshness_minutes == 60
    assert rows["fact_sales"].sla_met is True and rows["bronze_orders"].sla_met is True

    alerts.tick()
    warnings = [m for m in alerts.slack.top_level() if "silver_orders.freshness_sla" in m.text]
    [message] = warnings
    assert "WARNING: Freshness SLA miss" in message.text
    assert "docs/runbooks/sla_miss.md" in message.text
    assert alerts.pagerduty.requests == []


def test_refused_alerts_arrive_exactly_once_and_a_lost_one_is_kept_and_announced(spark, alerts):
    """The services refuse as the real ones do (429 with Retry-After, a 500 HTML page, Slack's
    ``ok: false``): every alert still arrives, once. A permanent refusal (a revoked token)
    makes the alert undeliverable: kept in the sensor's outbox, counted in the tick's message,
    paged as a delivery incident, resolved once Slack takes messages again."""
    from dataclasses import replace

    from lakehouse_assets.operations.alert_delivery import DELIVERY_INCIDENT

    operations = replace(alerts.settings.operations, alert_retry_seconds=0)
    alerts.settings = replace(alerts.settings, operations=operations)
    slack, pagerduty = alerts.slack, alerts.pagerduty
    slack.refuse_next(slack.rate_limited(0), slack.server_error(), slack.error("fatal_error"))
    pagerduty.refuse_next(pagerduty.rate_limited(), pagerduty.server_error())

    failed_run = alerts.materialize_orders()
    waiting = [alerts.tick() for _ in range(3)]
    assert "2 waiting to be retried" in waiting[0], waiting
    assert slack.messages == [] and pagerduty.pages == 1  # PagerDuty took its third attempt
    alerts.tick()
    [message] = slack.messages  # Slack took its fourth
    assert failed_run in message.text
    assert (slack.refused, pagerduty.refused) == (3, 2)
    sent = len(slack.requests) + len(pagerduty.requests)
    assert "0 waiting to be retried, 0 undeliverable" in alerts.tick()
    assert len(slack.requests) + len(pagerduty.requests) == sent  # nothing sent twice

    # The token is revoked: the repeat is refused for good.
    slack.refuse_next(slack.error("invalid_auth"))
    alerts.materialize_orders()
    assert "1 undeliverable" in alerts.tick()
    delivery = DELIVERY_INCIDENT.format(service="slack")
    alerts.tick()  # the delivery incident pages on the next tick
    assert pagerduty.incidents[delivery].status == "triggered"
    assert "invalid_auth" in pagerduty.incidents[delivery].summary
    assert SLACK_TOKEN not in pagerduty.incidents[delivery].summary
    assert len(slack.messages) == 1

    # Files land and the asset materializes: Slack takes the resolved reply again, in the
    # first message's thread, and the delivery incident resolves.
    land(alerts.landing, "orders", DAY.isoformat(), "o.jsonl", jsonl(order(1, DAY.isoformat())))
    alerts.materialize_orders()
    alerts.tick()
    alerts.tick()
    resolved = slack.messages[-1]
    assert resolved.thread_ts == message.ts and "Resolved" in resolved.text
    assert pagerduty.incidents[delivery].status == "resolved"
    assert pagerduty.incidents["lakehouse:dev:run_failure:bronze_orders"].status == "resolved"
