"""Erasing a customer: nothing personal left in any Parquet file (any table, any version kept,
the Delta logs included), gold still reconciles and keeps its keys, re-landed files and dead-letter
replays do not bring the person back, and the audit row holds no personal data.

One small lakehouse (TPC-H SF 0.01, two days): customer 7 changes name and phone on day 2, and a
malformed record naming them lands too (a dead letter)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance
from pyspark.sql import functions as F

from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.cli import main as lakehouse_cli
from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.gold import tables as gold
from lakehouse_assets.monitoring.tables import ERASURE_AUDIT, INGESTED_FILES
from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.silver import tables as silver
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import ORDER_FACT_PATH, materialize_day, materialize_range, settings_for
from .landing_files import jsonl, land

pytestmark = pytest.mark.spark

DAY1, DAY2, DAY3 = dt.date(1992, 1, 1), dt.date(1992, 1, 2), dt.date(1992, 1, 3)
ERASED_CUSTOMER = 7
NEW_NAME, NEW_PHONE = "Customer#000000007 Renamed", "25-555-123-4567"


def _change_event() -> dict:
    return {
        "op": "u",
        "sequence_num": 50_000,
        "event_ts": f"{DAY2.isoformat()}T09:00:00",
        "c_custkey": ERASED_CUSTOMER,
        "c_name": NEW_NAME,
        "c_address": "12 New Street",
        "c_nationkey": 5,
        "c_phone": NEW_PHONE,
        "c_acctbal": 10.5,
        "c_mktsegment": "HOUSEHOLD",
        "c_comment": "moved",
    }


def personal_values_in_parquet(root: Path, values: list[str]) -> list[str]:
    """``file: value`` for every value found in any Parquet file under ``root`` (tables, their
    Delta checkpoints) or any Delta log file, read back decoded (not as compressed bytes)."""
    found = []
    for path in sorted(root.rglob("*")):
        if "landing" in path.parts or not path.is_file():
            continue
        if path.suffix == ".parquet":
            text = str(pq.read_table(path).to_pylist())
        elif "_delta_log" in path.parts and path.suffix in (".json", ".crc"):
            text = path.read_text(errors="replace")
        else:
            continue
        found += [f"{path.relative_to(root)}: {v}" for v in values if v in text]
    return found


@pytest.fixture(scope="module")
def lakehouse(spark, tpch_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("erasure")
    landing = root / "landing"
    land_tpch(tpch_dir, landing, DAY1, DAY2)
    change = jsonl(_change_event())
    land(landing, "customer_events", DAY2.isoformat(), "changes.jsonl", change)
    broken = f'{{"op": "u", "c_custkey": {ERASED_CUSTOMER}, "c_name": "{NEW_NAME}", "c_phone'
    land(landing, "customer_events", DAY2.isoformat(), "broken.jsonl", broken + "\n")
    settings = settings_for(root / "lakehouse", landing)
    instance = DagsterInstance.ephemeral()
    materialize_range(settings, DAY1, DAY2, selection=ORDER_FACT_PATH, instance=instance)
    store = DeltaTableStore(spark, PathLocator(settings.root))
    return settings, landing, store, instance


def _values_of_customer(store: DeltaTableStore) -> list[str]:
    events = store.read(bronze_table(sources.CUSTOMER_EVENTS)).where(
        F.col("c_custkey") == ERASED_CUSTOMER
    )
    values = set()
    for row in events.select("c_name", "c_phone").collect():
        values |= {v.strip() for v in row if v}
    return sorted(values)


def test_erasure_removes_the_person_everywhere_and_keeps_facts_and_keys(
    lakehouse, monkeypatch, capsys
):
    settings, landing, store, instance = lakehouse
    values = _values_of_customer(store)
    assert NEW_NAME in values and NEW_PHONE in values and len(values) >= 4
    root = Path(settings.root)
    assert personal_values_in_parquet(root, values), "the scan finds them before erasure"
    letters = store.read(DEAD_LETTER).where(F.col("source") == "customer_events").count()
    assert letters == 1
    keys_before = sorted(
        r[0]
        for r in store.read(gold.DIM_CUSTOMER)
        .where(F.col("customer_id") == ERASED_CUSTOMER)
        .select("customer_key")
        .collect()
    )
    assert len(keys_before) >= 2, "the name change opened a version"
    facts_before = store.read(gold.FACT_ORDERS).count()

    for name, value in {
        "LAKEHOUSE_ROOT": settings.root,
        "LAKEHOUSE_LANDING_ROOT": settings.landing_root,
        "LAKEHOUSE_CHECKPOINT_ROOT": settings.checkpoint_root,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    args = ["erase-customer", "--customer-id", str(ERASED_CUSTOMER), "--reason", "GDPR-1234"]
    assert lakehouse_cli([*args, "--dry-run", "--requested-by", "dpo@example.com"]) == 0
    dry = capsys.readouterr().out
    assert "DRY RUN" in dry and "gold.dim_customer" in dry
    assert personal_values_in_parquet(root, values), "a dry run changes nothing"

    assert lakehouse_cli([*args, "--requested-by", "dpo@example.com"]) == 0
    assert "bronze.dead_letter" in capsys.readouterr().out
    assert personal_values_in_parquet(root, values) == []

    # Keys stay and facts reconcile: rebuild silver and gold for both days from the
    # anonymized bronze; the blocking checks pass and the customer keeps its two keys.
    rebuilt = materialize_range(settings, DAY1, DAY2, selection=ORDER_FACT_PATH, instance=instance)
    assert rebuilt.success
    customer = store.read(gold.DIM_CUSTOMER).where(F.col("customer_id") == ERASED_CUSTOMER)
    assert sorted(r[0] for r in customer.select("customer_key").collect()) == keys_before
    names = {r[0] for r in customer.select("customer_name").collect()}
    assert names and all(name.startswith("erased-name-") for name in names)
    assert store.read(gold.FACT_ORDERS).count() == facts_before
    assert (
        store.read(silver.CUSTOMERS)
        .where(F.col("customer_id") == ERASED_CUSTOMER)
        .first()["phone"]
        .startswith("erased-phone-")
    )

    # The same files landed again (a re-delivery) and a dead-letter replay: nothing comes back.
    again = landing / "customer_events" / DAY3.isoformat()
    again.mkdir()
    for day in (DAY1, DAY2):
        for landed in (landing / "customer_events" / day.isoformat()).iterdir():
            shutil.copy(landed, again / f"{day.isoformat()}-{landed.name}")
    materialize_day(
        settings, DAY3, selection=["bronze_customer_events", "silver_customers"], instance=instance
    )
    ledger = store.read(INGESTED_FILES).where(F.col("landing_date") == F.lit(DAY3))
    assert ledger.agg(F.sum("suppressed")).first()[0] >= 3
    replay = build_definitions(settings).get_job_def("replay_dead_letters_job")
    assert replay.execute_in_process(
        run_config={"ops": {"replay_dead_letters_op": {"config": {"batch_size": 100}}}}
    ).success
    assert personal_values_in_parquet(root, values) == []

    audit = store.read(ERASURE_AUDIT).collect()
    assert sorted((r["customer_id"], r["dry_run"]) for r in audit) == [
        (ERASED_CUSTOMER, False),
        (ERASED_CUSTOMER, True),
    ]
    done = next(r for r in audit if not r["dry_run"])
    assert done["requested_by"] == "dpo@example.com" and done["reason"] == "GDPR-1234"
    assert done["rows_changed"]["gold.dim_customer"] == len(keys_before)
    assert done["rows_changed"]["bronze.dead_letter"] == 1
    assert not [v for v in values if v in str(audit)]
