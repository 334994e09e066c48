"""Bronze ingestion of a landing zone full of trouble: nothing lost, nothing duplicated."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import pytest
from dagster import materialize
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from lakehouse_assets.bronze.assets import bronze_source_asset
from lakehouse_assets.bronze.batch import SchemaEvolutionError
from lakehouse_assets.bronze.landing_zone import LandingZone
from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.monitoring.tables import INGESTED_FILES, INGESTION_EVENTS, SCHEMA_CHANGES
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import (
    checks_by_name,
    local_resources,
    materialize_day,
    own_materialization,
    settings_for,
    step_error,
)
from .landing_files import jsonl, land, order, uri

pytestmark = pytest.mark.spark
DAY = "1992-01-02"
BRONZE = bronze_table(ORDERS)


def _troubled_landing(landing):
    """Eight files covering every kind of bad input; returns {file: expected reasons}."""
    files = {
        "good.jsonl": jsonl(order(1), order(2, loyalty="gold"), order(3, o_custkey="abc")),
        "corrupt.jsonl": jsonl(order(4), "this is not json", order(5)),
        "truncated.jsonl": jsonl(order(6)) + '{"o_orderkey": 7, "o_ord',
        "empty.jsonl": "",
        "bom.jsonl": "\ufeff" + jsonl(order(8)),
        # Order 9 is dated the day before its folder (a correction in a later extract).
        "with space.jsonl": jsonl(order(9, "1992-01-01")) + "\n\n",
        "missing.jsonl": jsonl({"o_orderdate": DAY, "o_comment": "no key"}, order(10)),
        # 0xE9 is Latin-1 for "é": not valid UTF-8.
        "encoding.jsonl": b'{"o_orderkey": 11, "o_orderdate": "1992-01-02", "c": "caf\xe9"}\n',
    }
    paths = {name: land(landing, "orders", DAY, name, content) for name, content in files.items()}
    expected_dead = {
        "corrupt.jsonl": ["invalid_json"],
        "truncated.jsonl": ["invalid_json"],
        "missing.jsonl": ["missing_required_key"],
        "encoding.jsonl": ["invalid_encoding"],
    }
    return paths, expected_dead


def _records_in(path) -> int:
    """Non-blank lines, counted independently of the lakehouse's readers."""
    return sum(1 for line in path.read_bytes().splitlines() if line.strip(b" \t\r\xef\xbb\xbf"))


@pytest.fixture(scope="module")
def ingested(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("bronze")
    landing = root / "landing"
    paths, expected_dead = _troubled_landing(landing)
    settings = settings_for(root, landing)
    result = materialize_day(settings, dt.date(1992, 1, 2), selection="bronze_orders")
    store = DeltaTableStore(spark, PathLocator(settings.root))
    return settings, store, paths, expected_dead, result


def test_bronze_plus_dead_letters_equals_input_records(ingested):
    _, store, paths, _, _ = ingested
    records = sum(_records_in(p) for p in paths.values())
    bronze = store.read(BRONZE).count()
    dead = store.read(DEAD_LETTER).count()
    assert (records, bronze, dead) == (13, 9, 4)
    assert bronze + dead == records


def test_the_step_reports_the_side_tables_it_wrote(ingested):
    """The dead-letter queue, the ledger and the ingestion events are assets of their own,
    reported by the step that wrote them, with their row counts and columns."""
    _, store, _, _, result = ingested
    reported = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert {
        "bronze_orders",
        "bronze/dead_letter",
        "monitoring/ingested_files",
        "monitoring/ingestion_events",
    } <= set(reported)
    # Rescue mode adds no column but records the drift: "loyalty" is new, "o_custkey" mistyped.
    changes = reported["monitoring/schema_changes"]
    assert changes["dagster/row_count"].value == 2
    drift = {(r.column_name, r.change_kind) for r in store.read(SCHEMA_CHANGES).collect()}
    assert drift == {("loyalty", "new_field"), ("o_custkey", "type_mismatch")}
    letters = reported["bronze/dead_letter"]
    assert letters["dagster/row_count"].value == store.read(DEAD_LETTER).count() == 4
    assert letters["written_by"].value == "bronze_orders"
    columns = {c.name for c in letters["dagster/column_schema"].schema.columns}
    assert {"source", "error_reason", "raw_record"} <= columns


def test_each_bad_record_has_the_right_reason_and_its_raw_text(ingested):
    _, store, paths, expected_dead, _ = ingested
    letters = store.read(DEAD_LETTER).collect()
    by_file = {}
    for letter in letters:
        by_file.setdefault(letter.source_file, []).append(letter.error_reason)
        assert letter.status == "pending" and letter.retry_count == 0
        assert letter.source == "orders" and letter.source_system == "tpch"
        assert letter.landing_date == dt.date(1992, 1, 2)
    assert by_file == {uri(paths[name]): reasons for name, reasons in expected_dead.items()}
    raws = {letter.raw_record for letter in letters}
    assert "this is not json" in raws and '{"o_orderkey": 7, "o_ord' in raws


def test_rescued_data_holds_unexpected_fields_and_type_mismatches(ingested):
    _, store, _, _, _ = ingested
    rescued = {
        r.o_orderkey: json.loads(r._rescued_data)
        for r in store.read(BRONZE).where(F.col("_rescued_data").isNotNull()).collect()
    }
    assert rescued == {2: {"loyalty": "gold"}, 3: {"o_custkey": "abc"}}
    row = store.read(BRONZE).where("o_orderkey = 3").first()
    assert row.o_custkey is None and row.o_totalprice is not None  # one bad field, row kept


def test_bronze_metadata_columns(ingested):
    _, store, paths, _, _ = ingested
    row = store.read(BRONZE).where("o_orderkey = 9").first()
    assert row._source_file == uri(paths["with space.jsonl"]) and "%20" in row._source_file
    assert row._landing_date == dt.date(1992, 1, 2)
    assert row._source_system == "tpch" and row._batch_id.startswith("orders-")
    assert row._ingestion_date == row._ingestion_timestamp.date()
    assert row._dead_letter_id is None


def test_file_ledger_accounts_for_every_file_including_empty_ones(ingested):
    _, store, paths, expected_dead, _ = ingested
    ledger = {r.file_path: r for r in store.read(INGESTED_FILES).collect()}
    assert set(ledger) == {uri(p) for p in paths.values()}
    for name, path in paths.items():
        entry = ledger[uri(path)]
        assert entry.records == _records_in(path)
        assert entry.dead_lettered == len(expected_dead.get(name, []))
        assert entry.records == entry.bronze_rows + entry.dead_lettered
    assert ledger[uri(paths["empty.jsonl"])].records == 0
    assert ledger[uri(paths["with space.jsonl"])].blank_lines == 2


def test_checks_and_run_record(ingested):
    _, store, _, _, result = ingested
    checks = checks_by_name(result)
    assert checks["ingestion_accounting"].passed
    assert checks["landed_files_ingested"].passed
    warning = checks["no_new_dead_letters"]
    assert not warning.passed and warning.severity.value == "WARN"
    assert {f["file"].rsplit("/", 1)[-1] for f in warning.metadata["files"].value} == {
        "corrupt.jsonl",
        "truncated.jsonl",
        "missing.jsonl",
        "encoding.jsonl",
    }
    assert result.success  # dead letters warn; they never fail the run
    event = store.read(INGESTION_EVENTS).first()
    assert (event.source, event.status, event.files_processed) == ("orders", "succeeded", 8)
    assert (event.input_records, event.dead_lettered, event.backlog_files) == (13, 4, 0)
    meta = own_materialization(result, "bronze_orders").metadata
    assert meta["dead_lettered"].value == 4 and meta["records_per_second"].value > 0


def test_records_dated_outside_their_folder_are_named_and_their_date_reported(ingested):
    """Order 9 carries 1992-01-01 in the 1992-01-02 folder: kept in bronze under its folder,
    the WARN check names its date and count, and bronze reports 1992-01-01 as changed so
    silver and gold of that date can follow."""
    _, store, _, _, result = ingested
    check = checks_by_name(result)["records_in_folder_date"]
    assert not check.passed and check.severity.value == "WARN"
    assert "1 records dated outside their landing folder (o_orderdate 1992-01-01)" in (
        check.description
    )
    assert check.metadata["off_folder_dates"].value == [
        {"business_date": "1992-01-01", "folder_date": "1992-01-02", "records": 1}
    ]
    late = store.read(BRONZE).where("o_orderkey = 9").first()
    assert (str(late.o_orderdate), str(late._landing_date)) == ("1992-01-01", "1992-01-02")
    reported = [
        e.asset_observation_data.asset_observation
        for e in result.get_asset_observation_events()
        if e.asset_key.to_user_string() == "bronze_orders" and e.partition == "1992-01-01"
    ]
    # An observation, not a materialization: the 1992-01-01 partition was not written.
    assert not [e for e in result.get_asset_materialization_events() if e.partition == "1992-01-01"]
    assert len(reported) == 1 and reported[0].metadata["records"].value == 1
    assert "late records" in reported[0].description
    assert reported[0].tags["lakehouse/late_records"] == "true"  # what the sensor reads


def test_a_file_landed_again_under_its_name_is_ingested_once(ingested):
    settings, store, paths, _, _ = ingested
    before = (store.read(BRONZE).count(), store.read(INGESTED_FILES).count())
    paths["good.jsonl"].write_text(jsonl(order(1), order(2)))  # re-delivered, same name
    again = materialize_day(settings, dt.date(1992, 1, 2), selection="bronze_orders")
    meta = own_materialization(again, "bronze_orders").metadata
    assert meta["files_processed"].value == 0
    # Every landed path is in the ledger: no stream was started for nothing.
    assert meta["stream_query_id"].value == ""
    assert checks_by_name(again)["landed_files_ingested"].passed
    assert (store.read(BRONZE).count(), store.read(INGESTED_FILES).count()) == before
    late = land(settings_path(settings), "orders", DAY, "late.jsonl", jsonl(order(12)))
    third = materialize_day(settings, dt.date(1992, 1, 2), selection="bronze_orders")
    third_meta = own_materialization(third, "bronze_orders").metadata
    assert third_meta["files_processed"].value == 1 and third_meta["stream_query_id"].value
    assert store.read(BRONZE).where("o_orderkey = 12").first()._source_file == uri(late)


def settings_path(settings):
    from pathlib import Path

    return Path(settings.landing_root)


def test_schema_evolution_fail_then_add_new_columns(spark, tmp_path):
    landing = tmp_path / "landing"
    land(landing, "orders", DAY, "a.jsonl", jsonl(order(1)))
    new = land(landing, "orders", DAY, "b.jsonl", jsonl(order(2, loyalty_tier="gold")))
    settings = settings_for(tmp_path / "lh", landing)
    config = {"ops": {"bronze_orders": {"config": {"schema_evolution_mode": "failOnNewColumns"}}}}
    failed = materialize_day(
        settings,
        dt.date(1992, 1, 2),
        selection="bronze_orders",
        raise_on_error=False,
        run_config=config,
    )
    error = step_error(failed)
    assert error.cls_name == SchemaEvolutionError.__name__
    assert "'loyalty_tier'" in error.message and uri(new) in error.message
    store = DeltaTableStore(spark, PathLocator(settings.root))
    assert not store.exists(BRONZE)  # the failed batch wrote nothing

    config["ops"]["bronze_orders"]["config"]["schema_evolution_mode"] = "addNewColumns"
    materialize_day(settings, dt.date(1992, 1, 2), selection="bronze_orders", run_config=config)
    rows = {r.o_orderkey: r for r in store.read(BRONZE).collect()}
    assert rows[2].loyalty_tier == "gold" and rows[2]._rescued_data is None
    assert rows[1].loyalty_tier is None
    [change] = store.read(SCHEMA_CHANGES).collect()
    assert (change.source, change.column_name, change.first_seen_file) == (
        "orders",
        "loyalty_tier",
        uri(new),
    )
    assert (change.change_kind, change.record_count, change.is_new) == ("column_added", 1, True)

    # A deploy declares a field the existing table lacks: the next batch adds its column
    # (what runbooks/schema_drift.md's "add the column" relies on).
    declared = replace(
        ORDERS, schema=StructType([*ORDERS.schema.fields, StructField("o_channel", StringType())])
    )
    land(landing, "orders", DAY, "c.jsonl", jsonl(order(3, o_channel="web")))
    materialize(
        [bronze_source_asset(declared)],
        resources=local_resources(settings),
        partition_key=DAY,
    )
    rows = {r.o_orderkey: r for r in store.read(BRONZE).collect()}
    assert rows[3].o_channel == "web" and rows[3]._rescued_data is None
    assert rows[1].o_channel is None and len(rows) == 3


def test_the_landing_zone_lists_every_file_including_empty_ones(ingested, spark):
    """The listing behind the landed-files check names the empty file too (a Spark scan skips
    empty files; the file index does not), each under the URI the ledger records."""
    settings, _, paths, _, _ = ingested
    zone = LandingZone(spark, f"{settings.landing_root}/{ORDERS.name}", ORDERS.file_format)
    listed = {f.path for f in zone.every_file()}
    # (Later tests of this module land more files; these eight are the fixture's.)
    assert {uri(p) for p in paths.values()} <= listed
    assert uri(paths["empty.jsonl"]) in {f.path for f in zone.files_for([dt.date(1992, 1, 2)])}
    assert zone.days_without_files([dt.date(1992, 1, 2), dt.date(1992, 1, 3)]) == [
        dt.date(1992, 1, 3)
    ]
