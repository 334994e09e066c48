"""Fixed cost: what a run pays that does not depend on data (issue 23's four figures).

In one interpreter and one Spark session:

* ``week_ratio``: the demo's week (``lakehouse_daily_job``: every asset and check, SF 0.01,
  7 days, one run) against ``plain_lakehouse.py`` doing the same writes from the same files:
  bronze, silver and gold, then the customer features and drift, the knowledge base
  (chunks, embeddings by the same model, the ANN index) and the data dictionary
  (``run_plain_downstream``). ``bronze_to_gold_ratio`` compares the bronze-to-gold part
  alone. One untimed plain day warms the JVM and loads the model first, so neither side pays
  its start-up for the other.
* ``empty_step_p50_s``: the median step of the daily job for a day whose extracts landed empty,
  on the lakehouse the week built.
* ``daily_ratio``: one new day at SF 0.1 on 100 days of history (the project's daily job for
  that day against ``plain_lakehouse.run_plain_day`` plus that day's features and drift, on
  the plain script's own 100 days).
* ``history_events_s``: Dagster's own bookkeeping for the whole-history run: a run of no-op
  assets with the daily job's shape (steps, checks) over all 2,406 TPC-H dates, as one run.
  Reported next to the last measured end-to-end ratio at SF 1 (``end_to_end_sf1.0.json``).

``python bench/fixed_cost.py`` (about 30 minutes on 2 cores; TPC-H is generated once and cached
under ``~/.cache/lakehouse_bench``). Writes ``bench/results/fixed_cost.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# TPC-H's own dates, whatever a demo landing in the checkout says (as the test suite pins it).
os.environ.setdefault("LAKEHOUSE_PARTITION_START", "1992-01-01")

from harness import (
    DEFAULT_WORKDIR,
    definitions_with_job,
    land_days,
    noop_run_seconds,
    run_job,
    settings_for,
    spark_session,
    tpch_dir,
)
from overheads import land_empty_extracts
from plain_lakehouse import (
    run_plain_day,
    run_plain_day_downstream,
    run_plain_downstream,
    run_plain_lakehouse,
)

DAILY_JOB = "lakehouse_daily_job"
TARGETS = {"week_ratio": 2.0, "empty_step_p50_s": 1.5, "daily_ratio": 1.5}


def _first_date() -> dt.date:
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE

    return TPCH_FIRST_ORDER_DATE


def _timed(fn) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def week_and_empty_day(workdir: Path, days: int) -> dict[str, Any]:
    """The demo's week against the plain script, then an empty day's steps."""
    first = _first_date()
    last = first + dt.timedelta(days=days - 1)
    scratch = workdir / "sf0.01" / "fixed_cost"
    shutil.rmtree(scratch, ignore_errors=True)
    landing = land_days(tpch_dir(workdir, 0.01), scratch / "landing", first, last)
    settings = settings_for(scratch / "project", landing)
    spark = spark_session(settings)
    docs = Path(settings.knowledge_base.docs_dir)
    # Both sides on a warm JVM and a loaded model: one untimed plain day first. Otherwise
    # whichever side runs first pays the JVM's class loading, JIT, Delta's first-use costs and
    # the model's load for both.
    run_plain_lakehouse(spark, landing, scratch / "warmup", first, first)
    run_plain_downstream(spark, scratch / "warmup", docs, first, first)
    defs = definitions_with_job(settings, "unused", ())
    week = run_job(defs, DAILY_JOB, first, last)
    print(f"week (SF 0.01, {days} days, every asset): {week.seconds:.1f}s", flush=True)
    plain_gold_s = _timed(
        lambda: run_plain_lakehouse(spark, landing, scratch / "plain", first, last)
    )
    plain_rest_s = _timed(lambda: run_plain_downstream(spark, scratch / "plain", docs, first, last))
    plain_s = plain_gold_s + plain_rest_s
    print(
        f"plain script, same week: {plain_s:.1f}s ({plain_gold_s:.1f}s bronze to gold, "
        f"{plain_rest_s:.1f}s features, knowledge base, data dictionary)",
        flush=True,
    )
    # The steps that write what the plain script's bronze-to-gold part does not.
    extra_s = sum(
        seconds
        for step, seconds in week.step_seconds.items()
        if not step.startswith(("bronze_", "silver_", "dim_", "fact_", "agg_"))
    )

    empty_day = last + dt.timedelta(days=1)
    land_empty_extracts(landing, empty_day)
    empty = run_job(defs, DAILY_JOB, empty_day, empty_day)
    steps = sorted(empty.step_seconds.values())
    noop_s = noop_run_seconds(empty_day, empty_day, len(steps), empty.check_evaluations)
    print(
        f"empty day: {empty.seconds:.1f}s, {len(steps)} steps, median step "
        f"{statistics.median(steps):.2f}s; no-op run of that shape {noop_s:.2f}s",
        flush=True,
    )
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "week": {
            **week.as_dict(),
            "plain_s": round(plain_s, 3),
            "plain_bronze_to_gold_s": round(plain_gold_s, 3),
            "plain_downstream_s": round(plain_rest_s, 3),
            "steps_beyond_gold_s": round(extra_s, 3),
            "bronze_to_gold_ratio": round((week.seconds - extra_s) / plain_gold_s, 3),
        },
        "week_ratio": week.seconds / plain_s,
        "empty_day": {**empty.as_dict(), "noop_same_shape_s": round(noop_s, 3)},
        "empty_step_p50_s": statistics.median(steps),
        "shape": {"steps": len(week.step_seconds), "check_evaluations": week.check_evaluations},
    }


def daily_on_history(workdir: Path, scale_factor: float, history_days: int) -> dict[str, Any]:
    """One new day on ``history_days`` of history: the project's daily run vs the plain day."""
    first = _first_date()
    last = first + dt.timedelta(days=history_days - 1)
    new_day = last + dt.timedelta(days=1)
    scratch = workdir / f"sf{scale_factor}" / "fixed_cost_daily"
    shutil.rmtree(scratch, ignore_errors=True)
    tpch = tpch_dir(workdir, scale_factor)
    landing = land_days(tpch, scratch / "landing", first, last)
    settings = settings_for(scratch / "project", landing)
    spark = spark_session(settings)
    defs = definitions_with_job(settings, "unused", ())
    history = run_job(defs, DAILY_JOB, first, last)
    print(f"history ({history_days} days, SF {scale_factor}): {history.seconds:.1f}s", flush=True)
    plain = scratch / "plain"
    docs = Path(settings.knowledge_base.docs_dir)

    def plain_history() -> None:
        run_plain_lakehouse(spark, landing, plain, first, last)
        run_plain_downstream(spark, plain, docs, first, last)

    def plain_day() -> None:
        run_plain_day(spark, landing, plain, new_day)
        run_plain_day_downstream(spark, plain, new_day)

    plain_history_s = _timed(plain_history)
    land_days(tpch, landing, new_day, new_day)
    day = run_job(defs, DAILY_JOB, new_day, new_day)
    plain_day_s = _timed(plain_day)
    print(f"new day {new_day}: project {day.seconds:.1f}s, plain {plain_day_s:.1f}s", flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "scale_factor": scale_factor,
        "history_days": history_days,
        "history_run_s": round(history.seconds, 3),
        "plain_history_s": round(plain_history_s, 3),
        "day": day.as_dict(),
        "plain_day_s": round(plain_day_s, 3),
        "daily_ratio": day.seconds / plain_day_s,
    }


def whole_table_steps() -> list[str]:
    """The daily job's unpartitioned assets (dimensions, knowledge base, data dictionary)."""
    from dagster import AssetsDefinition

    from lakehouse_assets.definitions import defs

    assets = [a for a in defs.assets or [] if isinstance(a, AssetsDefinition)]
    return sorted(
        k.to_user_string()
        for a in assets
        if a.is_executable and a.partitions_def is None
        for k in a.keys
        if k.to_user_string() != "pipeline_runs"
    )


def history_events(steps: int, checks: int) -> dict[str, Any]:
    """Dagster alone for the whole-history run: no-op assets of the daily job's shape, its
    whole tables unpartitioned as theirs are; and the same shape with every asset daily (what
    the run cost before the whole tables were unpartitioned)."""
    from lakehouse_assets.partitions import TPCH_LAST_ORDER_DATE

    first = _first_date()
    whole = whole_table_steps()
    seconds = noop_run_seconds(first, TPCH_LAST_ORDER_DATE, steps, checks, whole_tables=len(whole))
    all_daily_s = noop_run_seconds(first, TPCH_LAST_ORDER_DATE, steps, checks)
    dates = (TPCH_LAST_ORDER_DATE - first).days + 1
    print(
        f"no-op run, {steps} steps ({len(whole)} whole tables), {checks} checks, {dates} "
        f"dates: {seconds:.1f}s; every asset daily: {all_daily_s:.1f}s",
        flush=True,
    )
    sf1 = Path(__file__).parent / "results" / "end_to_end_sf1.0.json"
    measured = json.loads(sf1.read_text()) if sf1.exists() else {}
    return {
        "dates": dates,
        "steps": steps,
        "check_evaluations": checks,
        "whole_tables": whole,
        "history_events_s": round(seconds, 3),
        "history_events_every_asset_daily_s": round(all_daily_s, 3),
        "end_to_end_sf1_ratio": measured.get("ratio"),
        "end_to_end_sf1_measured_at": measured.get("measured_at"),
    }


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--week-days", type=int, default=7)
    parser.add_argument("--daily-scale-factor", type=float, default=0.1)
    parser.add_argument("--history-days", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    week = week_and_empty_day(args.workdir, args.week_days)
    daily = daily_on_history(args.workdir, args.daily_scale_factor, args.history_days)
    events = history_events(week["shape"]["steps"], week["shape"]["check_evaluations"])
    figures = {
        "week_ratio": week["week_ratio"],
        "empty_step_p50_s": week["empty_step_p50_s"],
        "daily_ratio": daily["daily_ratio"],
        "history_events_s": events["history_events_s"],
    }
    for name, value in figures.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f" (target <= {target})"
        print(f"{name}: {value:.2f}{verdict}")
    write_results(
        "fixed_cost.json",
        {
            "benchmark": "fixed_cost",
            **{k: round(v, 3) for k, v in figures.items()},
            "targets": TARGETS,
            "week_and_empty_day": week,
            "daily": daily,
            "history": events,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
