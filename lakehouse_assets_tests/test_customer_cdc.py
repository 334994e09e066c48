"""Customer CDC into SCD1 / SCD2 on real Delta tables: exact hand-written cases and a property.

Events go through ``apply_customer_changes`` - the function the ``silver_customers`` asset
runs - with the bronze table given as a DataFrame of everything landed so far.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
import shutil
import tempfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lakehouse_assets.partitions import DateWindow
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.customers import apply_customer_changes
from lakehouse_assets.storage import DeltaTableStore, PathLocator
from lakehouse_assets_tests.cdc_oracle import Event, apply_events

pytestmark = pytest.mark.spark

DAY1 = dt.date(1992, 1, 1)
T0 = dt.datetime(1992, 1, 1)
ONE_DAY = dt.timedelta(days=1)

BRONZE_SCHEMA = (
    "op string, sequence_num long, event_ts timestamp, c_custkey long, c_name string, "
    "c_address string, c_nationkey long, c_phone string, c_acctbal decimal(15,2), "
    "c_mktsegment string, c_comment string, _landing_date date, _source_file string, "
    "_batch_id long, _ingestion_timestamp timestamp"
)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def ev(op, seq, key, *, segment="BUILDING", balance="1.00", name="n", ts=None) -> Event:
    moment = ts if ts is not None else (at(seq) if seq is not None else at(0))
    return Event(
        op, seq, key, moment, name=name, market_segment=segment, account_balance=Decimal(balance)
    )


def bronze_frame(spark, batches: list[list[Event]]):
    """Bronze rows for ``batches``: batch i landed on day i+1 in its own file."""
    rows = []
    for i, batch in enumerate(batches):
        landed = DAY1 + dt.timedelta(days=i)
        for e in batch:
            rows.append(
                (
                    e.op,
                    e.seq,
                    e.key,
                    e.ts,
                    e.name,
                    e.address,
                    e.nation_id,
                    e.phone,
                    e.account_balance,
                    e.market_segment,
                    e.comment,
                    landed,
                    f"landing/customer_events/{landed}/part-0.jsonl",
                    i,
                    dt.datetime.combine(landed, dt.time(6)),
                )
            )
    # c_custkey comes third in the tuple but fourth in the schema: reorder to match.
    ordered = [(r[0], r[1], r[3], r[2], *r[4:]) for r in rows]
    return spark.createDataFrame(ordered, BRONZE_SCHEMA)


def apply_batches(store: DeltaTableStore, batches: list[list[Event]]):
    """Land and apply each batch in turn (one run per landing day)."""
    outcomes = []
    for i in range(len(batches)):
        landed_so_far = bronze_frame(store.spark, batches[: i + 1])
        day = DAY1 + dt.timedelta(days=i)
        outcomes.append(
            apply_customer_changes(store, landed_so_far, DateWindow.single(day), f"run-{i}")
        )
    return outcomes


def scd1(store) -> dict:
    rows = store.read(tables.CUSTOMERS).collect()
    attrs = ("name", "address", "nation_id", "phone", "market_segment", "account_balance")
    return {
        r["customer_id"]: (
            *(r[c] for c in attrs),
            r["comment"],
            r["updated_at"],
            r["sequence_num"],
        )
        for r in rows
    }


def scd2(store) -> set:
    columns = (
        "customer_id",
        "name",
        "address",
        "nation_id",
        "phone",
        "market_segment",
        "account_balance",
        "comment",
        "valid_from",
        "valid_to",
        "is_current",
        "_start_sequence",
        "_end_sequence",
    )
    return {tuple(r) for r in store.read(tables.CUSTOMER_HISTORY).select(*columns).collect()}


@pytest.fixture
def store(spark, tmp_path):
    return DeltaTableStore(spark, PathLocator(str(tmp_path)))


def version(key, seg, bal, start, end, *, valid_to_seq=None):
    """An expected SCD2 row with the default attributes of ``ev``."""
    closes = end if valid_to_seq is None else valid_to_seq
    return (
        key,
        "n",
        "a",
        1,
        "p",
        seg,
        Decimal(bal),
        "c",
        at(start),
        at(closes) if closes is not None else None,
        closes is None,
        start,
        end,
    )


def test_hand_written_sequences_give_the_exact_tables(store):
    batch1 = [
        # Customer 1 out of order within the batch: a balance-only update (in place), then a
        # segment change (new version).
        ev("u", 5, 1, segment="MACHINERY", balance="30.00"),
        ev("c", 1, 1, balance="10.00"),
        ev("u", 3, 1, balance="20.00"),
        # Customer 2 is created and deleted.
        ev("c", 2, 2),
        ev("d", 4, 2),
        # Customer 3's seq 7 arrives a day late (batch 2).
        ev("c", 6, 3),
        ev("u", 9, 3, segment="HOUSEHOLD"),
        # Customer 4: two different events claim seq 10 -> both quarantined; seq 11 applies.
        ev("c", 10, 4, name="first"),
        ev("c", 10, 4, name="second"),
        ev("u", 11, 4),
        # Events that cannot be applied.
        ev("c", 12, None),
        ev("u", None, 5),
        ev("x", 13, 5),
    ]
    batch2 = [
        ev("u", 7, 3, segment="FURNITURE"),  # late, older than seq 9: history only
        ev("c", 1, 1, balance="10.00"),  # exact re-delivery of an applied event
        ev("d", 14, 6),  # delete of a key never seen: nothing to close
    ]
    first, second = apply_batches(store, [batch1, batch2])

    assert scd1(store) == {
        1: ("n", "a", 1, "p", "MACHINERY", Decimal("30.00"), "c", at(5), 5),
        3: ("n", "a", 1, "p", "HOUSEHOLD", Decimal("1.00"), "c", at(9), 9),
        4: ("n", "a", 1, "p", "BUILDING", Decimal("1.00"), "c", at(11), 11),
    }
    assert scd2(store) == {
        version(1, "BUILDING", "20.00", 1, 5),  # balance 20.00 corrected in place by seq 3
        version(1, "MACHINERY", "30.00", 5, None),
        version(2, "BUILDING", "1.00", 2, 4),  # closed by the delete
        version(3, "BUILDING", "1.00", 6, 7),  # closed by the late seq 7...
        version(3, "FURNITURE", "1.00", 7, 9),  # ...which sits at its place in history
        version(3, "HOUSEHOLD", "1.00", 9, None),
        version(4, "BUILDING", "1.00", 11, None),
    }
    quarantine = {
        (r["customer_id"], r["sequence_num"], r["_quarantine_reason"], r["_run_id"])
        for r in store.read(tables.CUSTOMER_EVENTS_QUARANTINE).collect()
    }
    assert quarantine == {
        (4, 10, "conflicting_duplicate_sequence", "run-0"),
        (None, 12, "null_customer_id", "run-0"),
        (5, None, "null_sequence_num", "run-0"),
        (5, 13, "unknown_op", "run-0"),
    }
    # Counts are for the events that landed in each run's window.
    assert (first.input_events, first.accepted, first.duplicates, first.quarantined) == (
        13,
        8,
        0,
        5,
    )
    assert dict(first.quarantine_reasons) == {
        "conflicting_duplicate_sequence": 2,
        "null_customer_id": 1,
        "null_sequence_num": 1,
        "unknown_op": 1,
    }
    assert (second.input_events, second.accepted, second.duplicates, second.quarantined) == (
        3,
        2,
        1,
        0,
    )
    assert first.missing_from_quarantine == second.missing_from_quarantine == 0


def test_rerunning_an_older_day_after_a_newer_one_changes_nothing(store):
    batches = [
        [ev("c", 1, 1), ev("u", 3, 1, segment="MACHINERY"), ev("c", 2, 2)],
        [ev("u", 2, 1, segment="FURNITURE"), ev("d", 4, 2)],  # seq 2 is late for customer 1
    ]
    apply_batches(store, batches)
    expected = (scd1(store), scd2(store))
    # Day 1 alone would say customer 2 exists and customer 1 never was FURNITURE; re-running
    # it after day 2 must not roll either back.
    everything = bronze_frame(store.spark, batches)
    apply_customer_changes(store, everything, DateWindow.single(DAY1), "rerun").release()
    assert (scd1(store), scd2(store)) == expected
    assert sorted(scd1(store)) == [1]
    assert store.read(tables.CUSTOMER_EVENTS_QUARANTINE).count() == 0


def test_a_day_reads_only_its_own_bronze_events_and_replays_the_rest_from_the_log(store):
    """Day 2 is applied from day 2's bronze rows alone (day 1's are gone from what it is
    given): the touched customers' earlier events come from silver.customer_events, so the
    tables equal those of a run that was given every bronze row. The change feed of SCD1
    shows exactly the customer day 2 changed."""
    batches = [
        [ev("c", 1, 1), ev("u", 3, 1, segment="MACHINERY"), ev("c", 2, 2), ev("c", 5, 3)],
        [ev("u", 2, 1, segment="FURNITURE"), ev("c", 5, 3), ev("c", 6, 4, name="x")],
    ]
    apply_batches(store, batches[:1])
    before = store.version(tables.CUSTOMERS)
    day2_only = bronze_frame(store.spark, [[], batches[1]])
    outcome = apply_customer_changes(store, day2_only, DateWindow.single(DAY1 + ONE_DAY), "d2")
    assert (outcome.input_events, outcome.accepted, outcome.duplicates) == (3, 2, 1)
    assert sorted(outcome.scope_values or []) == [1, 3, 4]
    outcome.release()
    replayed = (scd1(store), scd2(store))
    logged = store.read(tables.CUSTOMER_EVENTS).groupBy("_landing_date").count().collect()
    assert {r["_landing_date"]: r["count"] for r in logged} == {DAY1: 4, DAY1 + ONE_DAY: 3}

    apply_batches(store, batches)  # the same two days, each given everything landed so far
    assert (scd1(store), scd2(store)) == replayed
    assert replayed[0][1][4] == "MACHINERY"  # the late seq 2 went into history only
    changes = (
        store.spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", before + 1)
        .option("endingVersion", before + 1)
        .load(store.identifier(tables.CUSTOMERS))
    )
    changed = {(r["customer_id"], r["_change_type"]) for r in changes.collect()}
    assert changed == {(4, "insert")}, "customers 1 and 3 kept their current state"


def test_a_window_without_events_commits_nothing(store):
    batches = [[ev("c", 1, 1), ev("c", 2, 2)]]
    apply_batches(store, batches)
    versions = (store.version(tables.CUSTOMER_HISTORY), store.version(tables.CUSTOMERS))
    empty_day = DateWindow.single(DAY1 + dt.timedelta(days=5))
    outcome = apply_customer_changes(store, bronze_frame(store.spark, batches), empty_day, "empty")
    assert outcome.input_events == 0
    assert all(w.skipped for w in outcome.writes.values())
    assert (store.version(tables.CUSTOMER_HISTORY), store.version(tables.CUSTOMERS)) == versions
    assert sorted(scd1(store)) == [1, 2]


# -- property: any batch split and any arrival order gives the sorted-at-once answer ------------

SEGMENTS = ("BUILDING", "MACHINERY")
BALANCES = ("1.00", "2.00")


@st.composite
def event_histories(draw):
    """Events for a few customers: sequence-consistent times, some re-deliveries and conflicts."""
    events = []
    next_seq = 1
    for key in range(1, draw(st.integers(1, 3)) + 1):
        for _ in range(draw(st.integers(1, 5))):
            op = draw(st.sampled_from(("c", "u", "u", "d")))
            seg, bal = draw(st.sampled_from(SEGMENTS)), draw(st.sampled_from(BALANCES))
            events.append(ev(op, next_seq, key, segment=seg, balance=bal))
            next_seq += 1
    redelivered = draw(st.lists(st.sampled_from(events), max_size=2))
    conflicts = [
        ev(e.op, e.seq, e.key, segment=e.market_segment, balance="9.99")
        for e in draw(st.lists(st.sampled_from(events), max_size=1))
    ]
    return events + redelivered + conflicts


@st.composite
def arrivals(draw):
    """The events in a random arrival order, cut into 1-3 landing batches."""
    events = draw(event_histories())
    shuffled = draw(st.permutations(events))
    cuts = sorted(draw(st.lists(st.integers(0, len(shuffled)), max_size=2)))
    bounds = [0, *cuts, len(shuffled)]
    return events, [shuffled[a:b] for a, b in itertools.pairwise(bounds)]


# Histories of different customers are independent (CDC orders and versions per key), so one
# Spark run applies many: history i's keys and sequence numbers are moved out of the others'
# way and its batch j lands with everyone's batch j. 12 histories x 5 examples = 60 random
# histories per suite run for the Spark cost of 5.
HISTORIES_PER_RUN = 12


def moved(event: Event, history: int) -> Event:
    """``event`` as history ``history``'s: its own customers and sequence numbers."""
    seq = event.seq + 1000 * history
    return dataclasses.replace(event, key=event.key + 10 * history, seq=seq, ts=at(seq))


def combined(cases: list[tuple[list[Event], list[list[Event]]]]) -> tuple[list, list]:
    """Independent ``(events, batches)`` cases as one: every event moved to its history's
    keys, batch j of the result = batch j of every case."""
    events = [moved(e, i) for i, (history, _) in enumerate(cases) for e in history]
    depth = max(len(batches) for _, batches in cases)
    landed = [
        [
            moved(e, i)
            for i, (_, batches) in enumerate(cases)
            if j < len(batches)
            for e in batches[j]
        ]
        for j in range(depth)
    ]
    return events, landed


# The edge cases, always run: a delete that arrives before its create, a re-create after a
# delete, a re-delivery in a later batch, a conflicting re-send of a sequence number, and
# every event of a key in one batch.
EDGE_CASES = [
    ([ev("c", 1, 1), ev("d", 2, 1)], [[ev("d", 2, 1)], [ev("c", 1, 1)]]),
    (
        [ev("c", 1, 1), ev("d", 2, 1), ev("c", 3, 1, segment="MACHINERY")],
        [[ev("c", 1, 1), ev("d", 2, 1)], [ev("c", 3, 1, segment="MACHINERY")]],
    ),
    ([ev("c", 1, 1), ev("u", 2, 1)], [[ev("c", 1, 1), ev("u", 2, 1)], [ev("u", 2, 1)]]),
    (
        [ev("c", 1, 1), ev("u", 2, 1), ev("u", 2, 1, balance="9.99")],
        [[ev("c", 1, 1)], [ev("u", 2, 1, balance="9.99"), ev("u", 2, 1)]],
    ),
    (
        [ev("c", 1, 1), ev("u", 2, 1), ev("u", 3, 1)],
        [[ev("u", 3, 1), ev("c", 1, 1), ev("u", 2, 1)]],
    ),
]


@settings(
    max_examples=int(os.environ.get("LAKEHOUSE_CDC_EXAMPLES", "5")),
    deadline=None,
    # No shrinking: every candidate re-runs Spark, and the examples are small enough to read.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(cases=EDGE_CASES)
@given(cases=st.lists(arrivals(), min_size=HISTORIES_PER_RUN, max_size=HISTORIES_PER_RUN))
def test_any_batch_split_and_arrival_order_gives_the_same_tables(spark, cases):
    events, batches = combined(cases)
    root = tempfile.mkdtemp(prefix="cdc_property_")
    try:
        store = DeltaTableStore(spark, PathLocator(root))
        apply_batches(store, batches)
        expected = apply_events(events)  # all events, sorted, at once
        assert scd1(store) == expected.scd1
        assert scd2(store) == expected.scd2
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_independent_histories_combine_without_touching_each_other():
    """The combination keeps each history's keys, order and batches apart."""
    events, batches = combined(EDGE_CASES[:2])
    assert {e.key for e in events} == {1, 11}
    assert [len(b) for b in batches] == [1 + 2, 1 + 1]
    assert {e.seq for e in events if e.key == 11} == {1001, 1002, 1003}


def test_history_integrity_check_catches_broken_history(spark):
    from lakehouse_assets.silver.checks import history_integrity_check

    columns = (
        "customer_id long, valid_from timestamp, valid_to timestamp, is_current boolean, "
        "_start_sequence long, _end_sequence long"
    )
    good = [(1, at(1), at(5), False, 1, 5), (1, at(5), None, True, 5, None)]
    broken = [
        (1, at(1), None, True, 1, None),  # still current although a later version exists
        (1, at(5), None, True, 5, None),
        (2, at(9), at(3), False, 9, 12),  # ends before it starts
        (2, at(10), None, True, 10, None),  # starts inside the previous version
    ]
    current = spark.createDataFrame([(1,)], "customer_id long")
    ok = history_integrity_check(spark.createDataFrame(good, columns), current)
    assert ok.passed
    bad = history_integrity_check(spark.createDataFrame(broken, columns), current)
    assert not bad.passed
    problems = {k: v.value for k, v in bad.metadata.items()}
    assert problems["keys_with_several_current_versions"] == 1
    assert problems["versions_ending_before_they_start"] == 1
    assert problems["overlapping_versions"] == 2
    assert problems["keys_current_in_only_one_of_scd1_scd2"] == 1  # 2 is current only in SCD2


def test_a_run_killed_between_the_two_commits_leaves_readers_on_matching_versions(store):
    """SCD2 is committed first; until SCD1 records that version, gold reads the history the
    current SCD1 matches, never a history newer than the customers table."""
    from lakehouse_assets.silver.customers import read_customer_history

    apply_batches(store, [[ev("c", 1, 1), ev("c", 2, 2)]])
    matching = {tuple(r) for r in read_customer_history(store).collect()}
    assert matching == {tuple(r) for r in store.read(tables.CUSTOMER_HISTORY).collect()}
    # The first commit of a run that then died: history moves on, customers does not.
    store.spark.sql(f"DELETE FROM {store.sql_name(tables.CUSTOMER_HISTORY)} WHERE customer_id = 2")
    assert {tuple(r) for r in read_customer_history(store).collect()} == matching
    # The re-run (then the next day) publishes the pair again; readers follow.
    apply_batches(store, [[ev("c", 1, 1), ev("c", 2, 2)], [ev("u", 3, 1, segment="MACHINERY")]])
    assert {tuple(r) for r in read_customer_history(store).collect()} == {
        tuple(r) for r in store.read(tables.CUSTOMER_HISTORY).collect()
    }
