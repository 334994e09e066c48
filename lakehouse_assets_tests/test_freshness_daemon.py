"""A source that misses its day shows stale twice, under the real daemon: in the UI's badge
(the daemon's own evaluation of the native freshness policy) and in the ``freshness_sla``
check, which alerts Slack.

SLA windows are minutes here (a 1-minute cadence, a 1-minute bronze lag: bronze is stale two
minutes after its last materialization), so the missed day happens while the test waits. The
only Spark runs are the freshness checks'; bronze's materialization is reported, as an
external ingestion tool would report it. Sensors other than freshness and alerting are off
(``LAKEHOUSE_LIVE=false``), so nothing else runs.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import AssetCheckKey, AssetKey, AssetMaterialization
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECK_NAME
from lakehouse_assets.partitions import PartitionCalendar

from .alert_servers import SlackWebApiServer
from .live_harness import LiveLakehouse, wait_for

SLACK_TOKEN = "xoxb-freshness-test"
CHANNEL = "#lakehouse-freshness"
BRONZE = AssetKey("bronze_orders")
STALE_AFTER = dt.timedelta(minutes=2)  # cadence 1 min + bronze lag 1 min


@pytest.mark.spark
def test_a_source_that_misses_its_day_is_stale_in_the_badge_and_the_check(tmp_path):
    with SlackWebApiServer(SLACK_TOKEN, channels=(CHANNEL,)) as slack:
        lake = LiveLakehouse(
            tmp_path,
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "LAKEHOUSE_SLACK_CHANNEL": CHANNEL,
                "LAKEHOUSE_SLACK_BASE_URL": slack.api_url,
                "LAKEHOUSE_SLA_CADENCE_MINUTES": "1",
                "LAKEHOUSE_SLA_BRONZE_MINUTES": "1",
                "LAKEHOUSE_FRESHNESS_INTERVAL_SECONDS": "45",
            },
        )
        lake.env["LAKEHOUSE_LIVE"] = "false"
        calendar = PartitionCalendar.from_env(lake.env)
        day = calendar.last_date(dt.datetime.now(dt.UTC)).isoformat()
        with lake.daemon():
            instance = lake.instance()
            instance.report_runless_asset_event(AssetMaterialization(BRONZE, partition=day))
            landed_at = dt.datetime.now(dt.UTC)

            def badge() -> FreshnessState | None:
                record = instance.get_freshness_state_records([BRONZE]).get(BRONZE)
                return record.freshness_state if record else None

            # Fresh first: the daemon evaluated the policy and found it met.
            wait_for("the badge to say fresh", lambda: badge() == FreshnessState.PASS, timeout=120)
            # No new materialization: the source missed its (two-minute) day.
            wait_for("the badge to say stale", lambda: badge() == FreshnessState.FAIL, timeout=300)
            assert dt.datetime.now(dt.UTC) - landed_at >= STALE_AFTER

            def failed_check():  # type: ignore[no-untyped-def]
                key = AssetCheckKey(BRONZE, FRESHNESS_CHECK_NAME)
                history = instance.event_log_storage.get_asset_check_execution_history(key, 5)
                return [r for r in history if r.status == Status.FAILED]

            [record, *_] = wait_for("a failing freshness_sla check", failed_check, timeout=360)
            evaluation = record.event.dagster_event.event_specific_data
            assert "did a source miss its day?" in (evaluation.description or "")
            wait_for(
                "the freshness alert in Slack",
                lambda: [
                    m
                    for m in slack.messages
                    if "bronze_orders" in m.text and FRESHNESS_CHECK_NAME in m.text
                ],
                timeout=120,
            )
