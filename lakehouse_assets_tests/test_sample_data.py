"""The sample-data command: TPC-H landed as daily files, change events and snapshots (no Spark)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd

from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.sample_data.__main__ import main as sample_data_main
from lakehouse_assets.sample_data.customer_events import customer_change_events
from lakehouse_assets.sample_data.landing import daily_file

from .conftest import days


def test_landing_zone_layout_and_record_counts(tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    report = land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 5))
    orders = duckdb.sql(
        f"SELECT o_orderdate::varchar d, count(*) n FROM '{tpch_dir}/orders.parquet' "
        "WHERE o_orderdate <= DATE '1992-01-05' GROUP BY ALL"
    ).fetchall()
    for day, count in orders:
        lines = daily_file(landing, "orders", day).read_text().splitlines()
        assert len(lines) == count
        assert all(json.loads(line)["o_orderdate"] == day for line in lines)
    assert report.files["orders"] == report.files["lineitem"] == 5
    assert report.records["orders"] == sum(n for _, n in orders)
    assert (landing / "part" / "1992-01-01" / "part.parquet").exists()
    assert (landing / "nation" / "1992-01-01" / "nation.csv").read_text().startswith("n_nationkey")
    assert not list(landing.rglob("*.tmp")) and not (landing / "_staging").exists()


def test_landing_twice_changes_nothing(tpch_dir, tmp_path):
    landing = tmp_path / "landing"
    land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 2))
    before = {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}
    again = land_tpch(tpch_dir, landing, dt.date(1992, 1, 1), dt.date(1992, 1, 2))
    after = {p: p.stat().st_mtime_ns for p in landing.rglob("*") if p.is_file()}
    assert before == after
    assert again.skipped_existing == len(before)


def test_customer_events_insert_all_then_change_only_customers_without_orders():
    customers = pd.DataFrame(
        {
            "c_custkey": range(1, 3001),
            "c_name": [f"Customer#{i}" for i in range(1, 3001)],
            "c_address": "x",
            "c_nationkey": 1,
            "c_phone": "p",
            "c_acctbal_cents": 100_00,
            "c_mktsegment": "BUILDING",
            "c_comment": "c",
        }
    )
    period = days("1992-01-01", "1992-03-31")
    events = customer_change_events(customers, period, seed=7)
    again = customer_change_events(customers, period, seed=7)
    pd.testing.assert_frame_equal(events, again)
    first_day = events[events.landing_date == "1992-01-01"]
    assert (first_day.op == "c").all() and len(first_day) == 3000
    changes = events[events.op != "c"]
    assert len(changes) > 0 and set(changes.op) <= {"u", "d"}
    assert (changes.c_custkey % 3 == 0).all()  # TPC-H: these customers never order
    assert events.sequence_num.is_monotonic_increasing and events.sequence_num.is_unique
    deleted = set(changes[changes.op == "d"].c_custkey)
    for key in deleted:  # nothing happens to a customer after its delete
        last = events[events.c_custkey == key].iloc[-1]
        assert last.op == "d"


def test_sample_data_command_defaults_to_a_landing_zone_under_lakehouse_root(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "lh"))
    code = sample_data_main(
        ["--scale-factor", "0.01", "--start", "1992-01-01", "--end", "1992-01-02"]
    )
    assert code == 0
    assert daily_file(tmp_path / "lh" / "landing", "lineitem", "1992-01-02").exists()
    assert "lineitem" in capsys.readouterr().out
