"""Maintenance cost per table, and what it buys: OPTIMIZE + VACUUM after a run of daily writes.

    python bench/maintenance.py [--scale-factor 1.0] [--days 14]

Builds ``--days`` TPC-H days one daily run at a time (the way the schedule writes: many small
commits), then runs every layer's maintenance job (``maintain_<layer>_tables``) and reads back
from ``monitoring.table_maintenance`` what each table cost (seconds, files before and after).
The baseline, in the same run: a one-day read of ``gold.fact_sales`` (files a date filter has
to open, and seconds) before and after the maintenance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    DEFAULT_WORKDIR,
    definitions_with_job,
    land_days,
    run_job,
    settings_for,
    tpch_dir,
)

DAILY_JOB = "lakehouse_daily_job"
LAYERS = ("bronze", "silver", "gold", "features", "vector_index", "monitoring")


def one_day_read(store: Any, spec: Any, day: dt.date, repeats: int = 5) -> dict[str, float]:
    """Median seconds of a one-day aggregate, and the data files the date filter opens."""
    from pyspark.sql import functions as F

    df = store.read(spec).where(F.col("order_date") == F.lit(day))
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        df.agg(F.sum("net_amount")).collect()
        seconds.append(time.perf_counter() - started)
    files = len(df.inputFiles())
    return {"median_s": round(statistics.median(seconds), 4), "files_read": files}


def maintenance_costs(workdir: Path, scale_factor: float, days: int) -> dict[str, Any]:
    from lakehouse_assets.gold import tables as gold
    from lakehouse_assets.lifecycle.definitions import maintenance_job_name
    from lakehouse_assets.monitoring.tables import TABLE_MAINTENANCE
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first
    from lakehouse_assets.resources import build_resources

    tpch = tpch_dir(workdir, scale_factor)
    scratch = workdir / f"sf{scale_factor}" / "maintenance"
    shutil.rmtree(scratch, ignore_errors=True)
    landing, lake = scratch / "landing", scratch / "lake"
    settings = settings_for(lake, landing)
    defs = definitions_with_job(settings, "unused", ())
    build_started = time.perf_counter()
    for n in range(days):
        day = first + dt.timedelta(days=n)
        land_days(tpch, landing, first, day)
        run_job(defs, DAILY_JOB, day, day)
    build_seconds = time.perf_counter() - build_started
    print(f"built {days} days one run at a time in {build_seconds:.1f}s")
    resources = build_resources(settings)
    store = resources["storage"].store(resources["spark"].get_session())
    probe_day = first + dt.timedelta(days=days // 2)
    before = one_day_read(store, gold.FACT_SALES, probe_day)
    jobs = {}
    for layer in LAYERS:
        started = time.perf_counter()
        result = defs.resolve_job_def(maintenance_job_name(layer)).execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        )
        assert result.success, layer
        jobs[layer] = round(time.perf_counter() - started, 3)
        print(f"maintain_{layer}_tables: {jobs[layer]:.1f}s")
    after = one_day_read(store, gold.FACT_SALES, probe_day)
    rows = store.read(TABLE_MAINTENANCE).collect()
    tables: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = tables.setdefault(row["table_name"], {})
        operation = row["operation"].lower()
        entry[f"{operation}_s"] = round(row["duration_seconds"], 3)
        if operation == "optimize":
            entry["files_before"], entry["files_after"] = row["files_before"], row["files_after"]
            entry["bytes_before"], entry["bytes_after"] = row["bytes_before"], row["bytes_after"]
        else:
            entry["vacuumed_files"] = row["files_removed"]
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "scale_factor": scale_factor,
        "days_built_one_run_each": days,
        "build_seconds": round(build_seconds, 1),
        "job_seconds": jobs,
        "tables": tables,
        "fact_sales_one_day_read": {"before": before, "after": after, "day": str(probe_day)},
    }


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    report = maintenance_costs(args.workdir, args.scale_factor, args.days)
    write_results("maintenance.json", {"benchmark": "maintenance", **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
