"""``python -m lakehouse_assets.sample_data`` (also ``lakehouse-sample-data``).

Defaults give ``dagster dev`` data with zero configuration: TPC-H scale factor 0.01 landed for
every order date under ``$LAKEHOUSE_ROOT/landing``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE, TPCH_LAST_ORDER_DATE
from lakehouse_assets.sample_data.landing import land_tpch
from lakehouse_assets.sample_data.tpch import generate_tpch
from lakehouse_assets.settings import LakehouseSettings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakehouse-sample-data",
        description="Generate TPC-H with tpchgen-cli and land it as source files.",
    )
    parser.add_argument("--scale-factor", "-s", type=float, default=0.01)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=TPCH_FIRST_ORDER_DATE)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=TPCH_LAST_ORDER_DATE)
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = LakehouseSettings.from_env()
    landing_root = args.landing_root or Path(settings.landing_root)
    tpch_dir = args.tpch_dir or Path(settings.root) / "_source" / "tpch" / f"sf={args.scale_factor}"
    started = time.perf_counter()
    generate_tpch(args.scale_factor, tpch_dir)
    report = land_tpch(tpch_dir, landing_root, args.start, args.end, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(f"TPC-H SF {args.scale_factor} generated in {tpch_dir}")
    print(f"landed {args.start}..{args.end} under {landing_root} in {elapsed:.1f}s:")
    for line in report.lines():
        print(line)
    if report.skipped_existing:
        print(f"  ({report.skipped_existing} files already landed were left as they were)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
