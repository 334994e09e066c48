"""Incremental cost: one new day with 10, 100 and 1,000 days of history already in the tables.

    python bench/incremental.py [--scale-factor 0.1] [--history 10 100 1000] [--new-days 2]
    python bench/incremental.py --part silver_customers [--history 10 1000] [--new-days 3]

One lakehouse grows in place: land the history and build it as one run, then land one new day at
a time and time ``lakehouse_daily_job`` for it (every layer, every check, exactly what the daily
schedule runs). The next history size extends the same tables. Per-step durations say which
table's cost grows with history.

``--part silver_customers`` measures the one table whose daily run used to read its whole
history (see ``incremental_customers.py``), at a change rate high enough for history to matter,
and writes ``incremental_silver_customers.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_timer import CheckTimer
from harness import (
    DEFAULT_WORKDIR,
    definitions_with_job,
    land_days,
    run_job,
    settings_for,
    spark_session,
    tpch_dir,
)

DAILY_JOB = "lakehouse_daily_job"


def incremental_costs(
    workdir: Path,
    scale_factor: float,
    histories: list[int],
    new_days: int,
    timer: CheckTimer | None = None,
    on_point: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Time ``new_days`` one-day runs after each history size; return every run's figures.

    ``on_point`` gets the figures so far after each history size (1,000 days takes long; a
    stopped run keeps what it measured).
    """
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first

    tpch = tpch_dir(workdir, scale_factor)
    scratch = workdir / f"sf{scale_factor}" / "incremental"
    shutil.rmtree(scratch, ignore_errors=True)
    landing, lake = scratch / "landing", scratch / "lake"
    defs = definitions_with_job(settings_for(lake, landing), "unused", ())
    built = 0  # days already in the tables
    points = []
    for history in sorted(histories):
        start, end = first + dt.timedelta(days=built), first + dt.timedelta(days=history - 1)
        land_days(tpch, landing, first, end)
        backfill = run_job(defs, DAILY_JOB, start, end, timer)
        print(f"history {history} days: built {start}..{end} in {backfill.seconds:.1f}s")
        runs = []
        for n in range(new_days):
            day = end + dt.timedelta(days=1 + n)
            land_days(tpch, landing, first, day)
            run = run_job(defs, DAILY_JOB, day, day, timer)
            runs.append(run)
            print(f"  one new day {day} on {history + n} days of history: {run.seconds:.1f}s")
        built = history + new_days
        points.append(
            {
                "history_days": history,
                "history_build": backfill.as_dict(),
                "one_day_runs": [r.as_dict() for r in runs],
                "one_day_median_s": statistics.median(r.seconds for r in runs),
            }
        )
        if on_point is not None:
            on_point({"scale_factor": scale_factor, "job": DAILY_JOB, "points": points})
    shutil.rmtree(scratch, ignore_errors=True)
    return {"scale_factor": scale_factor, "job": DAILY_JOB, "points": points}


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--history", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--new-days", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--part", choices=("daily_job", "silver_customers"), default="daily_job")
    parser.add_argument("--customers", type=int, default=150_000)
    parser.add_argument("--events-per-day", type=int, default=1_000)
    args = parser.parse_args()
    if args.part == "silver_customers":
        return _silver_customers(args)
    report = incremental_costs(
        args.workdir, args.scale_factor, args.history, args.new_days, CheckTimer().install()
    )
    write_results("incremental.json", {"benchmark": "incremental", **report})
    return 0


def _silver_customers(args: argparse.Namespace) -> int:
    from incremental_customers import silver_customers_costs
    from results_file import write_results

    scratch = args.workdir / "incremental_customers"
    spark = spark_session(settings_for(scratch / "lake", scratch / "landing"))
    histories = sorted(args.history) if args.history != [10, 100, 1000] else [10, 1000]
    report = silver_customers_costs(
        spark, scratch, histories, args.new_days, args.customers, args.events_per_day
    )
    print(
        f"one day: {report['one_day_cost_ratio']}x from {histories[0]} to {histories[-1]} days "
        f"(baseline full replay {report['baseline_cost_ratio']}x)"
    )
    write_results(
        "incremental_silver_customers.json",
        {"benchmark": "incremental_silver_customers", **report},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
