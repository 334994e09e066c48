"""The live loop under the real Dagster daemon: files land, every layer follows by itself.

One daemon session (bounded, stops by itself): a day of history and a fed day with a burst of
malformed records are waiting when the daemon starts (its first landing run builds both); then
the feed lands a new day whose extract also carries a correction of every order of the first
day (records dated outside their folder), and a re-delivery of the burst day's orders file.
With the new day's extract, the source also sends two late orders of customer 7: one dated
the first day, one dated months back (the partitions start months back, as a lakehouse with
history's do). Four table-writing runs, each a real daemon launch: the first landing, the new
day, and the tables of the first day and of the months-back day, each requested from bronze's
report of their date. Everything is asserted through the Dagster instance, the tables and the
Slack server; no sensor or asset is called directly.
"""

from __future__ import annotations

import datetime as dt
import shutil
from itertools import combinations

import pytest
from deltalake import DeltaTable

from lakehouse_assets.sample_data.live_feed import FeedOptions
from lakehouse_assets.settings import DEFAULT_DOCS_DIR

from .alert_servers import SlackWebApiServer
from .features_oracle import expected_snapshot
from .landing_files import jsonl, land, order
from .live_harness import LiveLakehouse, materializations, runs, unfinished, wait_for

SLACK_TOKEN = "xoxb-live-test"
CHANNEL = "#lakehouse-live"
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
    with SlackWebApiServer(SLACK_TOKEN, channels=(CHANNEL,)) as slack:
        lake = LiveLakehouse(
            root,
            {
                "SLACK_BOT_TOKEN": SLACK_TOKEN,
                "LAKEHOUSE_SLACK_CHANNEL": CHANNEL,
                "LAKEHOUSE_SLACK_BASE_URL": slack.api_url,
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
            wait_for("the queue to drain", lambda: not unfinished(instance), timeout=GOLD_TIMEOUT)
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
                "slack": list(slack.top_level()),
                "slack_all": list(slack.messages),
            }


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
    """Every daily table holds the landed days; the tables of the orders' business date (and
    bronze's report of it) the months-back day too, and no table any other date."""
    instance, days, months_back = live["instance"], set(live["days"]), live["months_back"]
    [late_run] = _late_runs_of(instance, months_back)
    for asset in DAILY_ASSETS:
        partitions = {p for p, _ in materializations(instance, asset)}
        reaches_months_back = asset in late_run.assets or asset == "bronze_orders"
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
        builders = {r.run_id for r in runs(instance) if asset in r.assets}
        assert len(built) <= len(builders), (asset, len(built), len(builders))


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
    by_hand = [r for r in instance.get_runs() if not daemon_tags & set(r.tags)]
    assert not by_hand, [(r.job_name, r.tags) for r in by_hand]


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
    docs/features.md: snapshots D-2..D were first built before the late orders arrived, so
    none counts them (though gold now holds both); the months-back snapshot, first built by
    its late run, counts its order. The rule is what decides: counting the late orders would
    give customer 7 two more orders in D-2..D."""
    import pandas as pd

    lake, root = live["lake"], str(live["lake"].root / "lh")
    late = {LATE_ORDER, MONTHS_BACK_ORDER}
    months_back = dt.date.fromisoformat(live["months_back"])
    for day in [dt.date.fromisoformat(d) for d in live["days"]]:
        actual = _features_of(lake, day)
        expected = expected_snapshot(root, day, not_yet_known=late)
        assert len(actual) == len(expected) > 100, day
        pd.testing.assert_frame_equal(actual[list(expected.columns)], expected, check_dtype=False)
        restated = expected_snapshot(root, day).set_index("customer_id").loc[LATE_CUSTOMER]
        as_known = expected.set_index("customer_id").loc[LATE_CUSTOMER]
        assert restated["total_orders"] == as_known["total_orders"] + 2, day
    actual = _features_of(lake, months_back)
    expected = expected_snapshot(root, months_back)
    pd.testing.assert_frame_equal(
        actual[list(expected.columns)].reset_index(drop=True), expected, check_dtype=False
    )


def test_no_two_runs_writing_tables_overlapped(live):
    writers = [r for r in runs(live["instance"]) if "lakehouse_tables" in r.pools]
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
