"""Foundation benchmark: Definitions load time and the slice's wall time vs plain PySpark.

    python bench/foundation.py [--scale-factor 0.1] [--days 7] [--repeat 2]

1. Definitions load: a fresh interpreter imports ``lakehouse_assets.definitions`` and loads every
   definition; median of 5 (target: under 3 s).
2. Slice: TPC-H at the given scale factor, landed for ``--days`` days, materialized bronze ->
   silver -> gold as one Dagster run (single-run backfill), then the same work as a plain
   PySpark + Delta script, in the same Spark session, ``--repeat`` times alternating.
   The first round includes JVM warm-up for whichever goes first, so the report quotes each
   round and the ratio of the last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RESULTS = Path(__file__).resolve().parent / "results"


def slice_benchmark(scale_factor: float, days: int, repeat: int, workdir: Path) -> dict:
    from plain_pyspark_slice import run_plain_slice

    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.resources import build_resources
    from lakehouse_assets.sample_data import generate_tpch, land_tpch
    from lakehouse_assets.settings import LakehouseSettings
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    first = dt.date(1992, 1, 1)
    last = first + dt.timedelta(days=days - 1)
    tpch = generate_tpch(scale_factor, workdir / "tpch")
    landing = workdir / "landing"
    land_tpch(tpch, landing, first, last)

    def settings(root: Path) -> LakehouseSettings:
        return LakehouseSettings(
            "local", str(root), str(landing), str(root / "_checkpoints"), "dev"
        )

    started = time.perf_counter()
    spark = build_resources(settings(workdir / "warm"))["spark"].get_session()
    jvm_start = time.perf_counter() - started

    rounds = []
    for i in range(repeat):
        root = workdir / f"dagster_{i}"
        cfg = settings(root)
        defs = build_definitions(cfg)
        job = defs.resolve_job_def("lakehouse_daily_job")
        t = time.perf_counter()
        result = job.execute_in_process(
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            }
        )
        dagster_s = time.perf_counter() - t
        assert result.success
        store = DeltaTableStore(spark, PathLocator(str(root)))
        dagster_rows = {s.qualified_name: store.row_count(s) for s in lakehouse_tables()}

        t = time.perf_counter()
        plain_rows = run_plain_slice(spark, str(landing), str(workdir / f"plain_{i}"))
        plain_s = time.perf_counter() - t
        rounds.append(
            {"dagster_s": dagster_s, "plain_pyspark_s": plain_s, "ratio": dagster_s / plain_s}
        )
        print(
            f"round {i + 1}: dagster slice {dagster_s:.1f}s, "
            f"plain pyspark {plain_s:.1f}s, ratio {dagster_s / plain_s:.2f}x"
        )
    return {
        "scale_factor": scale_factor,
        "days": days,
        "dates": f"{first}..{last}",
        "jvm_start_s": jvm_start,
        "rounds": rounds,
        "rows": dagster_rows,
        "plain_rows": plain_rows,
    }


def main() -> int:
    from harness import definitions_load_seconds

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    load = definitions_load_seconds()
    print(
        "definitions load (fresh interpreter, median of 5): "
        f"{load['import_and_load_median_s']:.2f}s "
        f"(process wall {load['process_wall_median_s']:.2f}s)"
    )
    workdir = Path(tempfile.mkdtemp(prefix="lakehouse_bench_"))
    try:
        slice_result = slice_benchmark(args.scale_factor, args.days, args.repeat, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "benchmark": "foundation",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "definitions_load": load,
        "slice": slice_result,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "foundation.json").write_text(json.dumps(report, indent=2, default=str))
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
