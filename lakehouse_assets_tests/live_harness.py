"""A live lakehouse under the real Dagster daemon, for tests and the live-latency benchmark.

Starts ``dagster-daemon run`` (sensor, automation, backfill, run-queue and freshness daemons)
on a temporary ``DAGSTER_HOME`` with the shipped ``dagster.yaml``, exactly as ``lakehouse
live`` does minus the UI, and reads what happened back from the instance only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetKey, DagsterEventType, DagsterInstance, EventRecordsFilter

from lakehouse_assets.live_session import dagster_processes, live_environment
from lakehouse_assets.partitions import PartitionCalendar
from lakehouse_assets.sample_data.landing import land_tpch
from lakehouse_assets.sample_data.live_feed import FeedOptions, LandedFile, run_feed
from lakehouse_assets.sample_data.manifest import SampleDataManifest, write_manifest
from lakehouse_assets.sample_data.tpch import generate_tpch


@dataclass(frozen=True)
class RunView:
    run_id: str
    job: str
    status: str
    start: float | None
    end: float | None
    first: str | None
    last: str | None
    assets: frozenset[str]
    pools: frozenset[str]
    trigger: str | None
    tags: Mapping[str, str] = field(default_factory=dict, compare=False)

    def days(self) -> list[str]:
        """The dates of the run's partition range (none for an unpartitioned run)."""
        if self.first is None or self.last is None:
            return []
        first, last = dt.date.fromisoformat(self.first), dt.date.fromisoformat(self.last)
        return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


class LiveLakehouse:
    """Landing zone + daemon + instance of one live lakehouse under ``root``."""

    def __init__(self, root: Path, environ: Mapping[str, str]) -> None:
        self.root = root
        self.landing = root / "lh" / "landing"
        self.tpch = root / "tpch"
        self.home = root / "dagster_home"
        # The partition start comes from the landed history's manifest, as for a user; the
        # suite's own pin (conftest) is for the in-process oracle tests.
        inherited = {k: v for k, v in os.environ.items() if k != "LAKEHOUSE_PARTITION_START"}
        self.env = live_environment(
            {
                **inherited,
                "LAKEHOUSE_ROOT": str(root / "lh"),
                "LAKEHOUSE_SENSOR_INTERVAL_SECONDS": "5",
                "LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS": "5",
                "LAKEHOUSE_LOG_FORMAT": "text",
                **environ,
            },
            self.home,
        )

    def land_history(self, days: int, ends_on: dt.date, scale_factor: float = 0.01) -> None:
        """``days`` of TPC-H history ending on ``ends_on``, with its manifest."""
        generate_tpch(scale_factor, self.tpch)
        first = dt.date(1992, 1, 1)
        last = first + dt.timedelta(days=days - 1)
        shift = (ends_on - last).days
        land_tpch(self.tpch, self.landing, first, last, shift_days=shift)
        write_manifest(self.landing, SampleDataManifest(scale_factor, 42, shift, first, last))

    def feed(self, options: FeedOptions) -> list[LandedFile]:
        """Land the feed's next days now (pacing as ``options`` say)."""
        return list(self.feed_iter(options))

    def feed_iter(self, options: FeedOptions) -> Iterator[LandedFile]:
        """The feed's landings as they happen."""
        calendar = PartitionCalendar.from_env(self.env)
        yield from run_feed(self.landing, self.tpch, options, calendar)

    @contextlib.contextmanager
    def daemon(self, **environ: str) -> Iterator[LiveLakehouse]:
        """The daemon running (with ``environ`` added to the environment, as a deploy with
        changed settings would restart it) until the block ends."""
        self.env.update(environ)
        with dagster_processes(self.env, ui=False, log_path=self.root / "daemon.log"):
            yield self
            # Stopped with no run in flight: a daemon stopped while it dequeues a run marks
            # that run failed ("unrecoverable error while dequeuing"), and the runs it
            # launched are its children, stopped with it; a restart must do neither.
            # A sensor that keeps a run going at all times (a short freshness interval) gets
            # the weaker guarantee: stopped between launches.
            instance = self.instance()
            try:
                wait_for(
                    "no run in flight", lambda: not unfinished(instance), timeout=120, poll=0.5
                )
            except AssertionError:
                wait_for(
                    "no run being launched", lambda: not launching(instance), timeout=300, poll=0.5
                )

    def command(self, *args: str) -> subprocess.Popen:
        """A command of the project's environment (``lakehouse``, ``dagster``) against this
        lakehouse and instance, in its own process group."""
        return subprocess.Popen(
            [str(Path(sys.executable).with_name(args[0])), *args[1:]],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.home))


def wait_for(what: str, predicate: Callable[[], Any], *, timeout: float, poll: float = 5.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def runs(instance: DagsterInstance) -> list[RunView]:
    views = []
    for record in instance.get_run_records():
        run = record.dagster_run
        tags = run.tags
        first = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
        last = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
        pools = run.run_op_concurrency.all_pools if run.run_op_concurrency else None
        views.append(
            RunView(
                run.run_id,
                run.job_name,
                run.status.value,
                record.start_time,
                record.end_time,
                first,
                last,
                frozenset(k.to_user_string() for k in run.asset_selection or ()),
                frozenset(pools or ()),
                tags.get("lakehouse/trigger"),
                dict(tags),
            )
        )
    return sorted(views, key=lambda r: r.start or float("inf"))


def materializations(instance: DagsterInstance, asset: str) -> list[tuple[str, float]]:
    """(partition, timestamp) of every materialization of ``asset``, oldest first."""
    records = instance.get_event_records(
        EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey(asset)),
        ascending=True,
    )
    return [(r.partition_key or "", r.timestamp) for r in records]


def unfinished(instance: DagsterInstance) -> list[RunView]:
    return [
        r for r in runs(instance) if r.status in {"QUEUED", "NOT_STARTED", "STARTING", "STARTED"}
    ]


def launching(instance: DagsterInstance) -> list[RunView]:
    """Runs the daemon has queued or is starting (not yet running their steps)."""
    return [r for r in runs(instance) if r.status in {"QUEUED", "NOT_STARTED", "STARTING"}]
