"""``python -m lakehouse_assets.sample_data`` (also ``lakehouse-sample-data``).

Two commands:

* ``lakehouse-sample-data [--ends-on yesterday] [--days N]``: land TPC-H history (by default all
  of it, on its original dates; ``--ends-on`` moves it so that it ends on that date).
* ``lakehouse-sample-data live``: keep landing the next day on a clock (see ``live_feed.py``).

Defaults give ``dagster dev`` data with zero configuration: TPC-H scale factor 0.01 under
``$LAKEHOUSE_ROOT/landing``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from lakehouse_assets.partitions import (
    TPCH_FIRST_ORDER_DATE,
    TPCH_LAST_ORDER_DATE,
    PartitionCalendar,
)
from lakehouse_assets.sample_data.landing import land_tpch
from lakehouse_assets.sample_data.live_feed import FeedOptions, run_feed
from lakehouse_assets.sample_data.manifest import (
    SampleDataManifest,
    merge_landing,
    read_manifest,
    write_manifest,
)
from lakehouse_assets.sample_data.tpch import generate_tpch
from lakehouse_assets.settings import LakehouseSettings


def calendar_date(raw: str, today: dt.date | None = None) -> dt.date:
    """``YYYY-MM-DD``, ``today`` or ``yesterday`` (in the partitions' timezone)."""
    today = today or PartitionCalendar.from_env().today(dt.datetime.now(dt.UTC))
    named = {"today": today, "yesterday": today - dt.timedelta(days=1)}
    if raw in named:
        return named[raw]
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{raw!r}: use YYYY-MM-DD, today or yesterday") from error


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakehouse-sample-data",
        description="Generate TPC-H with tpchgen-cli and land it as source files.",
    )
    _common(parser)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=TPCH_FIRST_ORDER_DATE)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None)
    parser.add_argument(
        "--days", type=int, default=None, help="Land this many days from --start (not --end)."
    )
    parser.add_argument(
        "--ends-on",
        type=calendar_date,
        default=None,
        help="Shift the history so its last day lands on this date (YYYY-MM-DD, yesterday).",
    )
    parser.add_argument(
        "--malformed-rate", type=float, default=0.0, help="Unparseable lines per record."
    )
    return parser


def build_live_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakehouse-sample-data live",
        description="Keep landing the next TPC-H day, continuing the landed history.",
    )
    _common(parser)
    pace = parser.add_mutually_exclusive_group()
    pace.add_argument(
        "--seconds-per-day",
        type=float,
        default=60.0,
        help="One source day every N seconds while behind the calendar (default 60).",
    )
    pace.add_argument("--real-days", action="store_true", help="One source day per real day.")
    parser.add_argument("--days", type=int, default=None, help="Stop after N days.")
    parser.add_argument("--late-every", type=int, default=3, help="Late correction every N days.")
    parser.add_argument("--late-lag-days", type=int, default=30)
    parser.add_argument(
        "--corrections-in-todays-extract",
        action="store_true",
        help="Send late corrections in the day's own folder (records dated outside it).",
    )
    parser.add_argument("--redeliver-every", type=int, default=4, help="Re-delivery every N days.")
    parser.add_argument("--malformed-rate", type=float, default=0.01)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scale-factor", "-s", type=float, default=0.01)
    parser.add_argument(
        "--landing-root",
        type=Path,
        default=None,
        help="Default: $LAKEHOUSE_LANDING_ROOT or $LAKEHOUSE_ROOT/landing.",
    )
    parser.add_argument(
        "--tpch-dir",
        type=Path,
        default=None,
        help="Raw tpchgen-cli output. Default: $LAKEHOUSE_ROOT/_source/tpch/sf=<sf>.",
    )
    parser.add_argument("--seed", type=int, default=42, help="Seed of the customer change events.")


def _locations(args: argparse.Namespace) -> tuple[Path, Path]:
    settings = LakehouseSettings.from_env()
    landing_root = args.landing_root or Path(settings.landing_root)
    tpch_dir = args.tpch_dir or Path(settings.root) / "_source" / "tpch" / f"sf={args.scale_factor}"
    return landing_root, tpch_dir


def land_history(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.days is not None and args.end is not None:
        parser.error("give --end or --days, not both")
    end = args.end or (
        args.start + dt.timedelta(days=args.days - 1) if args.days else TPCH_LAST_ORDER_DATE
    )
    shift = (args.ends_on - end).days if args.ends_on else 0
    landing_root, tpch_dir = _locations(args)
    landed = SampleDataManifest(args.scale_factor, args.seed, shift, args.start, end)
    try:
        manifest = merge_landing(read_manifest(landing_root), landed)
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    generate_tpch(args.scale_factor, tpch_dir)
    report = land_tpch(
        tpch_dir,
        landing_root,
        args.start,
        end,
        seed=args.seed,
        shift_days=shift,
        malformed_rate=args.malformed_rate,
    )
    write_manifest(landing_root, manifest)
    elapsed = time.perf_counter() - started
    print(f"TPC-H SF {args.scale_factor} generated in {tpch_dir}")
    print(
        f"landed TPC-H {args.start}..{end} as {landed.first_landed_date}..{landed.last_landed_date}"
        f" under {landing_root} in {elapsed:.1f}s:"
    )
    for line in report.lines():
        print(line)
    if report.skipped_existing:
        print(f"  ({report.skipped_existing} files already landed were left as they were)")
    return 0


def live(argv: list[str]) -> int:
    args = build_live_parser().parse_args(argv)
    options = FeedOptions(
        seconds_per_day=None if args.real_days else args.seconds_per_day,
        days=args.days,
        late_every=args.late_every,
        late_lag_days=args.late_lag_days,
        corrections_in_todays_extract=args.corrections_in_todays_extract,
        redeliver_every=args.redeliver_every,
        malformed_rate=args.malformed_rate,
    )
    landing_root, tpch_dir = _locations(args)
    generate_tpch(args.scale_factor, tpch_dir)
    # One JSON line per landed file, flushed: a benchmark or a person can follow it live.
    for landed in run_feed(landing_root, tpch_dir, options, PartitionCalendar.from_env()):
        print(landed.as_json(), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["live"]:
        return live(argv[1:])
    return land_history(argv)


if __name__ == "__main__":
    sys.exit(main())
