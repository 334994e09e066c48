"""SLA math, alert routing decisions, redaction, retries and automation - no Spark."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    AutomationCondition,
    Backoff,
    DagsterInstance,
    Jitter,
    MaterializeResult,
    ResourceDefinition,
    RetryPolicy,
    evaluate_automation_conditions,
    materialize,
)

from lakehouse_assets.asset_factory import spark_asset
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.operations.alerts import (
    Alert,
    Recovery,
    pagerduty_resolve,
    pagerduty_trigger,
    redact,
    slack_alert_text,
)
from lakehouse_assets.operations.incidents import IncidentBook
from lakehouse_assets.operations.json_logs import JsonLogFormatter
from lakehouse_assets.operations.retries import MAX_RETRIES, is_transient
from lakehouse_assets.operations.sla import (
    evaluate_sla,
    last_deadline,
    layer_policies,
    snapshot_source_policy,
)
from lakehouse_assets.resources import step_launcher_key
from lakehouse_assets.settings import LakehouseSettings, OperationsSettings, SettingsError

from .alert_servers import PagerDutyEventsServer
from .lakehouse import TABLE_ASSETS

NOW = dt.datetime(2026, 11, 22, 9, 30, tzinfo=dt.UTC)
POLICIES = layer_policies(OperationsSettings())


# --- SLAs -------------------------------------------------------------------------------


def _silver_sla(pending_for: dt.timedelta | None, last_update: dt.datetime | None = None):
    pending_since = NOW - pending_for if pending_for is not None else None
    return evaluate_sla(
        "silver_orders",
        POLICIES["silver"],
        now=NOW,
        last_update=last_update,
        pending_since=pending_since,
    )


def test_lag_sla_measures_the_oldest_unprocessed_upstream_change():
    late = _silver_sla(dt.timedelta(hours=2))
    assert (late.expected_freshness_minutes, late.actual_freshness_minutes) == (60, 120)
    assert not late.sla_met and "120.0 min old" in late.reason
    assert _silver_sla(dt.timedelta(minutes=59)).sla_met
    # Nothing pending upstream and changed within its day (+ lag): fresh.
    quiet = _silver_sla(None, last_update=NOW - dt.timedelta(hours=24, minutes=59))
    assert quiet.sla_met and quiet.actual_freshness_minutes == 0


def test_a_source_that_misses_its_day_is_stale_in_the_check_and_the_native_policy():
    """Nothing pending (no file landed) but unchanged for a day and its lag: the source
    missed its day. The native policy's window is the same day and lag."""
    missed = _silver_sla(None, last_update=NOW - dt.timedelta(hours=25, minutes=1))
    assert not missed.sla_met and "did a source miss its day" in missed.reason
    native = POLICIES["silver"].freshness_policy()
    assert native.fail_window.to_timedelta() == dt.timedelta(hours=25)
    # Never materialized: not judged by the cadence (Dagster's native state is unknown too).
    assert _silver_sla(None, last_update=None).sla_met
    # A snapshot source lands when it changes: a month is its cadence, not a day.
    settings = OperationsSettings.from_env({"LAKEHOUSE_SLA_SNAPSHOT_DAYS": "7"})
    snapshot = snapshot_source_policy(settings)
    week_old = NOW - dt.timedelta(days=6)
    assert evaluate_sla("bronze_part", snapshot, now=NOW, last_update=week_old, pending_since=None)
    stale = evaluate_sla(
        "bronze_part", snapshot, now=NOW, last_update=NOW - dt.timedelta(days=8), pending_since=None
    )
    assert not stale.sla_met
    assert snapshot.freshness_policy().fail_window.to_timedelta() == dt.timedelta(
        days=7, minutes=15
    )
    # Both halves fail together: the reason names both.
    both = _silver_sla(dt.timedelta(hours=2), last_update=NOW - dt.timedelta(days=2))
    assert "120.0 min old" in both.reason and "miss its day" in both.reason


def test_gold_deadline_sla():
    gold = POLICIES["gold"]
    assert last_deadline(gold.deadline, NOW) == dt.datetime(2026, 11, 22, 7, 0, tzinfo=dt.UTC)
    assert last_deadline(gold.deadline, NOW.replace(hour=6)) == dt.datetime(
        2026, 11, 21, 7, 0, tzinfo=dt.UTC
    )
    refreshed_at_5 = NOW.replace(hour=5, minute=0)
    assert evaluate_sla(
        "fact_sales", gold, now=NOW, last_update=refreshed_at_5, pending_since=None
    ).sla_met
    yesterday = NOW - dt.timedelta(days=1, hours=3)  # 2026-11-21 06:30, before 11-21 07:00
    missed = evaluate_sla("fact_sales", gold, now=NOW, last_update=yesterday, pending_since=None)
    assert not missed.sla_met and "07:00 UTC deadline was missed" in missed.reason
    never = evaluate_sla("fact_sales", gold, now=NOW, last_update=None, pending_since=None)
    assert not never.sla_met and never.actual_freshness_minutes is None
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate_sla("x", gold, now=NOW.replace(tzinfo=None), last_update=None, pending_since=None)


def test_slas_and_alerting_are_configured_from_the_environment():
    settings = LakehouseSettings.from_env(
        {
            "LAKEHOUSE_SLA_BRONZE_MINUTES": "5",
            "LAKEHOUSE_SLA_GOLD_DEADLINE": "6:30",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "LAKEHOUSE_PAGERDUTY_BASE_URL": "http://pd.local/",
        }
    )
    ops = settings.operations
    assert (ops.bronze_sla_minutes, ops.silver_sla_minutes, ops.gold_deadline) == (5, 60, "06:30")
    assert ops.slack_enabled and not ops.pagerduty_enabled
    assert ops.pagerduty_base_url == "http://pd.local"
    assert layer_policies(ops)["gold"].deadline == dt.time(6, 30)
    with pytest.raises(SettingsError, match="HH:MM"):
        LakehouseSettings.from_env({"LAKEHOUSE_SLA_GOLD_DEADLINE": "25:00"})
    with pytest.raises(SettingsError, match="LAKEHOUSE_LOG_FORMAT"):
        LakehouseSettings.from_env({"LAKEHOUSE_LOG_FORMAT": "xml"})


def test_policies_are_applied_to_the_layer_groups():
    defs = build_definitions(LakehouseSettings.from_env({}))
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        policy, condition = node.freshness_policy, node.automation_condition
        layer = node.group_name
        assert node.owners == ["team:data-platform"], key
        if not node.is_executable:
            # A side table (dead letters, quarantine, ledger) is filled by the steps that
            # write it: their policies are its policies.
            assert (policy, condition) == (None, None), key
            continue
        # Every table a step builds has a native policy: a cron deadline for gold and the
        # monitoring tables, a time window (cadence + lag) for the lag layers.
        if layer in ("gold", "monitoring"):
            assert type(policy).__name__ == "CronFreshnessPolicy", key
        else:
            assert type(policy).__name__ == "TimeWindowFreshnessPolicy", key
        # Bronze is started by what lands; the monitoring tables by their daily refresh.
        automated = ("silver", "gold", "features", "vector_index", "monitoring")
        assert (condition is not None) == (layer in automated), key
    checks = {
        k.asset_key.to_user_string() for k in graph.asset_check_keys if k.name == "freshness_sla"
    }
    tables = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).group_name in ("bronze", "silver", "gold", "features", "vector_index")
        and graph.get(k).is_executable
    }
    assert checks == tables


def test_a_quiet_lag_layer_is_fresh_and_a_pending_change_is_measured():
    policy = layer_policies(LakehouseSettings.from_env({}).operations)["features"]
    now = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    quiet = evaluate_sla("customer_features", policy, now=now, last_update=now, pending_since=None)
    assert quiet.sla_met and quiet.reason == "nothing pending upstream"
    late = evaluate_sla(
        "customer_features",
        policy,
        now=now,
        last_update=now - dt.timedelta(days=3),
        pending_since=now - dt.timedelta(minutes=121),
    )
    assert not late.sla_met and late.actual_freshness_minutes == 121


# --- Alerts -----------------------------------------------------------------------------


def _alert(severity: str = "critical", run_id: str = "run-1") -> Alert:
    return Alert(
        "run_failure", severity, asset="silver_orders", run_id=run_id, partition="1992-01-02",
        reason="boom", catalog="dev",
    )  # fmt: skip


def test_incident_book_pages_once_per_incident_and_resolves():
    book = IncidentBook()
    first = book.observe_problem(_alert())
    assert (first.kind, first.page) == ("open", True)
    again = book.observe_problem(_alert(run_id="run-2"))
    assert (again.kind, again.page) == ("repeat", False)
    restored = IncidentBook.from_json(book.to_json())  # survives the sensor cursor
    resolved = restored.observe_recovery(Recovery(_alert().dedup_key, "run-3", "silver_orders"))
    assert resolved is not None and (resolved.kind, resolved.page) == ("resolve", True)
    assert restored.observe_recovery(Recovery(_alert().dedup_key, "run-4", "x")) is None


def test_a_warning_escalating_to_critical_pages_once():
    book = IncidentBook()
    assert book.observe_problem(_alert("warning")).page is False
    assert book.observe_problem(_alert("critical")).kind == "escalate"
    assert book.observe_problem(_alert("critical")).page is False
    assert book.observe_recovery(Recovery(_alert().dedup_key, "r", "s")).page is True


def test_redaction_removes_secrets_and_personal_data():
    text = (
        "token=abc123 xoxb-111-222-abc Bearer eyJhbGciOi.x.y mail jane.doe@example.com "
        "phone 25-989-741-2988 key 0123456789abcdef0123456789abcdef"
    )
    cleaned = redact(text)
    for secret in ("abc123", "xoxb-111", "eyJhbGciOi", "jane.doe", "741-2988", "0123456789abcdef0"):
        assert secret not in cleaned
    assert "[email]" in cleaned and "[phone]" in cleaned


def test_pagerduty_events_are_valid_for_the_events_api():
    server = PagerDutyEventsServer("k" * 32)
    long_reason = Alert(
        "quality_breach", "critical", asset="fact_sales", run_id="r", partition=None,
        reason="x" * 2000, catalog="prod", check="fact_sales_grain_unique", counts={"rows": 3},
    )  # fmt: skip
    trigger = pagerduty_trigger(long_reason, "k" * 32, "http://ui")
    assert server._validate(trigger) == []
    assert (
        trigger["dedup_key"] == "lakehouse:prod:quality_breach:fact_sales:fact_sales_grain_unique"
    )
    assert server._validate(pagerduty_resolve(trigger["dedup_key"], "k" * 32)) == []


# --- Retries ----------------------------------------------------------------------------


def test_transient_errors_are_recognised():
    assert is_transient(ConnectionResetError("peer"))
    assert is_transient(TimeoutError())
    assert is_transient(RuntimeError("HTTP 503 Service Unavailable from workspace"))
    assert not is_transient(ValueError("bad column"))
    assert not is_transient(KeyError("o_orderkey"))


def test_every_table_asset_retries_transient_errors_with_backoff_and_a_cap():
    for assets_def in TABLE_ASSETS:
        policy = assets_def.op.retry_policy
        assert policy is not None and policy.max_retries == MAX_RETRIES, assets_def.key
        assert policy.backoff == Backoff.EXPONENTIAL and policy.jitter == Jitter.PLUS_MINUS


def _attempts_of(error: Exception) -> tuple[int, bool]:
    calls = []

    @spark_asset(
        name="flaky_table",
        layer="bronze",
        description="fails with the given error",
        partitioned=False,
        retry_policy=RetryPolicy(max_retries=MAX_RETRIES, delay=0.01, backoff=Backoff.EXPONENTIAL),
    )
    def flaky_table(context) -> MaterializeResult:
        calls.append(1)
        raise error

    instance = DagsterInstance.ephemeral()
    none = ResourceDefinition.none_resource()
    result = materialize(
        [flaky_table],
        resources={"spark": none, "storage": none, step_launcher_key("bronze"): none},
        instance=instance,
        raise_on_error=False,
    )
    return len(calls), result.success


def test_transient_failures_retry_up_to_the_cap_and_permanent_ones_fail_at_once():
    assert _attempts_of(ConnectionError("cluster unreachable")) == (MAX_RETRIES + 1, False)
    assert _attempts_of(ValueError("corrupt input")) == (1, False)


# --- Automation -------------------------------------------------------------------------


def test_silver_materializes_automatically_when_its_bronze_partitions_update():
    defs = build_definitions(LakehouseSettings.from_env({}))
    graph = defs.resolve_asset_graph()
    silver = AssetKey("silver_orders")
    partition = "1992-03-15"  # any date, not only the newest partition
    instance = DagsterInstance.ephemeral()
    first = evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.get_num_requested(silver) == 0
    for upstream in graph.get(silver).parent_keys:
        instance.report_runless_asset_event(AssetMaterialization(upstream, partition=partition))
    second = evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_num_requested(silver) == 1
    requested = second.get_requested_partitions(silver)
    assert requested == {partition}
    assert isinstance(graph.get(silver).automation_condition, AutomationCondition)


def test_a_whole_table_is_rebuilt_once_and_its_rebuild_requests_no_dates():
    """Whole tables (unpartitioned dimensions, knowledge base) follow their daily inputs once,
    whichever dates changed; their rebuild re-triggers no date of the daily tables reading
    them (a dim_product rebuild must not request every date of fact_sales)."""
    defs = build_definitions(LakehouseSettings.from_env({}))
    graph = defs.resolve_asset_graph()
    assert graph.get(AssetKey("dim_product")).partitions_def is None
    assert graph.get(AssetKey("fact_sales")).partitions_def is not None
    daily = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    instance = DagsterInstance.ephemeral()
    tick = evaluate_automation_conditions(defs=defs, instance=instance)

    def after(*events: AssetMaterialization) -> dict[str, int]:
        nonlocal tick
        for event in events:
            instance.report_runless_asset_event(event)
        tick = evaluate_automation_conditions(defs=defs, instance=instance, cursor=tick.cursor)
        counts = {k.to_user_string(): tick.get_num_requested(k) for k in graph.get_all_asset_keys()}
        return {name: count for name, count in counts.items() if count}

    knowledge_base = {"documents", "document_embeddings", "document_index"}
    # Two dates of the part snapshot: one rebuild of dim_product (and of the knowledge base
    # built from it, in the same run), and no date of anything.
    requested = after(
        AssetMaterialization("bronze_part", partition="1992-03-15"),
        AssetMaterialization("bronze_part", partition="1992-04-01"),
    )
    assert requested.get("dim_product") == 1 and set(requested) <= {"dim_product", *knowledge_base}
    # A rebuilt dimension carries on to the knowledge base, never to fact_sales' dates.
    requested = after(AssetMaterialization("dim_product"))
    assert not {AssetKey(k) for k in requested} & daily, requested
    assert set(requested) <= knowledge_base
    # A customer change of one date: dim_customer once (its geography exists).
    after(AssetMaterialization("dim_geography"), AssetMaterialization("dim_customer"))
    requested = after(AssetMaterialization("silver_customers", partition="1992-03-15"))
    assert requested.get("dim_customer") == 1, requested


def test_whole_tables_refresh_once_a_day_in_golds_window_and_no_date_follows():
    """A quiet whole table (dim_date has no inputs; snapshots land rarely) is still refreshed,
    and judged, every day: once, after the start of gold's refresh window (00:00 UTC before a
    07:00 deadline), and the refresh requests no date of any daily table."""
    from lakehouse_assets.operations.policies import whole_table_refresh_cron

    settings = LakehouseSettings.from_env({})
    assert whole_table_refresh_cron(layer_policies(settings.operations)["gold"]) == "5 0 * * *"
    defs = build_definitions(settings)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    whole = {k.to_user_string() for k in keys if graph.get(k).partitions_def is None}
    automated = {k.to_user_string() for k in keys if graph.get(k).automation_condition is not None}
    instance = DagsterInstance.ephemeral()
    for name in whole & automated:
        instance.report_runless_asset_event(AssetMaterialization(name))
    evening = dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC)
    tick = evaluate_automation_conditions(defs=defs, instance=instance, evaluation_time=evening)

    def requested_at(moment: dt.datetime) -> set[str]:
        nonlocal tick
        tick = evaluate_automation_conditions(
            defs=defs, instance=instance, cursor=tick.cursor, evaluation_time=moment
        )
        return {k.to_user_string() for k in keys if tick.get_num_requested(k)}

    assert requested_at(evening + dt.timedelta(minutes=30)) == set()  # before 00:05
    refreshed = requested_at(evening + dt.timedelta(hours=1, minutes=10))  # 00:10 UTC
    assert refreshed == whole & automated
    assert {"dim_date", "dim_product", "dim_customer", "document_index"} <= refreshed


# --- Logs -------------------------------------------------------------------------------


def test_json_log_lines_carry_run_asset_partition_and_trace_without_secrets():
    record = logging.LogRecord("dagster", logging.INFO, __file__, 1, "msg", None, None)
    record.dagster_meta = {  # what Dagster's log handler attaches to each record
        "run_id": "run-1",
        "job_name": "lakehouse_daily_job",
        "job_tags": {
            "dagster/asset_partition_range_start": "1992-01-01",
            "dagster/asset_partition_range_end": "1992-01-07",
            "lakehouse/trace_id": "landing-orders-42",
        },
        "step_key": "silver_orders",
        "op_name": "silver_orders",
        "orig_message": "wrote 10 rows for jane@example.com using token=s3cr3t",
        "log_timestamp": "2026-11-22T09:30:00",
        "dagster_event": None,
    }
    line = json.loads(JsonLogFormatter().format(record))
    assert line == {
        "timestamp": "2026-11-22T09:30:00+00:00",
        "level": "INFO",
        "message": "wrote 10 rows for [email] using token=[redacted]",
        "run_id": "run-1",
        "job": "lakehouse_daily_job",
        "asset": "silver_orders",
        "step": "silver_orders",
        "partition": "1992-01-01...1992-01-07",
        "trace_id": "landing-orders-42",
    }


def test_slack_text_is_escaped_and_redaction_covers_common_secret_shapes():
    alert = Alert(
        "run_failure", "critical", asset="fact_sales", run_id="r", partition=None,
        reason="<!channel> failed: <http://x|click> & more", catalog="dev",
    )  # fmt: skip
    text = slack_alert_text(alert, "http://ui")
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text and "&amp; more" in text
    for secret in ('"token": "abc"', "password: hunter2", "AccountKey=xyz==", "sig=abc%2F"):
        assert redact(secret).count("[redacted]") == 1, secret
    assert redact("AKIAABCDEFGHIJKLMNOP") == "[aws-key]"
    assert redact("R0UT1NGKEY0000000000000000000001") == "[key]"


def test_a_late_gold_refresh_misses_every_day():
    gold = POLICIES["gold"]
    at_0730_yesterday = NOW.replace(hour=7, minute=30) - dt.timedelta(days=1)
    late = evaluate_sla(
        "fact_sales", gold, now=NOW.replace(hour=7, minute=5), last_update=at_0730_yesterday,
        pending_since=None,
    )  # fmt: skip
    assert not late.sla_met


def test_repeats_of_a_long_incident_are_throttled():
    book = IncidentBook()
    kinds = [book.observe_problem(_alert()).kind for _ in range(24)]
    assert kinds[:4] == ["open", "repeat", "repeat", "quiet_repeat"]
    assert kinds.count("repeat") == 2 + 2  # 2nd, 3rd, then every 12th occurrence


def test_the_data_dictionary_refreshes_daily_and_when_its_code_changes():
    """Dagster's own evaluator of automation conditions, on a driven clock: the dictionary
    (no upstream) is requested once at gold's refresh tick (00:05 UTC by default), not
    before or after, and once when its code version (its code or the catalog) changes."""
    import warnings

    from dagster import DagsterInstance, Definitions, evaluate_automation_conditions

    defs = build_definitions(LakehouseSettings.from_env({}))
    dictionary = defs.resolve_assets_def(AssetKey("data_dictionary"))
    midnight = dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC)

    def requested(assets_def, minutes: int, cursor):  # type: ignore[no-untyped-def]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = evaluate_automation_conditions(
                defs=Definitions(assets=[assets_def]),
                instance=instance,
                cursor=cursor,
                evaluation_time=midnight + dt.timedelta(minutes=minutes),
            )
        return result.total_requested, result.cursor

    with DagsterInstance.ephemeral() as instance:
        counts, cursor = [], None
        for minutes in (0, 4, 6, 8):
            count, cursor = requested(dictionary, minutes, cursor)
            counts.append(count)
        assert counts == [0, 0, 1, 0]
        changed = dictionary.map_asset_specs(lambda s: s.replace_attributes(code_version="new"))
        count, cursor = requested(changed, 10, cursor)
        assert count == 1
        assert requested(changed, 12, cursor)[0] == 0


def test_the_freshness_sensor_waits_while_its_previous_run_is_queued():
    """One waiting freshness run at most: a run that has not started yet would evaluate an
    instant older than the next tick's, so the sensor requests nothing until it starts."""
    from dagster import DagsterInstance, DagsterRun, DagsterRunStatus, build_sensor_context
    from dagster._core.utils import make_new_run_id

    from lakehouse_assets.operations.freshness_checks import FRESHNESS_JOB_NAME

    defs = build_definitions(LakehouseSettings.from_env({}))
    sensor = defs.resolve_sensor_def("freshness_sla_sensor")
    with DagsterInstance.ephemeral() as instance:
        [first] = sensor.evaluate_tick(build_sensor_context(instance=instance)).run_requests
        assert first.run_key.startswith("freshness:")
        # Not started yet (a queued run also needs a code location's origin to be stored).
        queued = DagsterRun(
            job_name=FRESHNESS_JOB_NAME,
            run_id=make_new_run_id(),
            status=DagsterRunStatus.NOT_STARTED,
        )
        instance.add_run(queued)
        waiting = sensor.evaluate_tick(build_sensor_context(instance=instance))
        assert not waiting.run_requests and queued.run_id in waiting.skip_message
        instance.delete_run(queued.run_id)
        instance.add_run(
            DagsterRun(
                job_name=FRESHNESS_JOB_NAME,
                run_id=make_new_run_id(),
                status=DagsterRunStatus.STARTED,
            )
        )
        started = sensor.evaluate_tick(build_sensor_context(instance=instance))
        assert len(started.run_requests) == 1  # running: evaluating now, the next may queue
