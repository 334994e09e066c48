"""Dead-letter replay: dry run, limit, exactly-once moves into bronze, retry counts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import functions as F

from lakehouse_assets.bronze.batch import bronze_rows, current_schema
from lakehouse_assets.bronze.dead_letter import ReplayOptions, replay_dead_letters
from lakehouse_assets.bronze.sources import ORDERS, PART
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.cli import main as cli_main
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import materialize_day, settings_for
from .landing_files import jsonl, land, order

pytestmark = pytest.mark.spark
DAY = dt.date(1992, 1, 2)


def _replay(spark, store, sources, **options):
    return replay_dead_letters(
        spark,
        store,
        sources,
        ReplayOptions(**options),
        replay_id="test-replay",
        schema_of=lambda s: current_schema(store, s),
        bronze_rows_of=lambda good, s, batch: bronze_rows(good, s, batch, current_schema(store, s)),
        log=lambda _msg: None,
    )


def _letters(store, source):
    return {
        r.dead_letter_id: r
        for r in store.read(DEAD_LETTER).where(F.col("source") == source).collect()
    }


@pytest.fixture
def orders_with_dead_letters(spark, tmp_path):
    """Three orders dead-lettered for a missing o_orderkey, one good order."""
    landing = tmp_path / "landing"
    records = [order(1)] + [
        {**order(0), "o_orderkey": None, "o_comment": f"n{i}"} for i in range(3)
    ]
    land(landing, "orders", DAY.isoformat(), "orders.jsonl", jsonl(*records))
    settings = settings_for(tmp_path / "lh", landing)
    materialize_day(settings, DAY, selection="bronze_orders")
    return settings, DeltaTableStore(spark, PathLocator(settings.root))


def test_dry_run_changes_nothing_and_still_failing_records_count_retries(
    spark, orders_with_dead_letters
):
    _, store = orders_with_dead_letters
    version = (store.version(DEAD_LETTER), store.version(bronze_table(ORDERS)))
    dry = _replay(spark, store, [ORDERS], dry_run=True)
    assert (dry.examined, dry.replayed, dry.still_failing) == (3, 0, 3)
    assert dict(dry.reasons) == {"missing_required_key": 3}
    assert (store.version(DEAD_LETTER), store.version(bronze_table(ORDERS))) == version

    real = _replay(spark, store, [ORDERS])
    assert (real.replayed, real.still_failing) == (0, 3)
    assert {r.retry_count for r in _letters(store, "orders").values()} == {1}
    assert store.read(bronze_table(ORDERS)).count() == 1


def test_fixed_schema_replays_exactly_once_with_limit(spark, orders_with_dead_letters):
    _, store = orders_with_dead_letters
    # The fix being deployed: o_orderkey is no longer required to accept the order.
    fixed_orders = dataclasses.replace(ORDERS, required_keys=("o_orderdate",))
    first = _replay(spark, store, [fixed_orders], limit=2, batch_size=1, throttle_seconds=0.01)
    assert (first.examined, first.replayed, first.bronze_rows) == (2, 2, 2)
    letters = _letters(store, "orders")
    assert sorted(r.status for r in letters.values()) == ["pending", "replayed", "replayed"]
    replayed_ids = {i for i, r in letters.items() if r.status == "replayed"}
    bronze = store.read(bronze_table(ORDERS))
    moved = bronze.where(F.col("_dead_letter_id").isNotNull()).collect()
    assert {r._dead_letter_id for r in moved} == replayed_ids
    assert all(r._batch_id.startswith("replay-") for r in moved)

    rest = _replay(spark, store, [fixed_orders])
    assert (rest.examined, rest.replayed) == (1, 1)
    assert _replay(spark, store, [fixed_orders]).examined == 0  # nothing pending: no-op
    assert bronze.count() == 4

    # A replay that crashed after writing bronze but before marking its dead letters: the
    # letters are still pending. Re-running it must not insert their rows a second time.
    store.update(DEAD_LETTER, {"status": "'pending'"}, "TRUE")
    again = _replay(spark, store, [fixed_orders])
    assert again.replayed == 3
    assert store.read(bronze_table(ORDERS)).count() == 4
    assert {r.status for r in _letters(store, "orders").values()} == {"replayed"}


def test_unreadable_file_is_replayed_after_redelivery(spark, tmp_path, monkeypatch, capsys):
    landing = tmp_path / "landing"
    good = pa.table({"p_partkey": pa.array([1], pa.int64()), "p_name": ["bolt"]})
    pq.write_table(good, land(landing, "part", "1992-01-01", "part.parquet", b""))
    broken = land(landing, "part", "1992-01-02", "part.parquet", b"PAR1 truncated in transit")
    settings = settings_for(tmp_path / "lh", landing)
    materialize_day(settings, DAY, selection="bronze_part")
    store = DeltaTableStore(spark, PathLocator(settings.root))
    [letter] = _letters(store, "part").values()
    assert letter.error_reason == "unreadable_file" and letter.raw_record is None

    redelivered = pa.table(
        {
            "p_partkey": pa.array([2, 3], pa.int64()),
            "p_name": ["nut", "gear"],
            "p_retailprice": pa.array([Decimal("1.25"), Decimal("9.99")], pa.decimal128(15, 2)),
        }
    )
    pq.write_table(redelivered, broken)
    monkeypatch.setenv("LAKEHOUSE_ROOT", settings.root)
    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", settings.landing_root)
    assert cli_main(["replay-dead-letters", "--source", "part", "--dry-run"]) == 0
    assert "DRY RUN: examined 1, replayed 1 (2 bronze rows)" in capsys.readouterr().out
    assert store.read(bronze_table(PART)).count() == 1

    assert cli_main(["replay-dead-letters", "--source", "part"]) == 0
    parts = {r.p_partkey: r for r in store.read(bronze_table(PART)).collect()}
    assert sorted(parts) == [1, 2, 3]
    assert parts[3].p_retailprice == Decimal("9.99")
    assert parts[3]._dead_letter_id == letter.dead_letter_id
    assert _letters(store, "part")[letter.dead_letter_id].status == "replayed"
