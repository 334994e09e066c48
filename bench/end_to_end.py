"""End to end: every bronze, silver and gold table and check for all TPC-H dates as one run.

    python bench/end_to_end.py [--scale-factor 0.1]

In one Spark session: the project (one Dagster run over all 2,406 order dates, the single-run
backfill a user starts from the UI) and ``plain_lakehouse.py`` (the same transformations as a
plain PySpark + Delta script), after a warm-up of both on one week. Reports the ratio, the
time inside quality checks, Dagster's share and the driver's peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_timer import CheckTimer
from duckdb_reference import duckdb_fact_build, spark_fact_build
from harness import (
    DEFAULT_WORKDIR,
    definitions_with_job,
    jvm_pid,
    land_days,
    noop_run_seconds,
    peak_rss_bytes,
    reset_peak_rss,
    run_job,
    settings_for,
    spark_session,
    table_like_metadata,
    tpch_dir,
)
from plain_lakehouse import run_plain_lakehouse

E2E_JOB = "bench_end_to_end"
E2E_GROUPS = ("bronze", "silver", "gold")
WARM_UP_DAYS = 7


def measured(fn, pids: dict[str, int | str]) -> tuple[Any, float, dict[str, int]]:  # type: ignore[no-untyped-def]
    """``fn()``'s result, wall seconds and each process's peak RSS while it ran."""
    for pid in pids.values():
        reset_peak_rss(pid)
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    return result, seconds, {name: peak_rss_bytes(pid) for name, pid in pids.items()}


WARMED_UP: list[bool] = []


def warm_up(spark, tpch: Path, scratch: Path) -> None:  # type: ignore[no-untyped-def]
    """One week through both paths, once per process, so JIT warm-up favours neither."""
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first

    week = first + dt.timedelta(days=WARM_UP_DAYS - 1)
    landing = land_days(tpch, scratch / "warm_landing", first, week)
    defs = definitions_with_job(settings_for(scratch / "warm", landing), E2E_JOB, E2E_GROUPS)
    run_job(defs, E2E_JOB, first, week)
    run_plain_lakehouse(spark, landing, scratch / "warm_plain", first, week)
    WARMED_UP.append(True)


def fact_build_reference(spark, scratch: Path, steps: dict[str, float]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """fact_orders + fact_sales: the project's steps, plain Spark and DuckDB on the same files."""
    plain = scratch / "plain"
    duck = duckdb_fact_build(plain, scratch / "duckdb_facts")
    spark_facts = spark_fact_build(spark, plain, scratch / "spark_facts")
    project_s = steps.get("fact_orders", 0.0) + steps.get("fact_sales", 0.0)
    print(
        f"fact_orders + fact_sales: project steps {project_s:.1f}s, plain Spark "
        f"{spark_facts['seconds']:.1f}s, DuckDB {duck['seconds']:.1f}s",
        flush=True,
    )
    return {"project_steps_s": project_s, "spark_plain": spark_facts, "duckdb": duck}


def end_to_end(
    workdir: Path, scale_factor: float, timer: CheckTimer, days: int | None = None
) -> dict[str, Any]:
    """Time the project and the plain script over every order date of ``scale_factor``.

    ``days`` limits the dates (a smoke test of the benchmark itself; reports use all dates).
    """
    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first
    from lakehouse_assets.partitions import TPCH_LAST_ORDER_DATE
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    last = first + dt.timedelta(days=days - 1) if days else TPCH_LAST_ORDER_DATE

    data = workdir / f"sf{scale_factor}"
    tpch = tpch_dir(workdir, scale_factor)
    landing = land_days(tpch, data / "landing", first, last)
    scratch = data / "end_to_end"
    shutil.rmtree(scratch, ignore_errors=True)
    spark = spark_session(settings_for(scratch / "warm", landing))
    pids = {"driver_jvm": jvm_pid(spark), "python": "self"}

    if not WARMED_UP:
        warm_up(spark, tpch, scratch)

    defs = definitions_with_job(settings_for(scratch / "project", landing), E2E_JOB, E2E_GROUPS)
    run, project_s, project_peak = measured(
        lambda: run_job(defs, E2E_JOB, first, last, timer), pids
    )
    check_seconds = dict(timer.seconds)
    print(f"project, all {(last - first).days + 1} dates as one run: {project_s:.1f}s", flush=True)
    plain_rows, plain_s, plain_peak = measured(
        lambda: run_plain_lakehouse(spark, landing, scratch / "plain", first, last), pids
    )
    print(f"plain PySpark + Delta script: {plain_s:.1f}s", flush=True)
    facts = fact_build_reference(spark, scratch, run.step_seconds)

    store = DeltaTableStore(spark, PathLocator(str(scratch / "project")))
    project_rows = {
        s.qualified_name: store.row_count(s) for s in lakehouse_tables() if store.exists(s)
    }
    mismatched = {
        t: (n, project_rows.get(t)) for t, n in plain_rows.items() if project_rows.get(t) != n
    }
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "scale_factor": scale_factor,
        "dates": (last - first).days + 1,
        "groups": list(E2E_GROUPS),
        "project": {
            **run.as_dict(),
            "check_seconds_by_function": {k: round(v, 3) for k, v in check_seconds.items()},
            "peak_rss_bytes": project_peak,
        },
        "plain": {"seconds": round(plain_s, 3), "peak_rss_bytes": plain_peak},
        "ratio": project_s / plain_s,
        "fact_build": facts,
        "rows": project_rows,
        "rows_differing_from_plain": mismatched,
    }


def dagster_alone_for_end_to_end(results_dir: Path) -> dict[str, Any]:
    """Time a run of no-op assets shaped like the measured end-to-end run: Dagster alone.

    The shape (steps, check evaluations, dates) is read from the smallest scale factor's
    ``end_to_end_sf*.json``: it is the same at every scale factor, and Dagster's cost does not
    depend on the data.
    """
    from report import end_to_end_runs, load_results

    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first

    runs = end_to_end_runs(load_results(results_dir))
    if not runs:
        raise SystemExit("dagster_alone needs an end_to_end result first: --only end_to_end")
    shape = runs[0]
    steps = len(shape["project"]["step_seconds"])
    checks = shape["project"]["check_evaluations"]
    last = first + dt.timedelta(days=shape["dates"] - 1)
    seconds = noop_run_seconds(first, last, steps, checks)
    print(f"no-op run, {steps} steps, {checks} checks, {shape['dates']} dates: {seconds:.1f}s")
    with_metadata = noop_run_seconds(first, last, steps, checks, table_like_metadata())
    print(f"the same, each event with table-like metadata: {with_metadata:.1f}s", flush=True)
    return {
        "shape_from": f"end_to_end_sf{shape['scale_factor']}.json",
        "dates": shape["dates"],
        "steps": steps,
        "check_evaluations": checks,
        "seconds": round(seconds, 3),
        "with_table_metadata_s": round(with_metadata, 3),
    }


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=None, help="smoke test: first N dates only")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    report = end_to_end(args.workdir, args.scale_factor, CheckTimer().install(), args.days)
    write_results(f"end_to_end_sf{args.scale_factor}.json", {"benchmark": "end_to_end", **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
