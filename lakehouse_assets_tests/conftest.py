"""Shared fixtures.

One Spark session per test session: starting a JVM costs ~10 s on two cores, so tests that need
Spark share the session created here (the resources' ``get_session`` reuses it). Tests that do
not request ``spark`` never start a JVM.
"""

from __future__ import annotations

import os

# The suite's oracle tests run on TPC-H's own dates: pin the partition start before the
# package is imported, so a demo landing in the checkout (.lakehouse/landing, whose manifest
# would move the default start to its first date) cannot change what the tests see.
os.environ.setdefault("LAKEHOUSE_PARTITION_START", "1992-01-01")

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakehouse_assets.resources.spark import local_spark_conf, start_local_session
from lakehouse_assets.sample_data import generate_tpch

TEST_SCALE_FACTOR = 0.01


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """The test session's Spark: local[2], UI off, few shuffle partitions."""
    warehouse = tmp_path_factory.mktemp("spark_warehouse")
    session = start_local_session(
        local_spark_conf(
            master="local[2]",
            app_name="lakehouse_assets_tests",
            shuffle_partitions=2,
            driver_memory="3g",
            ui_enabled=False,
            warehouse_dir=str(warehouse),
        )
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def tpch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TPC-H SF 0.01 generated once per test session by tpchgen-cli (no Spark)."""
    return generate_tpch(TEST_SCALE_FACTOR, tmp_path_factory.mktemp("tpch") / "sf0.01")


def days(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


# `make test` runs the suite on two workers, one test file per worker at a time, in this order
# (pytest -n 2 --dist loadfile --no-loadscope-reorder): the longest files first, so that no
# worker starts a long file near the end while the other one sits idle. Measured on two cores:
# 42.8 min against 41.2 min serial. The suite is CPU-bound, and the daemon test, the critical
# path, takes twice as long (2,000 s) while the other worker runs Spark. Shortening that test is
# what would pay. Seconds below are from a serial run with --durations=0; files not listed
# follow, in their usual order.
LONGEST_FILES_FIRST = (
    "test_live_daemon.py",  # ~520 s alone (2026-12-02)
    "test_slice_end_to_end.py",  # ~620 s (+160 s: the run through Spark Connect, 2026-12-07)
    "test_freshness_daemon.py",  # ~4 min, mostly waiting for the SLA window (2026-12-07)
    "test_databricks_execution.py",  # ~400 s
    "test_whole_history.py",  # ~340 s
    "test_stream_restart.py",  # ~270 s
    "test_customer_features.py",  # ~225 s
    "test_erasure.py",  # ~240 s (2026-12-06, under load: 540 s)
    "test_gold_star.py",
    "test_customer_cdc.py",
    "test_vector_index.py",
    "test_silver_quality.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return (
            LONGEST_FILES_FIRST.index(name)
            if name in LONGEST_FILES_FIRST
            else len(LONGEST_FILES_FIRST)
        )

    items.sort(key=rank)  # stable: tests keep their order within a file
