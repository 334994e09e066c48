"""``lakehouse``: set up, materialize and inspect the lakehouse from the command line.

lakehouse setup                                   # fetch the Delta Lake jars (once)
lakehouse materialize --start 1992-01-01 --end 1992-01-07   # default: the landed dates
lakehouse instance                                # write $DAGSTER_HOME/dagster.yaml
lakehouse tables                                  # where every table is, and its rows
lakehouse data-dictionary --output docs/data_dictionary.md
lakehouse alerts                                  # alerts waiting for a retry or undeliverable
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lakehouse_assets.settings import LakehouseSettings

if TYPE_CHECKING:
    from dagster import Definitions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lakehouse", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="Resolve the Delta Lake jars from Maven Central.")
    run = commands.add_parser("materialize", help="Materialize a date range as one run.")
    run.add_argument(
        "--start", type=dt.date.fromisoformat, default=None, help="Default: first landed date."
    )
    run.add_argument(
        "--end", type=dt.date.fromisoformat, default=None, help="Default: last landed date."
    )
    run.add_argument("--job", default="lakehouse_daily_job")
    instance = commands.add_parser(
        "instance", help="Write $DAGSTER_HOME/dagster.yaml (run queue, pools, retention)."
    )
    instance.add_argument("--force", action="store_true", help="Replace an existing file.")
    live = commands.add_parser(
        "live", help="dagster dev with the live loop on, plus the landing feed (Ctrl-C stops)."
    )
    live.add_argument("--seconds-per-day", type=float, default=60.0)
    live.add_argument("--catch-up-days", type=int, default=10, help="History ends this long ago.")
    live.add_argument("--days", type=int, default=None, help="Stop the feed after N days.")
    live.add_argument("--scale-factor", type=float, default=0.01)
    commands.add_parser("tables", help="List the tables, their location and row counts.")
    erase = commands.add_parser(
        "erase-customer",
        help="Erase a customer's personal data everywhere, vacuum it, keep it from coming back.",
    )
    erase.add_argument("--customer-id", type=int, required=True)
    erase.add_argument("--reason", required=True, help="Request or ticket reference.")
    erase.add_argument(
        "--requested-by", default=os.environ.get("USER", "unknown"), help="Who asked."
    )
    erase.add_argument("--dry-run", action="store_true", help="Count what would change.")
    show = commands.add_parser(
        "show", help="Print rows of a table; gold and features show personal data masked."
    )
    show.add_argument("table", help="layer.table, e.g. gold.dim_customer")
    show.add_argument("--limit", type=int, default=20)
    show.add_argument(
        "--entitled",
        action="store_true",
        help="read as a member of the personal-data readers (unmasked)",
    )
    dictionary = commands.add_parser(
        "data-dictionary", help="Write the data dictionary of the built tables as Markdown."
    )
    dictionary.add_argument("--output", default="-", help="File to write (default: stdout).")
    replay = commands.add_parser(
        "replay-dead-letters", help="Re-parse dead letters; move the ones that now parse to bronze."
    )
    replay.add_argument("--source", default=None, help="Only this source (default: all).")
    replay.add_argument("--dry-run", action="store_true", help="List; change nothing.")
    replay.add_argument("--limit", type=int, default=None, help="At most this many.")
    replay.add_argument("--batch-size", type=int, default=1000)
    replay.add_argument("--throttle", type=float, default=0.0, help="Seconds between chunks.")
    commands.add_parser(
        "alerts",
        help="Alerts the alert sensor is retrying or gave up on (Slack or PagerDuty refused).",
    )
    connect = commands.add_parser(
        "spark-connect",
        help="Run a local Spark Connect server with Delta (Ctrl-C stops); point "
        "LAKEHOUSE_SPARK_REMOTE=sc://localhost:<port> at it.",
    )
    connect.add_argument("--port", type=int, default=None, help="Default: 15002.")
    args = parser.parse_args(argv)
    if args.command == "spark-connect":
        return run_spark_connect(args.port)
    if args.command == "alerts":
        return print_alert_outbox()
    if args.command == "replay-dead-letters":
        return replay_dead_letters(args)
    if args.command == "setup":
        return setup()
    if args.command == "erase-customer":
        return erase_customer(args)
    if args.command == "show":
        return show_table(args.table, args.limit, entitled=args.entitled)
    if args.command == "data-dictionary":
        return write_data_dictionary(args.output)
    if args.command == "instance":
        return write_instance(args.force)
    if args.command == "live":
        return run_live(args)
    if args.command == "materialize":
        start, end = landed_window(args.start, args.end)
        code = materialize(start, end, args.job)
        if code == 0:
            print_tables()
        return code
    print_tables()
    return 0


def print_alert_outbox() -> int:
    """Print what the alert sensor (in ``$DAGSTER_HOME``'s instance) is retrying and what it
    gave up on; exit 1 if an alert was undeliverable, so a script or probe can tell."""
    from dagster import DagsterInstance

    from lakehouse_assets.operations.alert_router import alert_outbox_of
    from lakehouse_assets.operations.outbox import describe_outbox

    outbox = alert_outbox_of(DagsterInstance.get())
    if outbox is None:
        print("the alert sensor has not run on this instance yet")
        return 0
    for line in describe_outbox(outbox, time.time()):
        print(line)
    return 1 if outbox.undeliverable else 0


def run_spark_connect(port: int | None) -> int:
    """A Spark Connect server in the foreground, configured as the embedded session."""
    from lakehouse_assets.resources.spark_connect import (
        DEFAULT_CONNECT_PORT,
        start_connect_server,
    )

    settings = LakehouseSettings.from_env()
    port = port or DEFAULT_CONNECT_PORT
    log_path = f"{settings.root}/_spark_connect.log"
    os.makedirs(settings.root, exist_ok=True)
    server = start_connect_server(
        port,
        warehouse_dir=f"{settings.root}/_spark_warehouse",
        log_path=log_path,
        master=settings.spark_master,
    )
    print(f"Spark Connect on sc://localhost:{port} (log: {log_path}); Ctrl-C stops it.")
    print(f"Run the lakehouse through it: export LAKEHOUSE_SPARK_REMOTE=sc://localhost:{port}")
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait(timeout=60)


def landed_window(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The dates to materialize: as given, else the landed sample data's, else TPC-H's week."""
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, landed_sample_data

    landed = landed_sample_data(LakehouseSettings.from_env().landing_root)
    first, last = landed or (TPCH_FIRST_ORDER_DATE, TPCH_FIRST_ORDER_DATE + dt.timedelta(days=6))
    return start or first, end or last


def run_live(args: argparse.Namespace) -> int:
    """History if the landing zone is empty, ``dagster dev`` with the live loop, the feed."""
    from pathlib import Path

    from lakehouse_assets.live_session import (
        dagster_processes,
        land_history_if_empty,
        live_environment,
    )
    from lakehouse_assets.sample_data.__main__ import main as sample_data

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("DAGSTER_HOME is not set: say where the instance lives", file=sys.stderr)
        return 2
    landing = Path(LakehouseSettings.from_env().landing_root)
    land_history_if_empty(landing, args.catch_up_days, args.scale_factor)
    feed = ["live", "--seconds-per-day", str(args.seconds_per_day)]
    feed += ["--scale-factor", str(args.scale_factor), "--landing-root", str(landing)]
    feed += ["--days", str(args.days)] if args.days else []
    with dagster_processes(live_environment(os.environ, Path(home)), ui=True) as dagster:
        print("Dagster UI: http://127.0.0.1:3000 (lineage: Assets > View lineage)")
        try:
            sample_data(feed)
            # The feed stopped (--days, or TPC-H ran out); the runs it started still finish.
            print("the feed has stopped; the UI and daemon keep running (Ctrl-C stops them)")
            dagster.wait()
        except KeyboardInterrupt:
            pass
    return 0


def write_instance(force: bool) -> int:
    from pathlib import Path

    from lakehouse_assets.operations.instance import write_instance_config

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        print("DAGSTER_HOME is not set: say where the instance lives", file=sys.stderr)
        return 2
    written = write_instance_config(Path(home), force=force)
    state = "written" if written else "left as it was (use --force to replace)"
    print(f"{home}/dagster.yaml {state}")
    return 0


def setup() -> int:
    """Start the local Spark session once so Spark's resolver downloads the Delta jars."""
    from lakehouse_assets.resources import build_resources

    settings = LakehouseSettings.from_env()
    started = time.perf_counter()
    session = build_resources(settings)["spark"].get_session()
    jars = session.conf.get("spark.jars", "") or ""
    print(f"Spark {session.version} with Delta ready in {time.perf_counter() - started:.1f}s")
    for jar in filter(None, jars.split(",")):
        print(f"  {jar}")
    session.stop()
    return 0


def _interactive_definitions() -> Definitions:
    """The Definitions for a person at a terminal: text logs unless LAKEHOUSE_LOG_FORMAT says."""
    from lakehouse_assets.definitions import build_definitions

    settings = LakehouseSettings.from_env()
    if not os.environ.get("LAKEHOUSE_LOG_FORMAT"):
        settings = dataclasses.replace(settings, log_format="text")
    return build_definitions(settings)


def materialize(start: dt.date, end: dt.date, job_name: str) -> int:
    """Run ``job_name`` for ``start..end`` as a single run (a single-run backfill)."""
    from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance

    from lakehouse_assets.operations.orphaned_runs import RUN_PROCESS_TAG, RunProcess

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    job = _interactive_definitions().resolve_job_def(job_name)
    print(f"materializing {job_name} for {start}..{end} as one run")
    started = time.perf_counter()
    result = job.execute_in_process(
        instance=instance,
        # INFO keeps the assets' own log lines and drops Dagster's per-event DEBUG chatter.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags={
            "dagster/asset_partition_range_start": start.isoformat(),
            "dagster/asset_partition_range_end": end.isoformat(),
            # If this process is killed, the orphaned-run sensor marks the run failed.
            RUN_PROCESS_TAG: RunProcess.current().tag(),
        },
        raise_on_error=False,
    )
    elapsed = time.perf_counter() - started
    # Read from the instance: a rejected candidate's checks are reported by its failing step,
    # which the in-process result's event list leaves out.
    evaluations = instance.all_logs(result.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    failed = [
        r.dagster_event.asset_check_evaluation_data
        for r in evaluations
        if not r.dagster_event.asset_check_evaluation_data.passed
    ]
    errors = [c for c in failed if c.severity == AssetCheckSeverity.ERROR]
    status = "succeeded" if result.success and not errors else "FAILED"
    print(f"run {result.run_id} {status} in {elapsed:.1f}s")
    for check in failed:
        level = "error" if check in errors else "warning"
        print(f"  check {level}: {check.asset_key.to_user_string()}:{check.check_name}")
    return 0 if status == "succeeded" else 1


def replay_dead_letters(args: argparse.Namespace) -> int:
    """Run ``replay_dead_letters_job`` in-process with the command line's options."""
    config = {
        "source": args.source,
        "dry_run": args.dry_run,
        "limit": args.limit,
        "batch_size": args.batch_size,
        "throttle_seconds": args.throttle,
    }
    report = _run_op_job("replay_dead_letters_job", "replay_dead_letters_op", config)
    if report is None:
        print("replay failed; see the log above")
        return 1
    mode = "DRY RUN: " if report["dry_run"] else ""
    print(
        f"{mode}examined {report['examined']}, replayed {report['replayed']} "
        f"({report['bronze_rows']} bronze rows), still failing {report['still_failing']} "
        f"{report['reasons'] or ''}"
    )
    for sample in report["samples"]:
        print(f"  {sample['dead_letter_id']}: {sample['outcome']}")
    return 0


def _run_op_job(job_name: str, op_name: str, config: dict) -> dict | None:
    """Run a one-op job in-process with ``config`` (recorded in the instance when
    DAGSTER_HOME is set); the op's output, or None when the run failed."""
    from dagster import DagsterInstance

    instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    result = (
        _interactive_definitions()
        .resolve_job_def(job_name)
        .execute_in_process(
            instance=instance,
            run_config={
                "ops": {op_name: {"config": config}},
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
            },
            raise_on_error=False,
        )
    )
    return result.output_for_node(op_name) if result.success else None


def erase_customer(args: argparse.Namespace) -> int:
    """Run the ``erase_customer`` job in-process (recorded in the instance when DAGSTER_HOME is
    set) and print what it changed, table by table."""
    config = {
        "customer_id": args.customer_id,
        "reason": args.reason,
        "requested_by": args.requested_by,
        "dry_run": args.dry_run,
    }
    outcome = _run_op_job("erase_customer", "erase_customer_op", config)
    if outcome is None:
        print("erasure failed; see the log above (nothing is recorded as erased)")
        return 1
    mode = "DRY RUN: would change" if outcome["dry_run"] else "changed"
    print(f"erasure {outcome['request_id']} of customer {args.customer_id}: {mode}")
    for table, rows in outcome["rows_changed"].items():
        vacuumed = outcome["files_vacuumed"].get(table)
        files = f", {vacuumed} old files vacuumed" if vacuumed is not None else ""
        print(f"  {table:<36} {rows:>6} rows{files}")
    return 0


def write_data_dictionary(output: str) -> int:
    """Render every built table's columns and comments as Markdown."""
    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.monitoring.data_dictionary import describe_lakehouse, dictionary_markdown
    from lakehouse_assets.resources import build_resources

    settings = LakehouseSettings.from_env()
    resources = build_resources(settings)
    store = resources["storage"].store(resources["spark"].get_session())
    markdown = dictionary_markdown(describe_lakehouse(store, lakehouse_tables()))
    if output == "-":
        print(markdown)
    else:
        with open(output, "w", encoding="utf-8") as out:
            out.write(markdown)
        print(f"wrote {output}")
    return 0


def show_table(name: str, limit: int, *, entitled: bool) -> int:
    """Print ``limit`` rows of a table as a reader sees it: personal columns of gold and
    features masked with the same rule as the Unity Catalog column masks, unless ``entitled``.

    Locally there is no identity to check: whoever can read the lakehouse root can read the
    files; this is the rule the project's own readers apply (docs/operations.md)."""
    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.privacy import mask_personal_data
    from lakehouse_assets.resources.spark import LocalSparkResource
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    settings = LakehouseSettings.from_env()
    specs = {spec.qualified_name: spec for spec in lakehouse_tables()}
    if name not in specs:
        print(f"unknown table {name!r}; one of: {', '.join(specs)}", file=sys.stderr)
        return 2
    spark = LocalSparkResource(
        master=settings.spark_master,
        warehouse_dir=f"{settings.root}/_spark_warehouse",
        ui_enabled=False,
    ).get_session()
    store = DeltaTableStore(spark, PathLocator(settings.root))
    if not store.exists(specs[name]):
        print(f"{name} is not materialized yet", file=sys.stderr)
        return 1
    rows = mask_personal_data(store.read(specs[name]), name, entitled=entitled)
    rows.show(limit, truncate=False)
    return 0


def print_tables() -> None:
    """Each table's location and row count, read with delta-rs (no Spark needed)."""
    from deltalake import DeltaTable

    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.storage import PathLocator
    from lakehouse_assets.storage.delta_log import LocalDeltaReader

    settings = LakehouseSettings.from_env()
    locator = PathLocator(settings.root)
    reader = LocalDeltaReader()
    print(f"tables under {settings.root}:")
    for spec in lakehouse_tables():
        path = locator.identifier(spec.layer, spec.name)
        if not DeltaTable.is_deltatable(path):
            print(f"  {spec.qualified_name:<28} (not materialized)")
            continue
        rows, version = reader.count_rows(path), reader.version(path)
        print(f"  {spec.qualified_name:<28} {rows:>10,} rows  v{version:<4} {path}")


if __name__ == "__main__":
    sys.exit(main())
