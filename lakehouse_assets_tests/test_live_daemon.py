"""The live loop under the real Dagster daemon: files land, every layer follows by itself.

One daemon lakehouse (bounded, stops by itself) for every orchestration promise:

* **The loop.** A day of history and a fed day with a burst of malformed records are waiting
  when the daemon starts (its first landing run builds both); then the feed lands a new day
  whose extract also carries a correction of every order of the first day (records dated
  outside their folder), a re-delivery of the burst day's orders file and two late orders of
  customer 7: one dated the first day, one dated months back (the partitions start months
  back, as a lakehouse with history's do). The landing sensor builds the landed days and,
  from bronze's reports, the late dates; automation re-runs none of it.
* **Automation alone.** An external tool appends an order to bronze (outside any run) and
  reports it: automation carries it to silver, where a blocking check stops it (PagerDuty
  pages, while both services refuse the first attempts); the tool appends the corrected
  record, automation carries it through silver and gold, and the incident resolves.
* **A killed run.** ``lakehouse materialize`` is killed (SIGKILL) while its run is STARTED;
  the orphaned-run sensor marks it failed and the alert router sends it.
* **Schedules.** The daemon restarts with the whole tables' refresh and the daily schedule
  set to fire minutes later (``LAKEHOUSE_REFRESH_CRON``,
  ``LAKEHOUSE_DAILY_SCHEDULE_CRON``; the schedule turned on with ``dagster schedule start``):
  both fire at their cron time.

Everything is asserted through the Dagster instance, the tables and the Slack and PagerDuty
servers; no sensor or asset is called directly.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from itertools import combinations

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from dagster import AssetMaterialization
from deltalake import CommitProperties, DeltaTable, write_deltalake

from lakehouse_assets.sample_data.live_feed import FeedOptions
from lakehouse_assets.settings import DEFAULT_DOCS_DIR

from .alert_servers import PagerDutyEventsServer, SlackWebApiServer
from .features_oracle import expected_snapshot
from .landing_files import jsonl, land, order
from .live_harness import LiveLakehouse, materializations, runs, unfinished, wait_for

SLACK_TOKEN = "xoxb-live-test"
CHANNEL = "#lakehouse-live"
ROUTING_KEY = "R0LIVETESTROUTINGKEY000000000001"  # 32 characters, as PagerDuty's are
DAILY_ASSETS = (
    "bronze_orders",
    "bronze_lineitem",
    "bronze_customer_events",
    "silver_orders",
    "silver_line_items",
    "silver_customers",
    "fact_orders",
    "fact_sales",
    "agg_daily_sales",
    "customer_features",
)
# Unpartitioned: one state per table, rebuilt by the runs that bring their inputs.
WHOLE_TABLES = ("dim_customer", "dim_product", "document_index")
GOLD_TIMEOUT = 1200
# The knowledge base reads two runbooks, not the whole docs/ folder: what this test proves of
# it (rebuilt by the runs that bring its inputs, one state, fresh) does not depend on how many
# chunks it embeds, and embedding all of docs/ costs minutes beside the other Spark work.
KNOWLEDGE_BASE_DOCS = ("runbooks/sla_miss.md", "runbooks/dead_letter_replay.md")
# Late orders of one customer sent with the new day's extract: one dated the first day, one
# dated MONTHS_BACK days before it.
LATE_CUSTOMER = 7
LATE_ORDER, MONTHS_BACK_ORDER = 9_100_001, 9_100_002
MONTHS_BACK = 75
# The order an external tool appends to bronze: first without a customer (a blocking check
# of silver stops it), then corrected (bronze is append-only: a newer record of the key).
EXTERNAL_ORDER = 9_200_001
BLOCKING_CHECK = "order_customer_present"
RUN_PROCESS_TAG = "lakehouse/run_process"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    docs = root / "docs"
    for name in KNOWLEDGE_BASE_DOCS:
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEFAULT_DOCS_DIR / name, docs / name)
    today = dt.datetime.now(dt.UTC).date()
    day0 = today - dt.timedelta(days=3)
    months_back = day0 - dt.timedelta(days=MONTHS_BACK)
    with (
        SlackWebApiServer(SLACK_TOKEN, channels=(CHANNEL,)) as slack,
        PagerDutyEventsServer(ROUTING_KEY) as pagerduty,
    ):
        lake = LiveLakehouse(
            root,
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "LAKEHOUSE_SLACK_CHANNEL": CHANNEL,
                "LAKEHOUSE_SLACK_BASE_URL": slack.api_url,
                "PAGERDUTY_ROUTING_KEY": ROUTING_KEY,
                "LAKEHOUSE_PAGERDUTY_BASE_URL": pagerduty.url,
                "LAKEHOUSE_ALERT_RETRY_SECONDS": "2",
                "LAKEHOUSE_FRESHNESS_INTERVAL_SECONDS": "240",
                "LAKEHOUSE_DOCS_DIR": str(docs),
                # History reaches months back: the months-back order has a partition.
                "LAKEHOUSE_PARTITION_START": (months_back - dt.timedelta(days=5)).isoformat(),
            },
        )
        lake.land_history(days=1, ends_on=day0)
        days = [day0 + dt.timedelta(days=n) for n in range(3)]
        # Day 1 (a burst of malformed records) is landed before the daemon starts, as a
        # backlog: the first landing run builds day 0 and day 1 in one range.
        burst = lake.feed(
            FeedOptions(
                seconds_per_day=0, days=1, late_every=0, redeliver_every=0, malformed_rate=0.05
            )
        )
        with lake.daemon():
            instance = lake.instance()
            _wait_for_gold(instance, days[1])
            snapshot_before = _features_of(lake, days[0])
            # Day 2's extract also carries a correction of every order of day 0 (dated day 0,
            # in day 2's folder) and the two late orders, and day 1's orders file is
            # re-delivered under its own name.
            late = []
            for landed in lake.feed_iter(
                FeedOptions(
                    seconds_per_day=0,
                    days=1,
                    late_every=1,
                    late_lag_days=30,
                    redeliver_every=1,
                    malformed_rate=0.0,
                    corrections_in_todays_extract=True,
                )
            ):
                if landed.kind == "late_correction":  # the first file of day 2's extract
                    _land_late_orders(
                        lake, days[2], {LATE_ORDER: days[0], MONTHS_BACK_ORDER: months_back}
                    )
                late.append(landed)
            _wait_for_gold(instance, days[2])
            # The runs of day 0's and the months-back day's tables, requested from bronze's
            # report of the dates the late records carry, finished.
            for day in (days[0], months_back):
                wait_for(
                    f"the late records' run of {day} to finish",
                    lambda day=day: [
                        r
                        for r in runs(instance)
                        if r.trigger == "late_records"
                        and (r.first, r.last) == (day.isoformat(), day.isoformat())
                        and r.status == "SUCCESS"
                    ],
                    timeout=GOLD_TIMEOUT,
                )
            _wait_for_quiet(instance)
            external = _an_external_change_through_automation(
                lake, instance, slack, pagerduty, days[1]
            )
            killed = _a_killed_run(lake, instance, slack, days[2])
            day2_before = _fact_orders_of(lake, days[2])
        products_before = _dim_product(lake)
        corrupted = _a_write_past_the_checks(lake)
        # A deploy with the daily refresh and the daily schedule minutes away, and the
        # auto-restore sensor on.
        # Five minutes apart: the refresh fails on the bad write and the restore follows it
        # (about 100 s alone, 220 s in CI beside the other worker) before the daily run, which
        # would otherwise judge the same bad version first.
        refresh_at, daily_at = _next_minutes(lead=dt.timedelta(seconds=150), apart=5)
        with lake.daemon(
            LAKEHOUSE_REFRESH_CRON=_daily_cron(refresh_at),
            LAKEHOUSE_DAILY_SCHEDULE_CRON=_daily_cron(daily_at),
            LAKEHOUSE_AUTO_RESTORE="true",
        ):
            started = lake.command(
                "dagster",
                "schedule",
                "start",
                "lakehouse_daily_schedule",
                "-m",
                "lakehouse_assets.definitions",
            )
            assert started.wait(timeout=180) == 0
            wait_for(
                "the daily schedule's run to finish",
                lambda: [
                    r
                    for r in runs(instance)
                    if r.tags.get("dagster/schedule_name") == "lakehouse_daily_schedule"
                    and r.status == "SUCCESS"
                ],
                timeout=GOLD_TIMEOUT,
            )
            wait_for(
                "the restore of dim_product",
                lambda: [
                    r for r in runs(instance) if r.job == "restore_table" and r.status == "SUCCESS"
                ],
                timeout=GOLD_TIMEOUT,
            )
            _wait_for_quiet(instance)
            # A freshness evaluation that started after everything settled.
            settled = max(r.end or 0 for r in runs(instance))
            wait_for(
                "a freshness run after the loop settled",
                lambda: [
                    r
                    for r in runs(instance)
                    if r.job == "freshness_checks_job"
                    and (r.start or 0) > settled
                    and r.status == "SUCCESS"
                ],
                timeout=300,
            )
            yield {
                "lake": lake,
                "instance": instance,
                "days": [d.isoformat() for d in days],
                "months_back": months_back.isoformat(),
                "burst": burst,
                "late": late,
                "snapshot_before": snapshot_before,
                "external": external,
                "killed": killed,
                "refresh_at": refresh_at,
                "daily_at": daily_at,
                "day2_before": day2_before,
                "products_before": products_before,
                "corrupted": corrupted,
                "slack": list(slack.top_level()),
                "slack_all": list(slack.messages),
                "slack_requests": list(slack.requests),
                "pagerduty": pagerduty,
            }


def _wait_for_quiet(instance) -> None:
    wait_for("the queue to drain", lambda: not unfinished(instance), timeout=GOLD_TIMEOUT)


def _external_bronze_order(lake: LiveLakehouse, day: dt.date, customer: int | None) -> None:
    """Order ``EXTERNAL_ORDER`` of ``day`` appended to bronze by a tool outside the
    lakehouse's runs (delta-rs, no Spark), then reported, as an external ingestion tool or a
    hand repair reports its write. Bronze is append-only: a correction is a newer record of
    the key (silver keeps the newest)."""
    path = str(lake.root / "lh" / "bronze" / "orders")
    bronze = DeltaTable(path).to_pyarrow_table()
    [template] = bronze.filter(pc.equal(bronze["o_orderdate"], day)).slice(0, 1).to_pylist()
    now = dt.datetime.now(dt.UTC)
    record = {
        **template,
        "o_orderkey": EXTERNAL_ORDER,
        "o_custkey": customer,
        "o_comment": f"external repair, customer {customer}",
        "_rescued_data": None,
        "_landing_date": day,
        "_ingestion_timestamp": now,
        "_ingestion_date": now.date(),
        "_source_file": "external://order-repair",
        "_batch_id": f"external-repair-{now.timestamp():.0f}",
        "_dead_letter_id": None,
    }
    write_deltalake(path, pa.Table.from_pylist([record], schema=bronze.schema), mode="append")
    lake.instance().report_runless_asset_event(
        AssetMaterialization(
            "bronze_orders",
            partition=day.isoformat(),
            description=f"external repair appended order {EXTERNAL_ORDER}",
        )
    )


def _an_external_change_through_automation(lake, instance, slack, pagerduty, day: dt.date) -> dict:
    """The external tool's bad record, stopped by silver's blocking check (paging, while both
    services refuse the first attempts), then its correction carried to gold; the times of
    both reports."""
    slack.refuse_next(slack.rate_limited(1), slack.server_error())
    pagerduty.refuse_next(pagerduty.rate_limited(), pagerduty.server_error())
    bad_at = time.time()
    _external_bronze_order(lake, day, customer=None)
    incident = wait_for(
        "PagerDuty paged for the blocking check",
        lambda: [
            i
            for k, i in pagerduty.incidents.items()
            if k.endswith(f":blocking_check_failure:silver_orders:{BLOCKING_CHECK}")
        ],
        timeout=GOLD_TIMEOUT,
    )[0]
    _wait_for_quiet(instance)
    fixed_at = time.time()
    _external_bronze_order(lake, day, customer=LATE_CUSTOMER)
    wait_for("the incident to resolve", lambda: incident.status == "resolved", timeout=GOLD_TIMEOUT)
    wait_for(
        f"fact_orders of {day} after the correction",
        lambda: [
            p
            for p, t in materializations(instance, "fact_orders")
            if p == day.isoformat() and t > fixed_at
        ],
        timeout=GOLD_TIMEOUT,
    )
    _wait_for_quiet(instance)
    return {
        "bad_at": bad_at,
        "fixed_at": fixed_at,
        "done_at": time.time(),
        "day": day.isoformat(),
        "dedup_key": incident.dedup_key,
    }


def _a_killed_run(lake, instance, slack, day: dt.date) -> dict:
    """``lakehouse materialize`` killed while its run is STARTED, before a step wrote."""
    cli = lake.command(
        "lakehouse",
        "materialize",
        "--job",
        "ingest_bronze_job",
        "--start",
        day.isoformat(),
        "--end",
        day.isoformat(),
    )
    [run] = wait_for(
        "the command's run to start",
        lambda: [r for r in runs(instance) if RUN_PROCESS_TAG in r.tags and r.status == "STARTED"],
        timeout=180,
        poll=0.2,
    )
    os.killpg(cli.pid, signal.SIGKILL)
    cli.wait(timeout=30)
    killed_at = time.time()
    wait_for(
        "the orphaned-run sensor to mark the run failed",
        lambda: instance.get_run_by_id(run.run_id).status.value == "FAILURE",
        timeout=300,
    )
    wait_for(
        "the run failure in Slack",
        lambda: [m for m in slack.messages if run.run_id in m.text and "Run failure" in m.text],
        timeout=300,
    )
    return {"run_id": run.run_id, "killed_at": killed_at, "pid": cli.pid}


def _dim_product(lake: LiveLakehouse):
    return DeltaTable(str(lake.root / "lh" / "gold" / "dim_product")).to_pandas()


def _a_write_past_the_checks(lake: LiveLakehouse) -> dict:
    """A duplicate row appended to ``gold.dim_product`` behind the checks' back, committed
    with the lakehouse's own commit metadata (a job of an old version re-run by hand would
    write so): the refresh cannot tell it from its own write, so it judges the table as it
    stands instead of rebuilding it. The version before it is the last good one."""
    path = str(lake.root / "lh" / "gold" / "dim_product")
    table = DeltaTable(path)
    [last] = [h for h in table.history(5) if h["operation"] != "OPTIMIZE"][:1]
    good_version = table.version()
    duplicate = table.to_pyarrow_table().slice(0, 1)
    write_deltalake(
        path,
        duplicate,
        mode="append",
        commit_properties=CommitProperties(custom_metadata={"userMetadata": last["userMetadata"]}),
    )
    return {"good_version": good_version, "bad_version": DeltaTable(path).version()}


def _next_minutes(lead: dt.timedelta, apart: int) -> tuple[dt.datetime, dt.datetime]:
    """The first whole UTC minute at least ``lead`` from now, and ``apart`` minutes later."""
    first = (dt.datetime.now(dt.UTC) + lead + dt.timedelta(minutes=1)).replace(
        second=0, microsecond=0
    )
    return first, first + dt.timedelta(minutes=apart)


def _daily_cron(at: dt.datetime) -> str:
    return f"{at.minute} {at.hour} * * *"


def _fact_orders_of(lake: LiveLakehouse, day: dt.date):
    rows = DeltaTable(str(lake.root / "lh" / "gold" / "fact_orders")).to_pandas()
    rows = rows[rows["order_date"].astype(str) == day.isoformat()]
    return sorted(zip(rows["order_id"], rows["total_price"].astype(str), strict=True))


def _land_late_orders(lake: LiveLakehouse, folder: dt.date, dated: dict[int, dt.date]) -> None:
    """Orders of ``LATE_CUSTOMER`` dated ``dated[order_key]`` in ``folder``'s extract (records
    dated outside their folder). Without their lines: lines are dated by their extract
    (silver_line_items), and at this scale (about 25 lines a day) two lines shipped before
    their folder's date are over the 5 % that ``line_ships_after_order`` tolerates."""
    name = f"late_orders_{'_'.join(str(k) for k in dated)}.jsonl"
    orders = [
        order(k, d.isoformat(), o_custkey=LATE_CUSTOMER, o_totalprice=5000.0)
        for k, d in dated.items()
    ]
    land(lake.landing, "orders", folder.isoformat(), name, jsonl(*orders))


def _features_of(lake: LiveLakehouse, day: dt.date):
    """The customer_features snapshot of ``day``, sorted (read with delta-rs, no Spark)."""
    table = DeltaTable(str(lake.root / "lh" / "features" / "customer_features")).to_pandas()
    rows = table[table["as_of_date"] == day].sort_values("customer_id")
    return rows.reset_index(drop=True)


def _wait_for_gold(instance, day: dt.date) -> None:
    wait_for(
        f"fact_orders and customer_features for {day}",
        lambda: all(
            day.isoformat() in {p for p, _ in materializations(instance, asset)}
            for asset in ("fact_orders", "customer_features")
        ),
        timeout=GOLD_TIMEOUT,
    )


def test_every_layer_reached_the_landed_partitions_and_no_other(live):
    """Every daily table holds the landed days; the tables of the orders' business date the
    months-back day too (bronze observed it, its partition of that date was not written), and
    no table any other date."""
    instance, days, months_back = live["instance"], set(live["days"]), live["months_back"]
    [late_run] = _late_runs_of(instance, months_back)
    for asset in DAILY_ASSETS:
        partitions = {p for p, _ in materializations(instance, asset)}
        reaches_months_back = asset in late_run.assets
        expected = days | {months_back} if reaches_months_back else days
        assert partitions == expected, f"{asset}: {sorted(partitions)}"
    for run in runs(instance):
        if run.first is not None:
            assert run.first in days | {months_back}, run
    # Whole tables carry no date: one materialization per run that built them, never one
    # per date of the run's range (the first run covered two dates).
    for asset in WHOLE_TABLES:
        built = materializations(instance, asset)
        assert built and {p for p, _ in built} == {""}, (asset, built)
        by_run = [r.run_id for r in _materialization_records(instance, asset)]
        assert len(by_run) == len(set(by_run)), (asset, by_run)


def _materialization_records(instance, asset: str) -> list:
    from dagster import AssetKey

    return list(instance.fetch_materializations(AssetKey(asset), limit=1000).records)


def _late_runs_of(instance, day: str) -> list:
    return [r for r in runs(instance) if r.trigger == "late_records" and r.first == day]


def test_records_dated_outside_their_folder_reached_their_own_date(live):
    """Day 0's corrected orders and a late order of day 0 landed in day 2's folder. Bronze
    reported day 0; the sensor ran day 0's tables (not bronze, not the days between); silver
    holds the corrections and the late order; the day-0 feature snapshot stayed as first
    known."""
    instance, days, lake = live["instance"], live["days"], live["lake"]
    corrected_at = max(f.landed_at for f in live["late"]).timestamp()
    after = [r for r in runs(instance) if (r.start or 0) >= corrected_at - 30]
    late_runs = [r for r in after if r.trigger == "late_records"]
    assert sorted((r.first, r.last) for r in late_runs) == [
        (live["months_back"], live["months_back"]),
        (days[0], days[0]),
    ], after
    assert not {a for r in late_runs for a in r.assets if a.startswith("bronze_")}
    [day0_run] = _late_runs_of(instance, days[0])
    assert {"silver_orders", "fact_orders", "customer_features"} <= day0_run.assets
    # No landing run re-ran day 0 (no file landed in its folder), none ran a range.
    assert all(
        (r.first, r.last) == (days[2], days[2]) for r in after if r.trigger == "landing_sensor"
    )
    silver = [p for p, _ in materializations(instance, "silver_orders") if p == days[0]]
    assert len(silver) >= 2
    orders = DeltaTable(str(lake.root / "lh" / "silver" / "orders")).to_pandas()
    day0 = orders[orders["order_date"].astype(str) == days[0]]
    corrected = day0[day0["order_id"] != LATE_ORDER]
    assert len(corrected) > 0
    assert set(corrected["comment"]) == {f"late correction sent {days[2]}"}
    assert (day0["order_id"] == LATE_ORDER).sum() == 1
    # As known: the late run covered the day-0 snapshot and kept it.
    import pandas as pd

    snapshot = _features_of(lake, dt.date.fromisoformat(days[0]))
    pd.testing.assert_frame_equal(snapshot, live["snapshot_before"])


def test_an_order_dated_months_back_reached_silver_and_gold_of_its_own_date(live):
    """The months-back order, landed in today's folder, is in silver and gold under its own
    date, built by a run the sensor requested from bronze's report (no run started by hand:
    every run of the instance carries the daemon's sensor or automation tags)."""
    instance, lake, months_back = live["instance"], live["lake"], live["months_back"]
    [late_run] = _late_runs_of(instance, months_back)
    assert late_run.status == "SUCCESS" and late_run.last == months_back
    assert {"silver_orders", "fact_orders"} <= late_run.assets
    for table in ("silver/orders", "gold/fact_orders"):
        rows = DeltaTable(str(lake.root / "lh" / table)).to_pandas()
        rows = rows[rows["order_id"] == MONTHS_BACK_ORDER]
        assert [str(d) for d in rows["order_date"]] == [months_back], (table, rows)
    for asset in ("silver_orders", "fact_orders"):
        assert months_back in {p for p, _ in materializations(instance, asset)}, asset
    daemon_tags = {
        "dagster/sensor_name",
        "dagster/schedule_name",
        "dagster/from_automation_condition",
        "dagster/auto_materialize",
        "dagster/backfill",
    }
    by_hand = [r.run_id for r in instance.get_runs() if not daemon_tags & set(r.tags)]
    assert by_hand == [live["killed"]["run_id"]]  # the command killed on purpose


def test_the_bronze_warning_names_the_dates_outside_the_folder(live):
    """The ``records_in_folder_date`` WARN check of day 2's extract, read from the daemon's
    instance, names both business dates and how many records each carried; no other
    extract warned."""
    from dagster import AssetCheckEvaluation, AssetCheckKey, AssetCheckSeverity, AssetKey

    days, months_back = live["days"], live["months_back"]
    key = AssetCheckKey(AssetKey("bronze_orders"), "records_in_folder_date")
    history = live["instance"].event_log_storage.get_asset_check_execution_history(key, 20)
    evaluations = [
        data
        for r in history
        if r.event is not None
        and isinstance(data := r.event.dagster_event.event_specific_data, AssetCheckEvaluation)
    ]
    warned = [e for e in evaluations if not e.passed]
    assert warned, [(e.passed, e.description) for e in evaluations]
    assert {e.severity for e in warned} == {AssetCheckSeverity.WARN}
    described = " ".join(e.description for e in warned)
    assert months_back in described and days[0] in described, described
    dated: dict[str, int] = {}
    for evaluation in warned:  # one, unless the sensor saw day 2's extract in two parts
        for d in evaluation.metadata["off_folder_dates"].data:
            assert d["folder_date"] == days[2], d
            dated[d["business_date"]] = dated.get(d["business_date"], 0) + d["records"]
    assert dated[months_back] == 1
    assert dated[days[0]] > 1  # the corrections and the late order
    assert set(dated) == {months_back, days[0]}


def test_feature_snapshots_follow_the_as_known_rule(live):
    """Every snapshot equals an independent pandas computation over gold under the rule of
    docs/features.md: snapshots D-2..D were first built before the late orders (and the
    external tool's order of D-1) arrived, so none counts them (though gold now holds them
    all); the months-back snapshot, first built by its late run, counts its order. The rule
    is what decides: counting them would give customer 7 two more orders in D-2 and three
    more in D-1 and D."""
    import pandas as pd

    lake, root = live["lake"], str(live["lake"].root / "lh")
    late = {LATE_ORDER, MONTHS_BACK_ORDER, EXTERNAL_ORDER}
    months_back = dt.date.fromisoformat(live["months_back"])
    for day in [dt.date.fromisoformat(d) for d in live["days"]]:
        actual = _features_of(lake, day)
        expected = expected_snapshot(root, day, not_yet_known=late)
        assert len(actual) == len(expected) > 100, day
        pd.testing.assert_frame_equal(actual[list(expected.columns)], expected, check_dtype=False)
        restated = expected_snapshot(root, day).set_index("customer_id").loc[LATE_CUSTOMER]
        as_known = expected.set_index("customer_id").loc[LATE_CUSTOMER]
        unknown = 2 if day.isoformat() == live["days"][0] else 3
        assert restated["total_orders"] == as_known["total_orders"] + unknown, day
    actual = _features_of(lake, months_back)
    expected = expected_snapshot(root, months_back)
    pd.testing.assert_frame_equal(
        actual[list(expected.columns)].reset_index(drop=True), expected, check_dtype=False
    )


def test_no_two_runs_writing_tables_overlapped(live):
    """Runs the daemon launched (the killed command's run ended when its process died, not
    when the sensor recorded it, and wrote nothing)."""
    writers = [
        r
        for r in runs(live["instance"])
        if "lakehouse_tables" in r.pools and r.run_id != live["killed"]["run_id"]
    ]
    assert len(writers) >= 4  # history with day 1, day 2, the late day 0 and months back
    for a, b in combinations(writers, 2):
        assert a.end is not None and b.end is not None, (a, b)
        assert a.end <= b.start or b.end <= a.start, f"overlap: {a} / {b}"


def test_redelivered_and_malformed_records_are_counted_once(live):
    lake, days = live["lake"], live["days"]
    bronze = DeltaTable(str(lake.root / "lh" / "bronze" / "orders")).to_pyarrow_table()
    dead = DeltaTable(str(lake.root / "lh" / "bronze" / "dead_letter")).to_pyarrow_table()
    landed = lake.landing / "orders" / days[1] / f"orders_{days[1]}.jsonl"
    lines = landed.read_text().splitlines()
    malformed = [line for line in lines if line.startswith('{"malformed"')]
    assert malformed
    day1_rows = [d for d in bronze.column("_source_file").to_pylist() if landed.name in d]
    assert len(day1_rows) == len(lines) - len(malformed)  # the re-delivery added nothing
    dead_files = [f for f in dead.column("source_file").to_pylist() if landed.name in f]
    assert len(dead_files) == len(malformed)


def test_the_dead_letter_warning_reached_slack_once(live):
    top = [m for m in live["slack"] if "no_new_dead_letters" in m.text]
    orders = [m for m in top if "bronze_orders" in m.text]
    assert len(orders) == 1, [m.text for m in top]


def test_freshness_is_healthy_afterwards(live):
    """The newest finished evaluation of every table's freshness_sla check passed, and the
    native gold deadline policy (evaluated by the daemon) is not failing."""
    from dagster import AssetCheckKey, AssetKey
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus as Status,
    )

    from lakehouse_assets.operations.freshness_checks import FRESHNESS_CHECK_NAME

    storage = live["instance"].event_log_storage
    for asset in (*DAILY_ASSETS, "document_index"):
        key = AssetCheckKey(AssetKey(asset), FRESHNESS_CHECK_NAME)
        history = storage.get_asset_check_execution_history(key, limit=10)
        finished = [r for r in history if r.status in (Status.SUCCEEDED, Status.FAILED)]
        assert finished, asset
        assert finished[0].status == Status.SUCCEEDED, (asset, finished[0])
    # What the UI's freshness badge shows (the daemon's own evaluation of every table's native
    # policy): gold's deadline and the lag layers' windows pass; no table is stale or degraded.
    from dagster._core.definitions.freshness import FreshnessState

    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.settings import LakehouseSettings

    graph = build_definitions(LakehouseSettings.from_env({})).resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).is_executable]
    states = live["instance"].get_freshness_state_records(keys)
    for asset in ("bronze_orders", "silver_orders", "fact_orders", "customer_features"):
        assert states[AssetKey(asset)].freshness_state == FreshnessState.PASS, asset
    unhealthy = (FreshnessState.FAIL, FreshnessState.WARN)
    assert not [k for k, s in states.items() if s.freshness_state in unhealthy], states


def test_bronze_observed_the_late_dates_without_materializing_them(live):
    """Bronze's report of a late date is an observation: the months-back partition of bronze
    was never written, yet the UI shows the date changed (tagged, with its count)."""
    from dagster import AssetKey, AssetRecordsFilter

    instance, months_back = live["instance"], live["months_back"]
    assert months_back not in {p for p, _ in materializations(instance, "bronze_orders")}
    observed = instance.fetch_observations(
        AssetRecordsFilter(asset_key=AssetKey("bronze_orders"), asset_partitions=[months_back]),
        limit=10,
    ).records
    [report] = [r.asset_observation for r in observed]
    assert report.tags["lakehouse/late_records"] == "true"
    assert report.metadata["records"].value == 1


def test_automation_reran_nothing_a_landing_or_scheduled_run_built(live):
    """No automation run targeted a date of a table that a landing, late-records or
    scheduled run had built before it, except while the external tool was changing bronze
    outside any run (that is automation's to carry)."""
    all_runs = runs(live["instance"])
    external = live["external"]
    builders = [
        r
        for r in all_runs
        if r.trigger in ("landing_sensor", "late_records") or "dagster/schedule_name" in r.tags
    ]
    assert any("dagster/schedule_name" in r.tags for r in builders)
    built = {b.run_id: _built_by(live["instance"], b.run_id) for b in builders}
    for run in all_runs:
        if run.trigger != "automation" or external["bad_at"] <= run.start <= external["done_at"]:
            continue
        before = {pair for b in builders if b.start < run.start for pair in built[b.run_id]}
        again = {(a, d) for a in run.assets for d in run.days()} & before
        assert not again, (run, sorted(again))


def _built_by(instance, run_id: str) -> set[tuple[str, str]]:
    """(asset, date) of every partition the run materialized, read from its events (a run of
    a whole job may name no asset selection)."""
    from dagster import DagsterEventType

    events = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
    return {
        (e.dagster_event.asset_key.to_user_string(), e.dagster_event.partition)
        for e in events
        if e.dagster_event.partition
    }


def test_an_external_bronze_change_reached_silver_and_gold_through_automation_alone(live):
    """The external tool's two records of one order, reported as bronze materializations of
    their date: every run after the first report was automation's (none landing, none by
    hand); the first stopped at silver's blocking check and published nothing; the
    correction reached silver and gold under its date, and the date's feature snapshot stayed
    as first known (docs/features.md)."""
    instance, lake, external = live["instance"], live["lake"], live["external"]
    day = external["day"]
    window = [
        r
        for r in runs(instance)
        if (r.start or 0) >= external["bad_at"]
        and (r.start or 0) < external["done_at"]
        and r.job != "freshness_checks_job"
    ]
    assert window and {r.trigger for r in window} == {"automation"}, window
    stopped = [r for r in window if r.status == "FAILURE"]
    assert len(stopped) == 1 and "silver_orders" in stopped[0].assets, window
    assert all(r.days() == [day] for r in window), window
    after_fix = [r for r in window if r.start >= external["fixed_at"]]
    assert all(r.status == "SUCCESS" for r in after_fix), after_fix
    assert {"silver_orders", "fact_orders"} <= {a for r in after_fix for a in r.assets}
    assert "customer_features" not in {a for r in window for a in r.assets}
    silver = DeltaTable(str(lake.root / "lh" / "silver" / "orders")).to_pandas()
    [row] = silver[silver["order_id"] == EXTERNAL_ORDER].to_dict("records")
    assert (str(row["order_date"]), row["customer_id"]) == (day, LATE_CUSTOMER)
    fact = DeltaTable(str(lake.root / "lh" / "gold" / "fact_orders")).to_pandas()
    [fact_row] = fact[fact["order_id"] == EXTERNAL_ORDER].to_dict("records")
    assert str(fact_row["order_date"]) == day and fact_row["customer_key"] is not None


def test_the_blocking_check_paged_once_through_refusals_and_resolved(live):
    """Slack and PagerDuty refused the first attempts (429, then a 500 page); the blocking
    check's incident still opened exactly one page and one Slack thread, and resolved on
    both when the corrected record passed."""
    pagerduty, key = live["pagerduty"], live["external"]["dedup_key"]
    incident = pagerduty.incidents[key]
    assert incident.status == "resolved" and incident.alerts == 1
    assert incident.severity == "critical"
    sent = [e["event_action"] for e in pagerduty.events() if e.get("dedup_key") == key]
    assert sent.count("trigger") == 3  # refused with a 429, then a 500 page, then accepted
    assert "resolve" in sent
    opened = [
        m
        for m in live["slack"]
        if "Blocking check failure" in m.text and f"silver_orders.{BLOCKING_CHECK}" in m.text
    ]
    assert len(opened) == 1, [m.text for m in opened]
    posted = [r for r in live["slack_requests"] if opened[0].text == r.body.get("text")]
    assert len(posted) == 3  # refused twice, accepted once
    resolved = [
        m for m in live["slack_all"] if m.thread_ts == opened[0].ts and "Resolved" in m.text
    ]
    assert len(resolved) == 1


def test_a_killed_run_was_marked_failed_and_alerted(live):
    """The orphaned-run sensor (the daemon's) marked the killed command's run failed, saying
    why, and the alert router sent it as a run failure."""
    from dagster import DagsterEventType

    instance, killed = live["instance"], live["killed"]
    run = instance.get_run_by_id(killed["run_id"])
    assert run.status.value == "FAILURE"
    reasons = [e.message for e in instance.all_logs(run.run_id) if "is gone" in e.message]
    assert len(reasons) == 1 and f"pid {killed['pid']}" in reasons[0]
    steps = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_SUCCESS)
    assert not steps  # killed before a step finished: nothing written
    sent = [m for m in live["slack"] if run.run_id in m.text]
    assert len(sent) == 1 and "Run failure" in sent[0].text


def test_the_refresh_and_the_daily_schedule_fired_at_their_cron_times(live):
    """After the deploy, automation's whole-table refresh was requested at its cron minute
    and the daily schedule's run of the previous day at its own (each within the daemon's
    tick), and re-running that day changed no row of it."""
    instance, lake = live["instance"], live["lake"]
    refresh_at, daily_at = live["refresh_at"].timestamp(), live["daily_at"].timestamp()
    refreshed = [
        r
        for r in runs(instance)
        if r.trigger == "automation" and not r.days() and _created(instance, r) >= refresh_at
    ]
    assert refreshed and set(WHOLE_TABLES) <= {a for r in refreshed for a in r.assets}
    assert min(_created(instance, r) for r in refreshed) < refresh_at + 60
    [scheduled] = [
        r
        for r in runs(instance)
        if r.tags.get("dagster/schedule_name") == "lakehouse_daily_schedule"
    ]
    assert scheduled.status == "SUCCESS" and scheduled.days() == [live["days"][2]]
    tick = dt.datetime.fromisoformat(scheduled.tags[".dagster/scheduled_execution_time"])
    assert tick.timestamp() == daily_at
    assert daily_at <= _created(instance, scheduled) < daily_at + 60
    assert _fact_orders_of(lake, dt.date.fromisoformat(live["days"][2])) == live["day2_before"]


def _created(instance, run) -> float:
    return instance.get_run_record_by_id(run.run_id).create_timestamp.timestamp()


def test_the_auto_restore_sensor_restored_a_gold_table_that_failed_as_it_stands(live):
    """The refresh judged ``dim_product`` as it stands (its inputs had not changed), its
    blocking key check failed on the published version, the run failed, and the auto-restore
    sensor (the daemon's) restored the table to its last good version: the same rows as
    before the bad write, a RESTORE commit. The incident paged and resolved when the next
    run (the daily schedule's) judged the table good."""
    instance, lake, corrupted = live["instance"], live["lake"], live["corrupted"]
    [restore] = [r for r in runs(instance) if r.job == "restore_table"]
    failed = instance.get_run_by_id(restore.tags["lakehouse/restore_after_run"])
    assert failed.status.value == "FAILURE" and failed.tags["lakehouse/trigger"] == "automation"
    assert restore.status == "SUCCESS"
    table = DeltaTable(str(lake.root / "lh" / "gold" / "dim_product"))
    [restored] = [h for h in table.history(20) if h["operation"] == "RESTORE"]
    assert int(restored["operationParameters"]["version"]) <= corrupted["good_version"]
    observed = [
        e.asset_observation
        for e in instance.all_logs(restore.run_id)
        if e.dagster_event is not None and e.dagster_event.is_asset_observation
    ]
    assert [o.asset_key.to_user_string() for o in observed] == ["dim_product"]
    import pandas as pd

    now = _dim_product(lake).sort_values("product_key").reset_index(drop=True)
    before = live["products_before"].sort_values("product_key").reset_index(drop=True)
    pd.testing.assert_frame_equal(now, before)
    incidents = [
        i
        for k, i in live["pagerduty"].incidents.items()
        if ":blocking_check_failure:dim_product:" in k
    ]
    # The duplicated row was the unknown member's: its key and its one-unknown-member rule.
    assert any(i.dedup_key.endswith(":dim_product_key_unique") for i in incidents), incidents
    assert {i.status for i in incidents} == {"resolved"}, incidents
