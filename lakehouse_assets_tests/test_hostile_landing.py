"""Bronze against a hostile source: every landed byte is in bronze, a dead letter or the file
ledger's rejections, counted apart from the parser; a lost or torn checkpoint duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakehouse_assets.bronze.batch import BatchOutcome
from lakehouse_assets.bronze.ingest import accounting_check
from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.streaming import IngestionReport
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.monitoring.tables import INGESTED_FILES
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import checks_by_name, materialize_day, own_materialization, settings_for
from .landing_files import jsonl, land, order, uri

pytestmark = pytest.mark.spark
DAY = "1992-01-02"
BRONZE = bronze_table(ORDERS)
LATIN1_LINE = b'{"o_orderkey": 11, "o_orderdate": "1992-01-02", "o_comment": "caf\xe9"}'


def _hostile_files() -> dict[str, bytes | str]:
    two_values = json.dumps(order(3)) + " " + json.dumps(order(4))
    return {
        "good.jsonl": jsonl(order(1), order(2)),
        "two_values.jsonl": jsonl(two_values, order(5)),
        "dup_key.jsonl": '{"o_orderkey": 6, "o_orderkey": 66, "o_orderdate": "1992-01-02"}\n',
        "gzipped.jsonl.gz": gzip.compress(jsonl(order(7), order(8)).encode()),
        "gzip_named_plain.jsonl": gzip.compress(jsonl(order(9)).encode()),
        "UPPER.JSON": jsonl(order(10)),
        "latin1.jsonl": LATIN1_LINE + b"\n",
        "cut.jsonl.gz": gzip.compress(jsonl(*(order(k) for k in range(100, 150))).encode())[:60],
        "notes.txt": "not an extract\n",
    }


def _lines(content: bytes | str) -> int:
    """Records counted by the test itself: non-blank lines of the (gunzipped) bytes."""
    data = content.encode() if isinstance(content, str) else content
    try:
        data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    except EOFError:
        return 1  # a torn archive is one unreadable record
    return sum(1 for line in data.split(b"\n") if line.strip())


def _run(settings):
    result = materialize_day(settings, dt.date.fromisoformat(DAY), selection="bronze_orders")
    return result, own_materialization(result, "bronze_orders").metadata


@pytest.fixture(scope="module")
def hostile(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    landing = root / "landing"
    files = _hostile_files()
    paths = {name: land(landing, "orders", DAY, name, body) for name, body in files.items()}
    paths["stray.jsonl"] = land(landing, "orders", ".", "stray.jsonl", jsonl(order(90)))
    paths["incoming/x.jsonl"] = land(landing, "orders", "incoming", "x.jsonl", jsonl(order(91)))
    settings = settings_for(root, landing)
    result, meta = _run(settings)
    store = DeltaTableStore(spark, PathLocator(settings.root))
    return settings, store, files, paths, result, meta


def test_every_record_is_in_bronze_or_a_dead_letter(hostile):
    _, store, files, _, _, _ = hostile
    readable = {n: b for n, b in files.items() if n != "notes.txt"}
    records = sum(_lines(body) for body in readable.values())
    keys = sorted(r.o_orderkey for r in store.read(BRONZE).select("o_orderkey").collect())
    dead = store.read(DEAD_LETTER).count()
    assert keys == [1, 2, 5, 7, 8, 9, 10]
    assert (records, len(keys) + dead) == (11, 11)


def test_bad_lines_are_dead_lettered_with_their_reason(hostile):
    _, store, _, paths, _, _ = hostile
    reasons = {(r.source_file, r.error_reason) for r in store.read(DEAD_LETTER).collect()}
    assert reasons == {
        (uri(paths["two_values.jsonl"]), "multiple_json_values"),
        (uri(paths["dup_key.jsonl"]), "duplicate_key"),
        (uri(paths["latin1.jsonl"]), "invalid_encoding"),
        (uri(paths["cut.jsonl.gz"]), "unreadable_file"),
    }


def test_a_dead_letter_keeps_the_original_bytes(hostile):
    _, store, _, _, _, _ = hostile
    letter = store.read(DEAD_LETTER).where(F.col("error_reason") == "invalid_encoding").first()
    assert bytes(letter.raw_bytes) == LATIN1_LINE
    two = store.read(DEAD_LETTER).where(F.col("error_reason") == "multiple_json_values").first()
    assert bytes(two.raw_bytes).decode() == json.dumps(order(3)) + " " + json.dumps(order(4))


def test_every_landed_file_is_ingested_or_rejected_with_a_reason(hostile):
    _, store, _, paths, result, meta = hostile
    ledger = {r.file_path: r for r in store.read(INGESTED_FILES).collect()}
    assert set(ledger) == {uri(p) for p in paths.values()}
    rejected = {p: r.reject_reason for p, r in ledger.items() if r.status == "rejected"}
    assert rejected == {
        uri(paths["notes.txt"]): "unsupported_extension",
        uri(paths["stray.jsonl"]): "not_in_a_date_folder",
        uri(paths["incoming/x.jsonl"]): "not_in_a_date_folder",
    }
    assert ledger[uri(paths["gzipped.jsonl.gz"])].records == 2
    assert ledger[uri(paths["gzip_named_plain.jsonl"])].bronze_rows == 1
    checks = checks_by_name(result)
    assert checks["landed_files_ingested"].passed and checks["ingestion_accounting"].passed
    assert not checks["no_rejected_files"].passed
    assert meta["backlog_files"].value == 0 and meta["rejected_files"].value == 3


def test_a_deleted_checkpoint_reingests_nothing(hostile):
    settings, store, _, _, _, _ = hostile
    shutil.rmtree(f"{settings.checkpoint_root}/bronze/orders")
    land(Path(settings.landing_root), "orders", DAY, "late.jsonl", jsonl(order(12)))
    _, meta = _run(settings)
    keys = [r.o_orderkey for r in store.read(BRONZE).select("o_orderkey").collect()]
    assert sorted(keys) == [1, 2, 5, 7, 8, 9, 10, 12]
    assert store.read(DEAD_LETTER).count() == 4
    ledger = store.read(INGESTED_FILES)
    assert ledger.count() == ledger.select("file_path").distinct().count()
    assert meta["skipped_already_ingested"].value >= 10


def test_a_checkpoint_cut_mid_write_is_set_aside_without_duplicates(hostile):
    settings, store, _, _, _, _ = hostile
    land(Path(settings.landing_root), "orders", DAY, "later.jsonl", jsonl(order(13)))
    offsets_dir = Path(settings.checkpoint_root) / "bronze" / "orders" / "offsets"
    offsets = sorted(
        (p for p in offsets_dir.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)
    )
    text = offsets[-1].read_bytes()
    offsets[-1].write_bytes(text[: len(text) - 7])  # a torn write: the last JSON line is cut
    _, meta = _run(settings)
    assert ".corrupt-" in meta["recovered_checkpoint"].value
    assert list(offsets_dir.parents[1].glob("orders.corrupt-*"))
    keys = [r.o_orderkey for r in store.read(BRONZE).select("o_orderkey").collect()]
    assert sorted(keys) == [1, 2, 5, 7, 8, 9, 10, 12, 13]


def test_accounting_is_proved_against_the_bytes_not_the_parse(hostile):
    """A row the parse did not produce (a duplicate appended here) fails the check, naming
    the file: the ledger's count comes from the bytes. Last in the module: bronze is
    append-only, so the extra row stays."""
    _, store, _, paths, _, _ = hostile
    batch_ids = {r.batch_id for r in store.read(INGESTED_FILES).collect() if r.batch_id}
    report = IngestionReport(
        source="orders",
        batches=[BatchOutcome(b, dt.datetime.now(dt.UTC).date()) for b in sorted(batch_ids)],
    )
    assert accounting_check(store, ORDERS, report).passed
    store.append(BRONZE, store.read(BRONZE).where("o_orderkey = 2"))
    check = accounting_check(store, ORDERS, report)
    assert not check.passed
    assert check.metadata["unbalanced_files"].value == [uri(paths["good.jsonl"])]
    assert "good.jsonl: 2 records, 3 in bronze" in check.description
