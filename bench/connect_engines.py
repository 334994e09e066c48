"""The silver build and the fact build on three engines: classic Spark, Spark Connect, Sail.

    python bench/connect_engines.py [--scale-factor 1] [--workdir ~/.cache/lakehouse_bench]

Same inputs for every engine: the bronze and silver tables of the SF landing zone, built once
with the project on a classic session (the silver and gold benchmarks' caches). Each engine
then runs, in a process of its own (a process that opens a Spark Connect session stays in
Connect mode):

* ``silver``: the production silver path for all dates as one window (``publish_silver_window``
  for orders and line items, ``publish_silver_customers``: rules, quarantine, contracts, checks);
* ``fact``: the gold assets that build ``fact_sales`` (the dimensions, ``fact_orders``,
  ``fact_sales``) for all dates, with every check;
* ``plain_fact``: the hand-written PySpark script of the gold benchmark (same dimensions and
  ``fact_sales``, no checks): the engines compared on the same DataFrame code without the
  project's table machinery.

Engines: ``classic`` (embedded JVM, the baseline), ``connect`` (PySpark's own Spark Connect
server, the same JVM engine behind gRPC; server start excluded), ``sail`` (``pysail``, a Spark
Connect server on DataFusion). Every table an engine wrote is compared row for row with the
classic engine's by DuckDB over delta-rs (the run's own columns, such as timestamps and run ids,
left out). What an engine could not run is recorded with the error's first line.
Writes ``bench/results/connect_engines.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ENGINES = ("classic", "connect", "sail")
WARMTH_NOTE = (
    "Every task runs cold: each classic task in a fresh process (a new JVM), each Connect or "
    "Sail task against a server started for that task alone and stopped after it. Server start "
    "is excluded from the time."
)
TASKS = ("silver", "fact", "plain_fact")
SILVER_TABLES = (
    "silver/orders",
    "silver/line_items",
    "silver/customers",
    "silver/customer_history",
)
FACT_TABLES = (
    "gold/dim_geography",
    "gold/dim_product",
    "gold/dim_supplier",
    "gold/dim_customer",
    "gold/fact_orders",
    "gold/fact_sales",
)
PLAIN_TABLES = (
    "plain/dim_geography",
    "plain/dim_product",
    "plain/dim_supplier",
    "plain/fact_sales",
)
# Columns that record when or by which run a row was written.
VOLATILE = {
    "_ingestion_timestamp",
    "_ingestion_date",
    "_processing_timestamp",
    "_batch_id",
    "batch_id",
    "ingested_at",
    "_run_id",
}


# -- the child: one engine, one task -----------------------------------------------------------


def child(engine: str, task: str, remote: str | None, data: Path, root: Path) -> dict:
    """Run ``task`` on a session of ``engine`` into ``root``; return timings or the error."""
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE

    first, last = TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    spark = _session(engine, remote)
    started = time.perf_counter()
    try:
        if task == "silver":
            detail = _silver(spark, root, first, last)
        elif task == "fact":
            detail = _fact(remote, data, root, first, last)
        else:
            from plain_gold import run_plain_gold

            detail = run_plain_gold(spark, str(root), str(root / "plain"))
    except Exception as error:  # recorded: what this engine could not run
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return {"ok": False, "error": f"{type(error).__name__}: {first_line[:300]}"}
    return {"ok": True, "seconds": time.perf_counter() - started, "detail": detail}


def _session(engine: str, remote: str | None):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    if remote:
        return SparkSession.builder.remote(remote).getOrCreate()
    from lakehouse_assets.resources.spark import local_spark_conf, start_local_session

    return start_local_session(
        local_spark_conf(
            master="local[*]",
            app_name="connect_engines",
            shuffle_partitions=4,
            driver_memory="4g",
            ui_enabled=False,
            warehouse_dir="/tmp/connect_engines_warehouse",
        )
    )


def _silver(spark, root: Path, first: dt.date, last: dt.date) -> dict:  # type: ignore[no-untyped-def]
    from silver_quality import build_with_quality

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    store = DeltaTableStore(spark, PathLocator(str(root)))
    return build_with_quality(SparkStep(spark, store, None, DateWindow(first, last)))


def _fact(remote: str | None, data: Path, root: Path, first: dt.date, last: dt.date) -> dict:
    from dagster import AssetsDefinition, PartitionKeyRange, build_asset_context
    from gold_build import GOLD_ASSETS

    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.settings import LakehouseSettings

    settings = LakehouseSettings(
        "local", str(root), str(data / "landing"), str(root / "_cp"), "dev", spark_remote=remote
    )
    defs = build_definitions(settings)
    assets = {
        a.key.to_user_string(): a
        for a in defs.assets or []
        if isinstance(a, AssetsDefinition) and a.is_executable
    }
    failed = []
    for name in GOLD_ASSETS:
        context = build_asset_context(
            resources=dict(defs.resources or {}),
            partition_key_range=PartitionKeyRange(first.isoformat(), last.isoformat()),
        )
        result = assets[name](context)
        failed += [c.check_name for c in result.check_results or [] if not c.passed]
    return {"failed_checks": failed}


# -- the parent: inputs, servers, comparison ---------------------------------------------------


def prepare_inputs(scale_factor: float, workdir: Path) -> tuple[Path, Path]:
    """Landing zone, bronze and silver of the SF (cached by the silver and gold benchmarks)."""
    from gold_build import silver_tables

    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    from lakehouse_assets.sample_data import generate_tpch, land_tpch

    first, last = TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
    data = workdir / f"sf{scale_factor}"
    landing = data / "landing"
    land_tpch(generate_tpch(scale_factor, data / "tpch"), landing, first, last)
    inputs = silver_tables(data, landing, first, last, _session("classic", None))
    return data, inputs


def fresh_root(scratch: Path, name: str, inputs: Path, layers: tuple[str, ...]) -> Path:
    root = scratch / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for layer in layers:
        (root / layer).symlink_to((inputs / layer).resolve())
    return root


def start_server(engine: str, port: int, scratch: Path) -> subprocess.Popen[bytes]:
    from lakehouse_assets.resources.spark_connect import accepts_connections, start_connect_server

    log = scratch / f"{engine}_server.log"
    if engine == "connect":
        return start_connect_server(
            port,
            warehouse_dir=str(scratch / "connect_warehouse"),
            log_path=str(log),
            master="local[*]",
            driver_memory="4g",
        )
    sail = shutil.which("sail") or str(Path(sys.executable).parent / "sail")
    with open(log, "ab") as out:
        server = subprocess.Popen(
            [sail, "spark", "server", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while not accepts_connections(port):
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the Sail server did not start; see {log}")
        time.sleep(0.2)
    return server


def run_cold(engine: str, task: str, scratch: Path, data: Path, root: Path) -> dict:
    """One task on a cold engine: a server of its own (Connect, Sail), stopped afterwards."""
    from lakehouse_assets.resources.spark_connect import free_port

    if engine == "classic":
        return run_child(engine, task, None, data, root)
    port = free_port()
    try:
        server = start_server(engine, port, scratch)
    except (OSError, RuntimeError) as error:  # not installed (pysail is not locked), no start
        return {"ok": False, "error": f"server did not start: {error}"[:300]}
    try:
        return run_child(engine, task, f"sc://127.0.0.1:{port}", data, root)
    finally:
        server.terminate()
        server.wait(timeout=120)


def run_child(engine: str, task: str, remote: str | None, data: Path, root: Path) -> dict:
    command = [sys.executable, __file__, "--child", engine, task, str(data), str(root)]
    env = {**os.environ, **({"CONNECT_ENGINES_REMOTE": remote} if remote else {})}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=2700)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "error": f"process failed: {tail[:300]}"}
    return json.loads(lines[-1])


def same_rows(spark, ours: Path, baseline: Path) -> bool | None:  # type: ignore[no-untyped-def]
    """Row-for-row equality of two Delta tables (as multisets of rows), read by a classic
    session of the parent (delta-rs cannot read the silver tables' deletion vectors)."""
    if not (ours / "_delta_log").exists():
        return None
    a = spark.read.format("delta").load(str(ours))
    b = spark.read.format("delta").load(str(baseline))
    columns = [c for c in b.columns if c not in VOLATILE]
    a, b = a.select(*columns), b.select(*columns)
    return a.exceptAll(b).isEmpty() and b.exceptAll(a).isEmpty()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=1.0)
    parser.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "lakehouse_bench")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the cached inputs of the SF and stop"
    )
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "TASK", "DATA", "ROOT"))
    args = parser.parse_args()
    if args.child:
        engine, task, data, root = args.child
        remote = os.environ.get("CONNECT_ENGINES_REMOTE")
        print(json.dumps(child(engine, task, remote, Path(data), Path(root)), default=str))
        return 0

    from results_file import write_results

    data, inputs = prepare_inputs(args.scale_factor, args.workdir)
    if args.prepare_only:
        return 0
    # The parent's own classic session compares the tables (it never opens a Connect session).
    classic = _session("classic", None)
    scratch = data / "connect_engines_runs"
    scratch.mkdir(parents=True, exist_ok=True)
    layers = {
        "silver": ("bronze",),
        "fact": ("bronze", "silver"),
        "plain_fact": ("bronze", "silver"),
    }
    tables = {"silver": SILVER_TABLES, "fact": FACT_TABLES, "plain_fact": PLAIN_TABLES}
    results: dict[str, dict] = {}
    for engine in args.engines.split(","):
        results[engine] = {}
        for task in TASKS:
            root = fresh_root(scratch, f"{engine}_{task}", inputs, layers[task])
            outcome = run_cold(engine, task, scratch, data, root)
            if engine != "classic" and outcome.get("ok"):
                baseline = scratch / f"classic_{task}"
                outcome["same_rows"] = {
                    t: same_rows(classic, root / t, baseline / t) for t in tables[task]
                }
            results[engine][task] = outcome
            shown = f"{outcome['seconds']:.1f}s" if outcome.get("ok") else outcome["error"]
            print(f"{engine} {task}: {shown}", flush=True)
    ratios = {
        engine: {
            task: round(run["seconds"] / results["classic"][task]["seconds"], 3)
            for task, run in tasks.items()
            if run.get("ok") and results.get("classic", {}).get(task, {}).get("ok")
        }
        for engine, tasks in results.items()
        if engine != "classic"
    }
    write_results(
        "connect_engines.json",
        {
            "benchmark": "connect_engines",
            "scale_factor": args.scale_factor,
            "engines": results,
            "seconds_vs_classic": ratios,
            "notes": WARMTH_NOTE,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
