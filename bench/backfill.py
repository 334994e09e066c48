"""Backfill: N days as one single-run backfill versus N one-day runs.

    python bench/backfill.py [--scale-factor 0.1] [--days 30]

Two empty lakehouses get the same N days of files. The first lands them all and runs
``lakehouse_daily_job`` once for the range (what a UI backfill does under the project's
single-run backfill policy); the second lands and runs one day at a time (what N scheduled
daily runs, or a backfill without that policy, do). Both must end with the same tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
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
COMPARED_TABLES = (
    "silver.orders",
    "silver.line_items",
    "silver.customers",
    "silver.customer_history",
    "gold.dim_customer",
    "gold.fact_orders",
    "gold.fact_sales",
    "gold.agg_daily_sales",
    "features.customer_features",
)


def compare_lakehouses(root_a: Path, root_b: Path) -> dict[str, dict[str, int]]:
    """Rows and differing rows of each compared table in two lakehouses.

    Columns starting with ``_`` are lineage (source file path, batch id, processing time) and
    differ by construction between two lakehouses, so the comparison leaves them out.
    ``differing`` counts rows (with multiplicity) found in one table and not the other; a table
    missing from either lakehouse is recorded as -1 everywhere.
    """
    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    spark = spark_session(settings_for(root_a, root_a))
    store_a = DeltaTableStore(spark, PathLocator(str(root_a)))
    store_b = DeltaTableStore(spark, PathLocator(str(root_b)))
    compared = {}
    for spec in (s for s in lakehouse_tables() if s.qualified_name in COMPARED_TABLES):
        if not (store_a.exists(spec) and store_b.exists(spec)):
            compared[spec.qualified_name] = {"rows_a": -1, "rows_b": -1, "differing": -1}
            continue
        a, b = store_a.read(spec), store_b.read(spec)
        business = [c for c in a.columns if not c.startswith("_")]
        a, b = a.select(*business), b.select(*business)
        compared[spec.qualified_name] = {
            "rows_a": a.count(),
            "rows_b": b.count(),
            "differing": a.exceptAll(b).count() + b.exceptAll(a).count(),
        }
    return compared


def backfill_comparison(
    workdir: Path, scale_factor: float, days: int, timer: CheckTimer | None = None
) -> dict[str, Any]:
    """Time one ``days``-day run against ``days`` one-day runs on fresh lakehouses."""
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first

    last = first + dt.timedelta(days=days - 1)
    tpch = tpch_dir(workdir, scale_factor)
    scratch = workdir / f"sf{scale_factor}" / "backfill"
    shutil.rmtree(scratch, ignore_errors=True)

    single = scratch / "single_run"
    land_days(tpch, single / "landing", first, last)
    defs = definitions_with_job(settings_for(single / "lake", single / "landing"), "unused", ())
    one_run = run_job(defs, DAILY_JOB, first, last, timer)
    print(f"{days} days as one run: {one_run.seconds:.1f}s", flush=True)

    daily = scratch / "daily_runs"
    defs = definitions_with_job(settings_for(daily / "lake", daily / "landing"), "unused", ())
    runs = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        land_days(tpch, daily / "landing", first, day)
        runs.append(run_job(defs, DAILY_JOB, day, day, timer))
    total = sum(r.seconds for r in runs)
    print(f"{days} one-day runs: {total:.1f}s ({total / one_run.seconds:.1f}x)", flush=True)

    compared = compare_lakehouses(single / "lake", daily / "lake")
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "scale_factor": scale_factor,
        "days": days,
        "single_run": one_run.as_dict(),
        "daily_runs_seconds": [round(r.seconds, 3) for r in runs],
        "daily_runs_total_s": round(total, 3),
        "daily_run_step_seconds_median": _median_steps([r.step_seconds for r in runs]),
        "ratio": total / one_run.seconds,
        "rows_single_run": {t: c["rows_a"] for t, c in compared.items()},
        "rows_daily_runs": {t: c["rows_b"] for t, c in compared.items()},
        "differing_rows": {t: c["differing"] for t, c in compared.items()},
        "same_tables": all(
            c["rows_a"] == c["rows_b"] and not c["differing"] for c in compared.values()
        ),
    }


def _median_steps(step_seconds: list[dict[str, float]]) -> dict[str, float]:
    import statistics

    keys = {k for steps in step_seconds for k in steps}
    return {
        k: round(statistics.median(s.get(k, 0.0) for s in step_seconds), 3) for k in sorted(keys)
    }


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    report = backfill_comparison(args.workdir, args.scale_factor, args.days, CheckTimer().install())
    write_results("backfill.json", {"benchmark": "backfill", **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
