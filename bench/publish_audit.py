"""What audit before publish costs: one new day on 100 days of history, staged vs direct.

Silver's windows, ``silver_customers``' CDC, gold and ``customer_features`` stage their
candidate rows, check them and publish them (``windowed.py``, ``storage/staging.py``,
``silver/customers.py``). On a classic Spark session the candidate is checkpointed in memory
(``localCheckpoint``), checked, and written once; through Spark Connect it is written to a
staging table first (one more write and one more commit per step). This measures the first.
The baseline is the write-then-check path those steps had before: write the table's window,
then check it read back. It is reproduced here by swapping the staging primitives for direct
writes at their call sites, in the same process, on a copy of the same lakehouse, so both
variants run the same day on the same history with the same JVM.

``python bench/publish_audit.py [--scale-factor 0.1] [--history-days 100] [--repeats 3]``
(about 25 minutes on 2 cores at SF 0.1). Writes ``bench/results/publish_audit.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("LAKEHOUSE_PARTITION_START", "1992-01-01")

from harness import (
    DEFAULT_WORKDIR,
    definitions_with_job,
    land_days,
    run_job,
    settings_for,
    spark_session,
    tpch_dir,
)

DAILY_JOB = "lakehouse_daily_job"
TARGET_RATIO = 1.10
# Where the audited steps call the staging primitives (imported by name).
CALL_SITES = (
    "lakehouse_assets.windowed",
    "lakehouse_assets.silver.publish",
    "lakehouse_assets.features.assets",
)
# silver_customers stages only the touched customers' rows and MERGEs them by key: its
# baseline keeps the candidate in memory (no staging write, no emptying) and MERGEs from it.
CDC_CALL_SITE = "lakehouse_assets.silver.customers"


@contextlib.contextmanager
def write_then_check() -> Iterator[None]:
    """The steps as they were before audit before publish: the candidate is written to the
    table itself, and the checks read the table back."""
    import importlib

    def stage_window(store, target, rows, window, column):  # type: ignore[no-untyped-def]
        store.overwrite_window(target, rows, window, column)
        return store.read_window(target, window, column)

    def publish_window(store, target, staged, window, column):  # type: ignore[no-untyped-def]
        return store.unchanged(target)

    def stage_table(store, target, rows):  # type: ignore[no-untyped-def]
        store.overwrite(target, rows)
        return store.read(target)

    def publish_table(store, target, staged):  # type: ignore[no-untyped-def]
        return store.unchanged(target)

    def candidate_in_memory(store, target, rows):  # type: ignore[no-untyped-def]
        # The CDC's candidate (touched keys only) computed once, as its MERGEs used it before.
        return rows.localCheckpoint()

    def nothing_to_clear(store, target):  # type: ignore[no-untyped-def]
        return None

    direct = {
        "stage_window": stage_window,
        "publish_window": publish_window,
        "stage_table": stage_table,
        "publish_table": publish_table,
    }
    replacements = {name: direct for name in CALL_SITES}
    replacements[CDC_CALL_SITE] = {
        "stage_table": candidate_in_memory,
        "clear_staged_table": nothing_to_clear,
    }
    saved: list[tuple[Any, str, Any]] = []
    for name, swaps in replacements.items():
        module = importlib.import_module(name)
        for attribute, replacement in swaps.items():
            if hasattr(module, attribute):
                saved.append((module, attribute, getattr(module, attribute)))
                setattr(module, attribute, replacement)
    try:
        yield
    finally:
        for module, attribute, original in saved:
            setattr(module, attribute, original)


def measure(workdir: Path, scale_factor: float, history_days: int, repeats: int) -> dict:
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE

    first = TPCH_FIRST_ORDER_DATE
    last = first + dt.timedelta(days=history_days - 1)
    new_day = last + dt.timedelta(days=1)
    scratch = workdir / f"sf{scale_factor}" / "publish_audit"
    shutil.rmtree(scratch, ignore_errors=True)
    tpch = tpch_dir(workdir, scale_factor)
    landing = land_days(tpch, scratch / "landing", first, last)
    history_root = scratch / "history"
    settings = settings_for(history_root, landing)
    spark_session(settings)
    history = run_job(definitions_with_job(settings, "unused", ()), DAILY_JOB, first, last)
    print(f"history ({history_days} days, SF {scale_factor}): {history.seconds:.1f}s", flush=True)
    land_days(tpch, landing, new_day, new_day)
    times: dict[str, list[float]] = {"audited": [], "write_then_check": []}
    steps: dict[str, dict[str, float]] = {}
    failed: dict[str, list[str]] = {}
    for repeat in range(repeats):
        # Alternate the order, so neither variant always runs on a warmer JVM.
        order = ["audited", "write_then_check"][:: 1 if repeat % 2 == 0 else -1]
        for variant in order:
            root = scratch / f"{variant}_{repeat}"
            shutil.copytree(history_root, root)
            defs = definitions_with_job(settings_for(root, landing), "unused", ())
            with write_then_check() if variant == "write_then_check" else contextlib.nullcontext():
                day = run_job(defs, DAILY_JOB, new_day, new_day)
            # Warnings (unknown members of a day slice, drift) fail alike in both variants.
            failed[variant] = day.failed_checks
            times[variant].append(day.seconds)
            steps[variant] = day.step_seconds
            print(f"{variant} #{repeat}: {day.seconds:.1f}s", flush=True)
            shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
    if failed["audited"] != failed["write_then_check"]:
        raise RuntimeError(f"the variants' failed checks differ: {failed}")
    audited = statistics.median(times["audited"])
    direct = statistics.median(times["write_then_check"])
    audited_steps = [k for k in steps["audited"] if _is_audited(k)]
    return {
        "scale_factor": scale_factor,
        "history_days": history_days,
        "new_day": new_day.isoformat(),
        "history_run_s": round(history.seconds, 3),
        "daily_run_s": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "audited_median_s": round(audited, 3),
        "write_then_check_median_s": round(direct, 3),
        "ratio": round(audited / direct, 3),
        "failed_checks_both": failed["audited"],
        "target_ratio": TARGET_RATIO,
        "audited_steps": {
            k: {
                "audited_s": round(steps["audited"][k], 3),
                "write_then_check_s": round(steps["write_then_check"].get(k, 0.0), 3),
            }
            for k in audited_steps
        },
    }


def _is_audited(step: str) -> bool:
    return step.startswith(
        ("silver_orders", "silver_line_items", "silver_customers", "fact_", "dim_", "agg_")
    ) or (step == "customer_features")


def main(argv: list[str] | None = None) -> int:
    from results_file import write_results

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--history-days", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args(argv)
    report = measure(args.workdir, args.scale_factor, args.history_days, args.repeats)
    print(
        f"one new day: audited {report['audited_median_s']}s, write then check "
        f"{report['write_then_check_median_s']}s, ratio {report['ratio']} "
        f"(target <= {TARGET_RATIO})"
    )
    write_results("publish_audit.json", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
