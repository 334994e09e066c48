"""Bronze ingestion throughput vs a plain Spark read + Delta write of the same files.

    python bench/bronze_ingest.py [--scale-factor 1] [--workdir ~/.cache/lakehouse_bench]

Lands TPC-H at the scale factor for every order date (cached in the workdir), then in ONE Spark
session measures:

* plain: for each source, ``spark.read.json(files).write.format("delta").save(...)``
  (CSV/Parquet snapshot sources with ``read.csv``/``read.parquet``) - what a hand-written job
  does, with none of the guarantees;
* lakehouse: ``ingest_bronze_job`` for the whole date range as one Dagster run - the
  availableNow streams, typing and rescue, dead-letter split, file ledger, accounting checks
  and metadata included.

A short warm-up of both on the first 30 days runs first so JIT warm-up does not favour either.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from pathlib import Path


def plain_ingest(spark, landing: Path, out: Path, sources, days: str = "*") -> int:  # type: ignore[no-untyped-def]
    rows = 0
    for source in sources:
        pattern = f"{landing}/{source.name}/{days}/*.{source.file_format}"
        if source.file_format == "jsonl":
            df = spark.read.json(pattern)
        elif source.file_format == "csv":
            df = spark.read.option("header", True).csv(pattern)
        else:
            df = spark.read.parquet(pattern)
        target = out / source.name
        df.write.format("delta").mode("overwrite").save(str(target))
        rows += spark.read.format("delta").load(str(target)).count()
    return rows


def lakehouse_ingest(root: Path, landing: Path, first: dt.date, last: dt.date) -> tuple[int, dict]:
    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.settings import LakehouseSettings

    settings = LakehouseSettings(
        "local", str(root), str(landing), str(root / "_checkpoints"), "dev"
    )
    job = build_definitions(settings).resolve_job_def("ingest_bronze_job")
    result = job.execute_in_process(
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    assert result.success
    per_source = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.partition and mat.partition != last.isoformat():
            continue
        if "input_records" not in mat.metadata:  # a side table the stream also writes
            continue
        per_source[mat.asset_key.to_user_string()] = {
            "input_records": mat.metadata["input_records"].value,
            "dead_lettered": mat.metadata["dead_lettered"].value,
            "records_per_second": mat.metadata["records_per_second"].value,
            "stream_seconds": mat.metadata["stream_seconds"].value,
        }
    return sum(v["input_records"] for v in per_source.values()), per_source


def main() -> int:
    from harness import noop_run_seconds
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "lakehouse_bench")
    args = parser.parse_args()

    from lakehouse_assets.bronze.sources import ALL_SOURCES
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    from lakehouse_assets.resources import build_resources
    from lakehouse_assets.sample_data import generate_tpch, land_tpch
    from lakehouse_assets.settings import LakehouseSettings

    data = args.workdir / f"sf{args.scale_factor}"
    landing = data / "landing"
    t = time.perf_counter()
    tpch = generate_tpch(args.scale_factor, data / "tpch")
    land_tpch(tpch, landing, TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)
    print(f"landing zone ready in {time.perf_counter() - t:.0f}s: {landing}")
    landed_bytes = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())

    scratch = data / "runs"
    shutil.rmtree(scratch, ignore_errors=True)
    settings = LakehouseSettings("local", str(scratch / "warm"), str(landing), "", "dev")
    spark = build_resources(settings)["spark"].get_session()

    # Warm-up: January 1992 through both paths.
    warm_landing = scratch / "warm_landing"
    for source in ALL_SOURCES:
        for folder in sorted((landing / source.name).iterdir())[:30]:
            shutil.copytree(folder, warm_landing / source.name / folder.name)
    plain_ingest(spark, warm_landing, scratch / "warm_plain", ALL_SOURCES)
    warm_last = TPCH_FIRST_ORDER_DATE + dt.timedelta(days=29)
    lakehouse_ingest(scratch / "warm_lh", warm_landing, TPCH_FIRST_ORDER_DATE, warm_last)

    t = time.perf_counter()
    plain_rows = plain_ingest(spark, landing, scratch / "plain", ALL_SOURCES)
    plain_s = time.perf_counter() - t
    print(
        f"plain read+write: {plain_rows:,} rows in {plain_s:.1f}s "
        f"= {plain_rows / plain_s:,.0f} rows/s"
    )

    t = time.perf_counter()
    lh_rows, per_source = lakehouse_ingest(
        scratch / "lakehouse", landing, TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    )
    lh_s = time.perf_counter() - t
    print(f"lakehouse bronze: {lh_rows:,} records in {lh_s:.1f}s = {lh_rows / lh_s:,.0f} records/s")
    ratio = lh_s / plain_s
    print(f"ratio (lakehouse time / plain time): {ratio:.2f}x (target <= 1.3x)")
    stream_s = sum(v["stream_seconds"] for v in per_source.values())
    print(
        f"  of which the seven availableNow streams: {stream_s:.1f}s "
        f"= {stream_s / plain_s:.2f}x plain"
    )
    # Dagster's per-partition event cost alone: the same run shape with no-op assets.
    bookkeeping_s = noop_run_seconds(
        TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE, len(ALL_SOURCES), 3 * len(ALL_SOURCES)
    )
    print(
        f"  Dagster event bookkeeping for {len(ALL_SOURCES)} assets x all dates "
        f"(same run with no-op assets): {bookkeeping_s:.1f}s"
    )

    report = {
        "benchmark": "bronze_ingest",
        "scale_factor": args.scale_factor,
        "landed_files": sum(1 for p in landing.rglob("*") if p.is_file()),
        "landed_bytes": landed_bytes,
        "plain": {"rows": plain_rows, "seconds": plain_s, "rows_per_second": plain_rows / plain_s},
        "lakehouse": {
            "records": lh_rows,
            "seconds": lh_s,
            "records_per_second": lh_rows / lh_s,
            "per_source": per_source,
        },
        "ratio": ratio,
        "stream_seconds": stream_s,
        "stream_ratio": stream_s / plain_s,
        "dagster_bookkeeping_seconds": bookkeeping_s,
    }
    write_results(f"bronze_ingest_sf{args.scale_factor}.json", report)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
