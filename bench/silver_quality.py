"""Quality overhead: the silver build with all rules, checks and contracts vs the same with none.

    python bench/silver_quality.py [--scale-factor 1] [--workdir ~/.cache/lakehouse_bench]

Input: the bronze tables of the SF landing zone as the project writes them (copied from the
bronze benchmark's run, or ingested here with ``ingest_bronze_job`` when absent). In ONE Spark
session, for all order dates as one window, it times:

* bare: cleanse + window overwrite of silver orders and line items, and the customer CDC
  (``apply_customer_changes``) - the transformations with no quality at all;
* quality: the production publish path the assets run - rules in one pass, quarantine,
  dq_metrics, per-rule check results, accounting read back, key uniqueness, pandera contracts
  (compiled, one pass per table), SCD2 integrity, materialization metadata.

Each variant runs twice (bare, quality, bare, quality) on fresh silver tables; the median of
each is compared. It also times the contracts alone and pandera's own validation of the same
model on silver.line_items (one Spark job per check) for reference.
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


def bronze_tables(data: Path, landing: Path, first: dt.date, last: dt.date) -> Path:
    """Bronze tables written by the project for the whole landing zone (cached)."""
    cached = data / "silver_bench_bronze"
    if (cached / "bronze" / "lineitem" / "_delta_log").exists():
        return cached
    from_bronze_bench = data / "runs" / "lakehouse" / "bronze"
    if (from_bronze_bench / "lineitem" / "_delta_log").exists():
        shutil.copytree(from_bronze_bench, cached / "bronze")
        return cached
    from bronze_ingest import lakehouse_ingest

    lakehouse_ingest(cached, landing, first, last)
    return cached


def fresh_root(scratch: Path, name: str, bronze_root: Path) -> Path:
    root = scratch / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "bronze").symlink_to(bronze_root / "bronze")
    return root


def build_bare(step) -> None:  # type: ignore[no-untyped-def]
    from lakehouse_assets.bronze import sources
    from lakehouse_assets.bronze.tables import bronze_table
    from lakehouse_assets.silver import tables
    from lakehouse_assets.silver.customers import apply_customer_changes
    from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders

    store, window = step.store, step.window
    orders = store.read_window(bronze_table(sources.ORDERS), window, "o_orderdate")
    store.overwrite_window(tables.ORDERS, cleanse_orders(orders), window, "order_date")
    lines = store.read_window(bronze_table(sources.LINEITEM), window, "_landing_date")
    store.overwrite_window(tables.LINE_ITEMS, cleanse_line_items(lines), window, "order_date")
    events = store.read(bronze_table(sources.CUSTOMER_EVENTS))
    apply_customer_changes(store, events, window, "bench-bare").release()


def build_with_quality(step) -> dict:  # type: ignore[no-untyped-def]
    from pyspark.sql import functions as F

    from lakehouse_assets.bronze import sources
    from lakehouse_assets.bronze.tables import bronze_table
    from lakehouse_assets.silver.assets import LINE_ITEMS, ORDERS
    from lakehouse_assets.silver.customer_publish import publish_silver_customers
    from lakehouse_assets.silver.publish import publish_silver_window
    from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders

    store, window = step.store, step.window
    windows = (
        (ORDERS, sources.ORDERS, "o_orderdate", cleanse_orders),
        (LINE_ITEMS, sources.LINEITEM, "_landing_date", cleanse_line_items),
    )
    results = [
        *(
            publish_silver_window(
                step,
                "bench",
                target,
                bronze=store.read(bronze_table(source)),
                in_window=F.expr(window.sql_predicate(date_column)),
                cleanse=cleanse,
            )
            for target, source, date_column, cleanse in windows
        ),
        publish_silver_customers(step, "bench"),
    ]
    failed = [c.check_name for r in results for c in r.check_results if not c.passed]
    return {"checks": sum(len(r.check_results) for r in results), "failed_checks": failed}


def contract_costs(step) -> dict:  # type: ignore[no-untyped-def]
    """Contracts alone vs pandera's own validation, on the silver line items just written."""
    from pandera.config import ValidationDepth, config_context

    from lakehouse_assets.quality.contracts import compile_constraints, validate_contract
    from lakehouse_assets.silver import tables
    from lakehouse_assets.silver.contracts import SilverLineItem

    written = step.store.read(tables.LINE_ITEMS)
    t = time.perf_counter()
    ours = validate_contract(SilverLineItem, written)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        pandera_errors = dict(SilverLineItem.validate(check_obj=written).pandera.errors)
    pandera_s = time.perf_counter() - t
    t = time.perf_counter()
    written.count()
    count_s = time.perf_counter() - t
    return {
        "table": "silver.line_items",
        "rows": ours.rows,
        "constraints": len(compile_constraints(SilverLineItem)),
        "compiled_contract_seconds": ours_s,
        "pandera_native_seconds": pandera_s,
        "plain_count_seconds": count_s,
        "compiled_passed": ours.passed,
        "pandera_passed": not pandera_errors,
    }


def main() -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "lakehouse_bench")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.partitions import (
        TPCH_FIRST_ORDER_DATE,
        TPCH_LAST_ORDER_DATE,
        DateWindow,
    )
    from lakehouse_assets.resources import build_resources
    from lakehouse_assets.sample_data import generate_tpch, land_tpch
    from lakehouse_assets.settings import LakehouseSettings
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    data = args.workdir / f"sf{args.scale_factor}"
    landing = data / "landing"
    tpch = generate_tpch(args.scale_factor, data / "tpch")
    land_tpch(tpch, landing, TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)
    bronze_root = bronze_tables(data, landing, TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)
    scratch = data / "silver_bench_runs"
    settings = LakehouseSettings("local", str(scratch / "warm"), str(landing), "", "dev")
    spark = build_resources(settings)["spark"].get_session()
    window = DateWindow(TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE)

    def step_for(name: str, days: DateWindow) -> SparkStep:
        root = fresh_root(scratch, name, bronze_root)
        return SparkStep(spark, DeltaTableStore(spark, PathLocator(str(root))), None, days)

    # Warm-up: one month through both paths (JIT, Delta classes, pandera imports).
    january = DateWindow(TPCH_FIRST_ORDER_DATE, TPCH_FIRST_ORDER_DATE + dt.timedelta(days=30))
    build_bare(step_for("warm_bare", january))
    build_with_quality(step_for("warm_quality", january))

    timings: dict[str, list[float]] = {"bare": [], "quality": []}
    outcome: dict = {}
    for i in range(args.repeat):
        for variant in ("bare", "quality"):
            step = step_for(f"{variant}_{i}", window)
            t = time.perf_counter()
            if variant == "bare":
                build_bare(step)
            else:
                outcome = build_with_quality(step)
            timings[variant].append(time.perf_counter() - t)
            print(f"run {i + 1} {variant}: {timings[variant][-1]:.1f}s", flush=True)
    costs = contract_costs(step)
    bare_s, quality_s = statistics.median(timings["bare"]), statistics.median(timings["quality"])
    overhead = quality_s / bare_s - 1
    counts = {table: step.store.read(spec).count() for table, spec in _silver_specs().items()}
    print(f"silver bare (no rules, checks, contracts): median {bare_s:.1f}s")
    print(f"silver with all rules, checks and contracts: median {quality_s:.1f}s")
    print(f"quality overhead: {overhead:+.1%} (target <= +15%)")
    print(
        f"contract on silver.line_items ({costs['rows']:,} rows, {costs['constraints']} "
        f"constraints): compiled one pass {costs['compiled_contract_seconds']:.1f}s, "
        f"pandera native {costs['pandera_native_seconds']:.1f}s, "
        f"plain count {costs['plain_count_seconds']:.1f}s"
    )
    report = {
        "benchmark": "silver_quality",
        "scale_factor": args.scale_factor,
        "window": window.label(),
        "bare_seconds": timings["bare"],
        "quality_seconds": timings["quality"],
        "bare_median": bare_s,
        "quality_median": quality_s,
        "overhead": overhead,
        "checks_evaluated": outcome.get("checks"),
        "failed_checks": outcome.get("failed_checks"),
        "silver_rows": counts,
        "contract_costs": costs,
    }
    write_results(f"silver_quality_sf{args.scale_factor}.json", report)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _silver_specs() -> dict:
    from lakehouse_assets.silver import tables

    return {
        spec.qualified_name: spec
        for spec in (
            tables.ORDERS,
            tables.LINE_ITEMS,
            tables.ORDERS_QUARANTINE,
            tables.LINE_ITEMS_QUARANTINE,
            tables.CUSTOMERS,
            tables.CUSTOMER_HISTORY,
            tables.CUSTOMER_EVENTS_QUARANTINE,
        )
    }


if __name__ == "__main__":
    sys.exit(main())
