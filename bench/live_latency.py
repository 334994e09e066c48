"""Landing-to-gold latency of the live loop, under the real Dagster daemon.

    python bench/live_latency.py [--days 10] [--seconds-per-day 180] [--scale-factor 0.01]

Lands a day of history, starts ``dagster-daemon run`` on a fresh ``DAGSTER_HOME`` with the
shipped ``dagster.yaml`` (what ``make live`` runs, minus the UI) and lets the live feed land
``--days`` source days, one every ``--seconds-per-day`` seconds, with its late corrections,
re-deliveries and malformed records. For every fed day it measures, from the instance only:

    latency = (fact_orders' partition of that day materialized and every check of that
               materialization evaluated and passed) - (the day's orders file landed)

which includes the landing sensor's interval, the run queue and the run. The baseline in the
same run is the work itself: the duration of the run that built the day (its start to its
end), so ``latency - run_seconds`` is what scheduling costs. Prints p50 and p95 and writes
``bench/results/live_latency.json`` (``p50_s``, ``p95_s``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def gold_done_at(instance, day: str, after: float):  # type: ignore[no-untyped-def]
    """(time fact_orders' ``day`` and all its checks passed, run id), or None yet."""
    from dagster import AssetKey, DagsterEventType, EventRecordsFilter

    records = instance.get_event_records(
        EventRecordsFilter(
            DagsterEventType.ASSET_MATERIALIZATION,
            asset_key=AssetKey("fact_orders"),
            asset_partitions=[day],
            after_timestamp=float(after),
        ),
        ascending=True,
        limit=1,
    )
    if not records:
        return None
    run_id = records[0].run_id
    run = instance.get_run_by_id(run_id)
    if run is None or not run.is_finished:
        return None
    checks = [
        e
        for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        if e.dagster_event.event_specific_data.asset_check_key.asset_key == AssetKey("fact_orders")
    ]
    if not checks or not all(e.dagster_event.event_specific_data.passed for e in checks):
        return None
    return max([records[0].timestamp, *(e.timestamp for e in checks)]), run_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seconds-per-day", type=float, default=180.0)
    parser.add_argument("--scale-factor", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    from results_file import write_results

    from lakehouse_assets.sample_data.live_feed import FeedOptions
    from lakehouse_assets_tests.live_harness import LiveLakehouse, unfinished, wait_for

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="live_latency-"))
    today = dt.datetime.now(dt.UTC).date()
    lake = LiveLakehouse(workdir, {"LAKEHOUSE_FRESHNESS_INTERVAL_SECONDS": "3600"})
    lake.land_history(days=1, ends_on=today - dt.timedelta(days=args.days + 1))
    os.environ.update({k: v for k, v in lake.env.items() if k.startswith("LAKEHOUSE_")})
    options = FeedOptions(
        seconds_per_day=args.seconds_per_day, days=args.days, late_every=3, redeliver_every=4
    )
    started = time.time()
    samples = []
    with lake.daemon():
        instance = lake.instance()
        history_day = (today - dt.timedelta(days=args.days + 1)).isoformat()
        history_built = lambda: gold_done_at(instance, history_day, 0.0)  # noqa: E731
        wait_for("the history day in gold", history_built, timeout=1800)
        print(f"history built in {time.time() - started:.0f}s; feeding {args.days} days")
        arrivals = {}
        for landed in lake.feed_iter(options):
            if landed.kind == "day" and "/orders/" in str(landed.path):
                day = landed.path.parent.name
                arrivals[day] = landed.landed_at.timestamp()
                print(f"landed {day}", flush=True)
        for day, arrived in arrivals.items():
            done_at, run_id = wait_for(
                f"gold for {day}",
                lambda d=day, a=arrived: gold_done_at(instance, d, a),
                timeout=1800,
            )
            record = instance.get_run_record_by_id(run_id)
            samples.append(
                {
                    "day": day,
                    "latency_s": round(done_at - arrived, 1),
                    "run_seconds": round(record.end_time - record.start_time, 1),
                    "run_id": run_id,
                }
            )
            print(samples[-1], flush=True)
        wait_for("the queue to drain", lambda: not unfinished(instance), timeout=900)
    latencies = [s["latency_s"] for s in samples]
    runs = [s["run_seconds"] for s in samples]
    report = {
        "scale_factor": args.scale_factor,
        "days": args.days,
        "seconds_per_day": args.seconds_per_day,
        "sensor_interval_s": int(lake.env["LAKEHOUSE_SENSOR_INTERVAL_SECONDS"]),
        "automation_interval_s": int(lake.env["LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS"]),
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "mean_s": round(statistics.mean(latencies), 1),
        "baseline_run_p50_s": percentile(runs, 50),
        "scheduling_overhead_p50_s": round(percentile(latencies, 50) - percentile(runs, 50), 1),
        "target": {"p50_s": 180, "p95_s": 300},
        "samples": samples,
    }
    write_results("live_latency.json", report)
    print(
        f"p50 {report['p50_s']}s  p95 {report['p95_s']}s  (run itself p50 "
        f"{report['baseline_run_p50_s']}s) over {len(samples)} days"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
