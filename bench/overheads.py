"""Fixed costs: Definitions load time and a daily run on a partition with no data.

    python bench/overheads.py [--scale-factor 0.1]

* Definitions load: a fresh interpreter imports the code location and loads every definition
  (what ``dagster dev`` and every run worker pay); median of 5.
* Empty partition: a lakehouse with two days built runs ``lakehouse_daily_job`` for a date
  whose daily extracts landed empty (median of ``--repeat`` runs), beside a run of the same
  shape (as many steps and check evaluations) of no-op assets: Dagster's own share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_timer import CheckTimer
from harness import (
    DEFAULT_WORKDIR,
    definitions_load_seconds,
    definitions_with_job,
    land_days,
    noop_run_seconds,
    run_job,
    settings_for,
    tpch_dir,
)

DAILY_JOB = "lakehouse_daily_job"
BUILT_DAYS = 2


def land_empty_extracts(landing: Path, day: dt.date) -> None:
    """A day without business: every daily source lands its file, with no records in it.

    (A missing daily file is an incident the bronze assets fail on; an empty one is normal.)
    """
    from lakehouse_assets.bronze.sources import ALL_SOURCES
    from lakehouse_assets.sample_data.landing import daily_file

    for source in ALL_SOURCES:
        if source.daily_extract:
            path = daily_file(landing, source.name, day)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()


def empty_partition_overhead(
    workdir: Path, scale_factor: float, repeat: int, timer: CheckTimer | None = None
) -> dict[str, Any]:
    """Daily-job runs for a date whose extracts landed empty, on a lakehouse with two days built."""
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE as first
    from lakehouse_assets.partitions import TPCH_LAST_ORDER_DATE

    scratch = workdir / f"sf{scale_factor}" / "overheads"
    shutil.rmtree(scratch, ignore_errors=True)
    built = first + dt.timedelta(days=BUILT_DAYS - 1)
    landing = land_days(tpch_dir(workdir, scale_factor), scratch / "landing", first, built)
    defs = definitions_with_job(settings_for(scratch / "lake", landing), "unused", ())
    run_job(defs, DAILY_JOB, first, built)
    empty_day = TPCH_LAST_ORDER_DATE
    land_empty_extracts(landing, empty_day)
    runs = [run_job(defs, DAILY_JOB, empty_day, empty_day, timer) for _ in range(repeat)]
    for run in runs:
        print(f"empty partition {empty_day}: {run.seconds:.1f}s", flush=True)
    steps, checks = len(runs[-1].step_seconds), runs[-1].check_evaluations
    noop_s = statistics.median(noop_run_seconds(empty_day, empty_day, steps, checks) for _ in runs)
    print(f"same run shape, no-op assets ({steps} steps, {checks} checks): {noop_s:.2f}s")
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "empty_day": empty_day.isoformat(),
        "runs": [r.as_dict() for r in runs],
        "median_s": statistics.median(r.seconds for r in runs),
        "steps": steps,
        "check_evaluations": checks,
        "noop_same_shape_s": noop_s,
    }


def overheads(
    workdir: Path, scale_factor: float, repeat: int, timer: CheckTimer | None = None
) -> dict[str, Any]:
    """Definitions load time and the empty-partition run."""
    load = definitions_load_seconds()
    print(
        f"definitions load (fresh interpreter, median of 5): "
        f"{load['import_and_load_median_s']:.2f}s (process {load['process_wall_median_s']:.2f}s)",
        flush=True,
    )
    empty = empty_partition_overhead(workdir, scale_factor, repeat, timer)
    return {"scale_factor": scale_factor, "definitions_load": load, "empty_partition": empty}


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args()
    report = overheads(args.workdir, args.scale_factor, args.repeat, CheckTimer().install())
    write_results("overheads.json", {"benchmark": "overheads", **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
