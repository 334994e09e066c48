"""Gold build: the star-schema assets vs a hand-written PySpark + Delta script, same run.

    python bench/gold_build.py [--scale-factor 1] [--workdir ~/.cache/lakehouse_bench]

Input: silver and bronze tables for every TPC-H date (built once from the bronze cache of the
silver benchmark and kept). In ONE Spark session, over all order dates as one window:

* assets: the gold asset bodies (dim_date, dim_geography, dim_product, dim_supplier,
  dim_customer, fact_orders, fact_sales) invoked for the whole range - the production code with
  every check, contract, version-log row and metadata - without Dagster's run bookkeeping;
* plain: ``plain_gold.run_plain_gold`` - the same dimensions and fact_sales, no checks;
* once, the same assets as one real Dagster run (``materialize`` over the partition range),
  which adds Dagster's per-partition event records (one per date per daily asset, one per
  whole-table dimension);
* agg_daily_sales on top, reported apart.

Variants alternate (assets, plain, assets, plain); medians are compared. The plain fact table
is compared with the assets' one (rows, net total, key checksums) to prove it is the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

GOLD_ASSETS = (
    "dim_date",
    "dim_geography",
    "dim_product",
    "dim_supplier",
    "dim_customer",
    "fact_orders",
    "fact_sales",
)


def silver_tables(data: Path, landing: Path, first: dt.date, last: dt.date, spark) -> Path:  # type: ignore[no-untyped-def]
    """Bronze + silver for the whole landing zone, built once with the project's code."""
    from silver_quality import bronze_tables, build_bare

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    cached = data / "gold_bench_silver"
    if (cached / "silver" / "customer_history" / "_delta_log").exists():
        return cached
    bronze_root = bronze_tables(data, landing, first, last)
    shutil.rmtree(cached, ignore_errors=True)
    cached.mkdir(parents=True)
    (cached / "bronze").symlink_to(bronze_root / "bronze")
    store = DeltaTableStore(spark, PathLocator(str(cached)))
    build_bare(SparkStep(spark, store, None, DateWindow(first, last)))
    return cached


def fresh_root(scratch: Path, name: str, inputs: Path) -> Path:
    root = scratch / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for layer in ("bronze", "silver"):
        (root / layer).symlink_to((inputs / layer).resolve())
    return root


def run_assets(root: Path, landing: Path, first: dt.date, last: dt.date, names) -> dict:  # type: ignore[no-untyped-def]
    """Invoke the named gold assets for first..last; return failed checks."""
    from dagster import AssetsDefinition, PartitionKeyRange, build_asset_context

    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.settings import LakehouseSettings

    settings = LakehouseSettings("local", str(root), str(landing), str(root / "_cp"), "dev")
    defs = build_definitions(settings)
    assets = {
        a.key.to_user_string(): a
        for a in defs.assets or []
        if isinstance(a, AssetsDefinition) and a.is_executable
    }
    resources = dict(defs.resources or {})
    failed = []
    for name in names:
        context = build_asset_context(
            resources=resources,
            partition_key_range=PartitionKeyRange(first.isoformat(), last.isoformat()),
        )
        result = assets[name](context)
        failed += [c.check_name for c in result.check_results or [] if not c.passed]
    return {"failed_checks": failed}


def run_dagster(root: Path, landing: Path, first: dt.date, last: dt.date) -> bool:
    from dagster import materialize

    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.settings import LakehouseSettings

    settings = LakehouseSettings("local", str(root), str(landing), str(root / "_cp"), "dev")
    defs = build_definitions(settings)
    result = materialize(
        list(defs.assets or []),
        resources=dict(defs.resources or {}),
        selection=list(GOLD_ASSETS),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    return result.success


def fact_fingerprint(spark, path: str) -> dict:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    row = (
        spark.read.format("delta")
        .load(path)
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.sum("net_amount").alias("net"),
            F.sum(F.col("customer_key") % 1_000_003).alias("customer_keys"),
            F.sum(F.col("product_key") % 1_000_003).alias("product_keys"),
            F.sum(F.col("supplier_key") % 1_000_003).alias("supplier_keys"),
        )
        .first()
    )
    return {k: str(v) for k, v in row.asDict().items()}


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "lakehouse_bench")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-dagster-run", action="store_true")
    args = parser.parse_args()

    from plain_gold import run_plain_gold

    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    from lakehouse_assets.resources import build_resources
    from lakehouse_assets.sample_data import generate_tpch, land_tpch
    from lakehouse_assets.settings import LakehouseSettings

    first, last = TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    data = args.workdir / f"sf{args.scale_factor}"
    landing = data / "landing"
    tpch = generate_tpch(args.scale_factor, data / "tpch")
    land_tpch(tpch, landing, first, last)
    scratch = data / "gold_bench_runs"
    settings = LakehouseSettings("local", str(scratch / "warm"), str(landing), "", "dev")
    spark = build_resources(settings)["spark"].get_session()
    inputs = silver_tables(data, landing, first, last, spark)

    # Warm-up: January through both paths (JIT, Delta classes, imports).
    january = first + dt.timedelta(days=30)
    run_assets(fresh_root(scratch, "warm_assets", inputs), landing, first, january, GOLD_ASSETS)
    warm = fresh_root(scratch, "warm_plain", inputs)
    run_plain_gold(spark, str(warm), str(warm / "plain"))

    timings: dict[str, list[float]] = {"assets": [], "plain": []}
    outcome: dict = {}
    plain_counts: dict = {}
    for i in range(args.repeat):
        for variant in ("assets", "plain"):
            root = fresh_root(scratch, f"{variant}_{i}", inputs)
            t = time.perf_counter()
            if variant == "assets":
                outcome = run_assets(root, landing, first, last, GOLD_ASSETS)
            else:
                plain_counts = run_plain_gold(spark, str(root), str(root / "plain"))
            timings[variant].append(time.perf_counter() - t)
            print(f"run {i + 1} {variant}: {timings[variant][-1]:.1f}s", flush=True)
    assets_root = scratch / f"assets_{args.repeat - 1}"
    t = time.perf_counter()
    run_assets(assets_root, landing, first, last, ["agg_daily_sales"])
    agg_s = time.perf_counter() - t
    ours = fact_fingerprint(spark, str(assets_root / "gold" / "fact_sales"))
    plain = fact_fingerprint(spark, str(scratch / f"plain_{args.repeat - 1}/plain/fact_sales"))
    dagster_s = None
    if not args.skip_dagster_run:
        t = time.perf_counter()
        assert run_dagster(fresh_root(scratch, "dagster_run", inputs), landing, first, last)
        dagster_s = time.perf_counter() - t
        print(f"assets as one Dagster run: {dagster_s:.1f}s", flush=True)

    assets_s, plain_s = statistics.median(timings["assets"]), statistics.median(timings["plain"])
    print(f"gold assets (all checks): median {assets_s:.1f}s")
    print(f"plain PySpark script:     median {plain_s:.1f}s")
    print(f"ratio: {assets_s / plain_s:.2f}x (target <= 1.3x)")
    if dagster_s is not None:
        print(f"as one Dagster run: {dagster_s:.1f}s = {dagster_s / plain_s:.2f}x")
    print(f"agg_daily_sales on top: {agg_s:.1f}s; same fact table: {ours == plain}")
    report = {
        "benchmark": "gold_build",
        "scale_factor": args.scale_factor,
        "window": f"{first}..{last}",
        "assets": list(GOLD_ASSETS),
        "assets_seconds": timings["assets"],
        "plain_seconds": timings["plain"],
        "assets_median": assets_s,
        "plain_median": plain_s,
        "ratio": assets_s / plain_s,
        "dagster_run_seconds": dagster_s,
        "agg_daily_sales_seconds": agg_s,
        "failed_checks": outcome.get("failed_checks"),
        "fact_fingerprint_assets": ours,
        "fact_fingerprint_plain": plain,
        "same_fact_table": ours == plain,
        "plain_row_counts": plain_counts,
    }
    write_results(f"gold_build_sf{args.scale_factor}.json", report)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
