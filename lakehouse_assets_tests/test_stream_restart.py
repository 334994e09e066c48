"""A stream killed mid-run (SIGKILL, no clean-up) and re-run ingests every file exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.streaming import StreamLimits, run_bronze_stream
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.monitoring.tables import INGESTED_FILES
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .landing_files import jsonl, land, order

pytestmark = pytest.mark.spark
FILES = 12
ORDERS_PER_FILE = 5


def _land_daily_orders(landing: Path, files: int) -> None:
    """One file of ORDERS_PER_FILE orders per day from 1992-01-01."""
    start = dt.date(1992, 1, 1)
    for n in range(files):
        day = (start + dt.timedelta(days=n)).isoformat()
        keys = range(n * ORDERS_PER_FILE, (n + 1) * ORDERS_PER_FILE)
        land(landing, "orders", day, f"orders_{day}.jsonl", jsonl(*(order(k, day) for k in keys)))


def _start_worker(root: Path, landing: Path, *, stderr: int) -> subprocess.Popen:
    """The orders stream in its own process (its own JVM), one file per micro-batch."""
    return subprocess.Popen(
        [sys.executable, "-m", "lakehouse_assets_tests.stream_worker", str(root), str(landing)],
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )


def _commits(log_dir: Path) -> int:
    return len(list(log_dir.glob("*.json"))) if log_dir.exists() else 0


def _kill_inside_a_batch(process: subprocess.Popen, root: Path, timeout: float = 240) -> str:
    """SIGKILL the worker's process group at the most dangerous moment we can observe: after
    a micro-batch's bronze commit and before the stream commits the batch to its checkpoint.
    Falls back to killing between batches; the assertions hold either way."""
    bronze_log = root / "bronze" / "orders" / "_delta_log"
    stream_commits = root / "_checkpoints" / "bronze" / "orders" / "commits"
    deadline = time.monotonic() + timeout
    moment = "timeout"
    while time.monotonic() < deadline and process.poll() is None:
        batches_written = _commits(bronze_log) - 1  # version 0 creates the table
        batches_committed = (
            len([p for p in stream_commits.glob("[0-9]*")]) if stream_commits.exists() else 0
        )
        if batches_committed >= 2 and batches_written > batches_committed:
            moment = f"inside batch {batches_committed} (bronze written, checkpoint not)"
            break
        if batches_committed >= 4:
            moment = f"between batches ({batches_committed} committed)"
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    return moment


def test_killed_stream_resumes_without_duplicates_or_losses(spark, tmp_path):
    landing, root = tmp_path / "landing", tmp_path / "lh"
    _land_daily_orders(landing, FILES)
    worker = _start_worker(root, landing, stderr=subprocess.DEVNULL)
    moment = _kill_inside_a_batch(worker, root)
    print(f"worker killed {moment}")

    store = DeltaTableStore(spark, PathLocator(str(root)))
    partial = store.read(bronze_table(ORDERS)).count() if store.exists(bronze_table(ORDERS)) else 0
    assert partial < FILES * ORDERS_PER_FILE, "the worker finished before it could be killed"

    run_bronze_stream(
        spark,
        store,
        ORDERS,
        landing_dir=str(landing / "orders"),
        checkpoint_dir=str(root / "_checkpoints" / "bronze" / "orders"),
        limits=StreamLimits(max_files_per_trigger=4),
        evolution_mode="rescue",
    )
    bronze = store.read(bronze_table(ORDERS))
    assert bronze.count() == FILES * ORDERS_PER_FILE
    assert bronze.select("o_orderkey").distinct().count() == FILES * ORDERS_PER_FILE
    ledger = store.read(INGESTED_FILES)
    assert ledger.count() == ledger.select("file_path").distinct().count() == FILES
    per_batch = dict(bronze.groupBy("_batch_id").count().collect())
    for row in ledger.groupBy("batch_id").agg(F.sum("bronze_rows").alias("rows")).collect():
        assert per_batch.get(row.batch_id, 0) == row.rows, row.batch_id


def test_two_runs_of_one_source_at_once_both_succeed_without_duplicates(spark, tmp_path):
    """A second run of the same source while the first is mid-stream waits for the stream lock
    (and would retry a checkpoint conflict) instead of failing."""
    landing, root = tmp_path / "landing", tmp_path / "lh"
    files = 6
    _land_daily_orders(landing, files)
    worker = _start_worker(root, landing, stderr=subprocess.PIPE)
    offsets = root / "_checkpoints" / "bronze" / "orders" / "offsets"
    deadline = time.monotonic() + 240
    while worker.poll() is None and not (offsets.exists() and any(offsets.iterdir())):
        assert time.monotonic() < deadline, "the worker never started its stream"
        time.sleep(0.05)
    store = DeltaTableStore(spark, PathLocator(str(root)))
    report = run_bronze_stream(
        spark,
        store,
        ORDERS,
        landing_dir=str(landing / "orders"),
        checkpoint_dir=str(root / "_checkpoints" / "bronze" / "orders"),
        limits=StreamLimits(max_files_per_trigger=1),
        evolution_mode="rescue",
    )
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == 0, stderr.decode()[-2000:]
    bronze = store.read(bronze_table(ORDERS))
    rows = files * ORDERS_PER_FILE
    assert bronze.count() == bronze.select("o_orderkey").distinct().count() == rows
    ledger = store.read(INGESTED_FILES)
    assert ledger.count() == ledger.select("file_path").distinct().count() == files
    assert report.files_processed < files  # the worker had ingested files before it let go
