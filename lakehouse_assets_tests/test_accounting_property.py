"""Property: random mixes of good, malformed, duplicated and re-delivered orders over random
dates and run orders. Bronze accounts for every record by a count of its own, and silver
equals an oracle computed in plain Python from the landed files."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.silver.tables import ORDERS as SILVER_ORDERS
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import checks_by_name, materialize_day, materialize_range, settings_for
from .landing_files import land, order, uri

pytestmark = [pytest.mark.spark]
DAYS = [dt.date(1992, 1, 1), dt.date(1992, 1, 2), dt.date(1992, 1, 3)]
SELECTION = ["bronze_orders", "silver_orders"]
MALFORMED = (
    "not json",
    '{"o_orderkey": 99, "o_orderkey": 98, "o_orderdate": "1992-01-01"}',
    json.dumps(order(97)) + json.dumps(order(96)),
    '{"o_orderdate": "1992-01-01"}',  # no key
)

record = st.one_of(
    st.tuples(st.just("good"), st.integers(1, 6), st.integers(1, 900)),
    st.tuples(st.just("bad"), st.sampled_from(MALFORMED), st.just(0)),
)
a_file = st.lists(record, min_size=0, max_size=5)
files = st.lists(a_file, min_size=1, max_size=2)
# The first wave lands every day (orders is a daily extract); a re-delivery wave some of them.
first_wave = st.fixed_dictionaries({day: files for day in DAYS})
redelivery = st.dictionaries(st.sampled_from(DAYS), files, min_size=1, max_size=2)


# Orders of different sources' customers do not interact (silver keeps the newest version per
# order), so one lakehouse takes several landing scenarios at once: scenario i's orders are
# keyed apart from the others' and its files land beside theirs. Each example runs
# SCENARIOS_PER_RUN random scenarios under one random run plan: 10 x 5 = 50 scenarios and
# 5 plans per suite run, plus the edge cases below.
SCENARIOS_PER_RUN = 10


@st.composite
def scenarios(draw):
    """Waves of landed files (SCENARIOS_PER_RUN independent scenarios, each with its own
    first wave and optional re-delivery); after each wave, either one range run over the
    wave's dates or one run per date in a random order."""
    per_scenario = draw(
        st.lists(
            st.tuples(first_wave, st.lists(redelivery, max_size=1)),
            min_size=SCENARIOS_PER_RUN,
            max_size=SCENARIOS_PER_RUN,
        )
    )
    waves = combined_waves(per_scenario)
    plans = [draw(st.one_of(st.just("range"), st.permutations(sorted(w)))) for w in waves]
    return waves, plans, draw(st.booleans())


def combined_waves(per_scenario) -> list[dict]:  # type: ignore[no-untyped-def]
    """Wave j of every scenario as one wave: day -> files, scenario i's order keys moved by
    1000 * i (its files keep their own records)."""
    depth = 1 + max(len(later) for _, later in per_scenario)
    waves: list[dict] = [{} for _ in range(depth)]
    for i, (first, later) in enumerate(per_scenario):
        for j, wave in enumerate([first, *later]):
            for day, day_files in wave.items():
                moved = [[_moved(r, i) for r in records] for records in day_files]
                waves[j].setdefault(day, []).extend(moved)
    return waves


def _moved(record, scenario: int):  # type: ignore[no-untyped-def]
    kind, value, total = record
    return (kind, value + 1000 * scenario, total) if kind == "good" else record


# The edge cases, always run: a day whose file holds only malformed lines, an empty file, the
# same order re-delivered with a new total (the later wave wins), duplicate lines, and the
# per-date plan in reverse order.
EDGE_CASES = (
    [
        {
            DAYS[0]: [[("bad", MALFORMED[0], 0), ("bad", MALFORMED[2], 0)]],
            DAYS[1]: [[]],
            DAYS[2]: [[("good", 1, 100), ("good", 2, 200)], [("good", 3, 300)]],
        },
        {DAYS[2]: [[("good", 1, 111)]], DAYS[0]: [[("good", 1, 99)]]},
    ],
    [sorted(DAYS, reverse=True), [DAYS[2], DAYS[0]]],
    True,
)


def _lines(records, day: dt.date, duplicate_lines: bool) -> list[str]:
    lines, seen = [], set()
    for kind, value, total in records:
        if kind == "bad":
            lines.append(value)
        elif value not in seen:  # one version of a key per file (two would be a coin toss)
            seen.add(value)
            text = json.dumps(order(value, day.isoformat(), o_totalprice=total))
            lines += [text, text] if duplicate_lines else [text]
    return lines


def _land_wave(landing: Path, wave_number: int, wave, duplicate_lines: bool) -> list[tuple]:
    """Land the wave (and an empty extract for any day a range over it skips); return
    (uri, day, lines) per file."""
    landed = []
    first, last = min(wave), max(wave)
    for n in range((last - first).days + 1):
        day = first + dt.timedelta(days=n)
        if day not in wave:
            land(landing, "orders", day.isoformat(), f"w{wave_number}_empty.jsonl", "")
    for day, day_files in sorted(wave.items()):
        for index, records in enumerate(day_files):
            lines = _lines(records, day, duplicate_lines)
            name = f"w{wave_number}_{index}.jsonl"
            path = land(landing, "orders", day.isoformat(), name, "".join(f"{x}\n" for x in lines))
            landed.append((uri(path), day, lines))
    return landed


def _oracle(waves_landed: list[list[tuple]]) -> tuple[int, int, dict]:
    """Records, dead letters, and the newest version of every order: a later wave wins, within
    a wave (one ingestion time) the larger file URI, as silver orders them."""
    records = dead = 0
    newest: dict[int, tuple] = {}
    for wave_number, landed in enumerate(waves_landed):
        for file_uri, _, lines in landed:
            for text in lines:
                records += 1
                if text in MALFORMED:
                    dead += 1
                    continue
                row = json.loads(text)
                rank = (wave_number, file_uri)
                key = row["o_orderkey"]
                if key not in newest or rank >= newest[key][0]:
                    newest[key] = (rank, dt.date.fromisoformat(row["o_orderdate"]), row)
    silver = {
        k: (date, Decimal(str(row["o_totalprice"])).quantize(Decimal("0.01")))
        for k, (_, date, row) in newest.items()
    }
    return records, dead, silver


def _run(settings_, plan, wave) -> list:
    if plan == "range":
        days = sorted(wave)
        return [materialize_range(settings_, days[0], days[-1], selection=SELECTION)]
    return [materialize_day(settings_, day, selection=SELECTION) for day in plan]


@settings(
    max_examples=int(os.environ.get("LAKEHOUSE_ACCOUNTING_EXAMPLES", "5")),
    deadline=None,
    # No shrinking: every candidate re-runs Spark, and a failing example is printed whole.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(case=EDGE_CASES)
@given(case=scenarios())
def test_random_landings_and_run_orders_match_the_oracle(spark, tmp_path_factory, case):
    waves, plans, duplicate_lines = case
    root = tmp_path_factory.mktemp("property")
    lakehouse = settings_for(root)
    landed = []
    for number, (wave, plan) in enumerate(zip(waves, plans, strict=True)):
        landed.append(_land_wave(Path(lakehouse.landing_root), number, wave, duplicate_lines))
        for result in _run(lakehouse, plan, wave):
            checks = checks_by_name(result)
            assert checks["ingestion_accounting"].passed
            assert checks["quality_accounting"].passed and checks["order_id_unique"].passed

    records, dead, expected = _oracle(landed)
    store = DeltaTableStore(spark, PathLocator(lakehouse.root))
    bronze_rows = _count(store, bronze_table(ORDERS))
    letters = _count(store, DEAD_LETTER)
    assert (bronze_rows + letters, letters) == (records, dead)
    silver = store.read(SILVER_ORDERS).select("order_id", "order_date", "total_price").collect()
    assert len(silver) == len({r.order_id for r in silver})  # one row per order, all dates
    assert {r.order_id: (r.order_date, r.total_price) for r in silver} == expected


def _count(store: DeltaTableStore, spec) -> int:  # type: ignore[no-untyped-def]
    return store.read(spec).count() if store.exists(spec) else 0
