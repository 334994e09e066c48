"""A stream killed mid-run (SIGKILL, no clean-up) and re-run ingests every file exactly once.

The kill is deterministic: the worker kills itself at a named fault point (``faults.py``), and
the test asserts the moment from disk before the re-run."""

from __future__ import annotations

import contextlib
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
from lakehouse_assets.faults import KILL_AT_ENV, fault_point
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


def _start_worker(
    root: Path, landing: Path, *, stderr: int, kill_at: str | None = None
) -> subprocess.Popen:
    """The orders stream in its own process (its own JVM), one file per micro-batch;
    ``kill_at``: the fault point (``faults.py``) where it kills itself."""
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    if kill_at is not None:
        env[KILL_AT_ENV] = kill_at
    return subprocess.Popen(
        [sys.executable, "-m", "lakehouse_assets_tests.stream_worker", str(root), str(landing)],
        cwd=Path(__file__).resolve().parents[1],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=env,
    )


def _batches(spark, path: Path, column: str) -> int:  # type: ignore[no-untyped-def]
    """Distinct micro-batches a Delta table holds rows of (0 if it does not exist)."""
    if not (path / "_delta_log").exists():
        return 0
    return spark.read.format("delta").load(str(path)).select(column).distinct().count()


@pytest.mark.parametrize(
    ("point", "ledger_batches"),
    [("bronze.rows_written", 2), ("bronze.ledger_written", 3)],
)
def test_a_stream_killed_right_after_a_named_commit_resumes_exactly_once(
    spark, tmp_path, point, ledger_batches
):
    """SIGKILL in the third micro-batch, right after the named commit (no clean-up, the JVM
    killed with it): bronze holds three batches, the ledger two or three, the stream's
    checkpoint two. The re-run ingests every file exactly once."""
    landing, root = tmp_path / "landing", tmp_path / "lh"
    _land_daily_orders(landing, FILES)
    worker = _start_worker(root, landing, stderr=subprocess.PIPE, kill_at=f"{point}@3")
    _, stderr = worker.communicate(timeout=300)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)  # its JVM
    assert worker.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
    assert f"killed at {point} (occurrence 3)" in stderr.decode()
    # The moment, read from disk: what a restart finds.
    assert _batches(spark, root / "bronze" / "orders", "_batch_id") == 3
    assert _batches(spark, root / "monitoring" / "ingested_files", "batch_id") == ledger_batches
    commits = root / "_checkpoints" / "bronze" / "orders" / "commits"
    assert len([p for p in commits.glob("[0-9]*")]) == 2

    store = DeltaTableStore(spark, PathLocator(str(root)))
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


def test_a_fault_point_is_inert_unless_named(monkeypatch):
    monkeypatch.setenv(KILL_AT_ENV, "bronze.ledger_written@2")
    fault_point("bronze.rows_written")  # another point: nothing happens
    fault_point("bronze.ledger_written")  # the first occurrence: nothing happens
    monkeypatch.delenv(KILL_AT_ENV)
    fault_point("bronze.ledger_written")  # unset: nothing happens


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
