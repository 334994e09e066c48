"""Every lakehouse benchmark in one command, then the report.

    python bench/run_all.py                     # what `make bench-all` runs
    python bench/run_all.py --scale-factors 0.1 --history 10 100 --backfill-days 10

Sections (each writes ``bench/results/<section>.json``; ``--only`` picks some and their order):

* ``definitions_load`` Definitions load time alone (seconds; rerun it on a quiet machine)
* ``overheads``   Definitions load time; a daily run on a partition with no data
* ``end_to_end``  bronze -> silver -> gold, all dates as one run, per scale factor, vs the plain
                  PySpark + Delta script; the fact build in plain Spark and DuckDB beside it
* ``incremental`` one new day on 10 / 100 / 1,000 days of history
* ``backfill``    N days as one run vs N one-day runs
* ``dagster_alone`` the end-to-end run's shape (steps, checks, dates) with no-op assets:
                  Dagster's own cost for that run, whatever the data volume

All sections share one interpreter and one Spark JVM, with the quality-check timer installed.
``docs/benchmarks.md`` and its plots are then regenerated from every JSON in ``bench/results``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from backfill import backfill_comparison
from check_timer import CheckTimer
from end_to_end import dagster_alone_for_end_to_end, end_to_end
from harness import DEFAULT_WORKDIR, definitions_load_seconds
from incremental import incremental_costs
from overheads import overheads
from report import write_report
from results_file import RESULTS, write_results


def run_overheads(args: argparse.Namespace, timer: CheckTimer) -> Iterator[tuple[str, dict]]:
    yield (
        "overheads.json",
        overheads(args.workdir, min(args.scale_factors), args.overhead_repeat, timer),
    )


def run_end_to_end(args: argparse.Namespace, timer: CheckTimer) -> Iterator[tuple[str, dict]]:
    for sf in sorted(args.scale_factors):
        yield f"end_to_end_sf{sf}.json", end_to_end(args.workdir, sf, timer, args.e2e_days)


def run_incremental(args: argparse.Namespace, timer: CheckTimer) -> Iterator[tuple[str, dict]]:
    def save_so_far(figures: dict) -> None:
        record = {"benchmark": "incremental", **figures, "conditions": args.conditions}
        write_results("incremental.json", record)

    yield (
        "incremental.json",
        incremental_costs(
            args.workdir, args.history_scale_factor, args.history, args.new_days, timer, save_so_far
        ),
    )


def run_backfill(args: argparse.Namespace, timer: CheckTimer) -> Iterator[tuple[str, dict]]:
    yield (
        "backfill.json",
        backfill_comparison(args.workdir, args.history_scale_factor, args.backfill_days, timer),
    )


def run_dagster_alone(args: argparse.Namespace, _: CheckTimer) -> Iterator[tuple[str, dict]]:
    yield "dagster_alone.json", dagster_alone_for_end_to_end(RESULTS)


def run_definitions_load(args: argparse.Namespace, _: CheckTimer) -> Iterator[tuple[str, dict]]:
    yield "definitions_load.json", {"definitions_load": definitions_load_seconds()}


SECTION_RUNNERS = {
    "definitions_load": run_definitions_load,
    "overheads": run_overheads,
    "end_to_end": run_end_to_end,
    "incremental": run_incremental,
    "backfill": run_backfill,
    "dagster_alone": run_dagster_alone,
}
SECTIONS = tuple(SECTION_RUNNERS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale-factors", type=float, nargs="+", default=[0.1, 1.0])
    parser.add_argument("--history", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--history-scale-factor", type=float, default=0.1)
    parser.add_argument("--new-days", type=int, default=2)
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        "--e2e-days", type=int, default=None, help="smoke test: end to end on the first N dates"
    )
    parser.add_argument("--overhead-repeat", type=int, default=3)
    parser.add_argument(
        "--conditions",
        default="alone",
        help="what else shared the machine, recorded with the figures (e.g. 'with a test run')",
    )
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args(argv)

    timer = CheckTimer().install()
    started = time.perf_counter()
    for section in args.only:  # in the order given
        for file_name, report in SECTION_RUNNERS[section](args, timer):
            write_results(
                file_name, {"benchmark": section, **report, "conditions": args.conditions}
            )
    print(f"benchmarks done in {time.perf_counter() - started:.0f}s")
    print(f"report: {write_report()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
