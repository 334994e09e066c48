"""Publish a window of customer change events: apply CDC, then verify and report."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSpec, MaterializeResult, MetadataValue

from lakehouse_assets.bronze import sources
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.quality.checks import (
    accounting_check_result,
    record_dq_metrics,
    rule_check_result,
    rule_check_specs,
)
from lakehouse_assets.quality.contracts import contract_check, contract_check_spec
from lakehouse_assets.quality.engine import count_rules
from lakehouse_assets.silver import tables
from lakehouse_assets.silver.cdc import KEY
from lakehouse_assets.silver.checks import HISTORY_INTEGRITY_CHECK, history_integrity_check
from lakehouse_assets.silver.contracts import SilverCustomer, SilverCustomerHistory
from lakehouse_assets.silver.customers import (
    CdcOutcome,
    publish_customer_changes,
    stage_customer_changes,
)
from lakehouse_assets.silver.publish import require_bronze_rows
from lakehouse_assets.silver.rules import CUSTOMER_RULES
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.storage.staging import keep_rejected
from lakehouse_assets.table_checks import unique_key_check
from lakehouse_assets.windowed import blocking_checks_passed, rejected

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.storage import DeltaTableStore

CUSTOMER_KEY_CHECK = "customer_id_unique"
CUSTOMERS_CONTRACT = "silver_customers_contract"
HISTORY_CONTRACT = "silver_customer_history_contract"


def customer_check_specs(asset_name: str) -> list[AssetCheckSpec]:
    """Key uniqueness, SCD2 integrity, the rules, accounting and both contracts."""
    return [
        AssetCheckSpec(
            CUSTOMER_KEY_CHECK,
            asset=asset_name,
            blocking=True,
            description="SCD1 holds one row per customer_id.",
        ),
        AssetCheckSpec(
            HISTORY_INTEGRITY_CHECK,
            asset=asset_name,
            blocking=True,
            description=(
                "SCD2: at most one current version per key, no overlapping or negative validity, "
                "current keys equal SCD1 keys (keys touched by the run)."
            ),
        ),
        *rule_check_specs(asset_name, CUSTOMER_RULES),
        contract_check_spec(asset_name, CUSTOMERS_CONTRACT, SilverCustomer),
        contract_check_spec(asset_name, HISTORY_CONTRACT, SilverCustomerHistory),
    ]


def publish_silver_customers(step: SparkStep, run_id: str) -> MaterializeResult:
    """Stage the window's customer changes, check the candidate, and publish it only if no
    blocking check failed (audit before publish, as ``windowed`` does for windows)."""
    store, window = step.store, step.window
    bronze_events = bronze_table(sources.CUSTOMER_EVENTS)
    # The window's events replace the log's; the first run seeds the log from all of bronze,
    # which needs every bronze row.
    seeding = not store.exists(tables.CUSTOMER_EVENTS)
    require_bronze_rows(store, bronze_events, dt.date.min if seeding else window.first)
    outcome = stage_customer_changes(store, store.read(bronze_events), window, run_id)
    try:
        history, current = _candidate(store, outcome)
        # Customer rules only report (see silver.rules): counted, nothing is split off.
        quality = count_rules(current, CUSTOMER_RULES, [KEY])
        record_dq_metrics(
            store, run_id=run_id, table=tables.CUSTOMERS, window=window, outcomes=quality.outcomes
        )
        checks = [
            _unique_after_publish(store, outcome, current),
            history_integrity_check(history, current),
            contract_check(CUSTOMERS_CONTRACT, SilverCustomer, current),
            contract_check(HISTORY_CONTRACT, SilverCustomerHistory, history),
            *(rule_check_result(o) for o in quality.outcomes),
            _accounting(outcome),
        ]
        extra = {
            "partition": window.label(),
            "input_events": outcome.input_events,
            "accepted_events": outcome.accepted,
            "duplicate_events": outcome.duplicates,
            "quarantined_events": outcome.quarantined,
            "quarantine_reasons": MetadataValue.json(dict(outcome.quarantine_reasons)),
            "live_customers_touched": quality.evaluated_rows,
            "quarantine_table": store.identifier(tables.CUSTOMER_EVENTS_QUARANTINE),
        }
        if not blocking_checks_passed(checks):
            # The candidate's SCD2 versions wait beside its SCD1 rows (which the checks name).
            extra["rejected_history_rows"] = keep_rejected(store, tables.CUSTOMER_HISTORY, history)
            return rejected(store, tables.CUSTOMERS, checks, staged=current, extra=extra)
        publish_customer_changes(store, outcome)
        metadata = materialization_metadata(
            store,
            tables.CUSTOMERS,
            write=outcome.writes["customers"],
            extra={
                **extra,
                "published": True,
                "history_table": store.identifier(tables.CUSTOMER_HISTORY),
                "history_delta_version": outcome.writes["history"].version,
                "history_rows": store.row_count(tables.CUSTOMER_HISTORY),
            },
        )
    finally:
        outcome.release()
    return MaterializeResult(metadata=metadata, check_results=checks)


def _candidate(store: DeltaTableStore, outcome: CdcOutcome) -> tuple[DataFrame, DataFrame]:
    """The staged SCD2 versions and SCD1 rows (empty when no key is in scope)."""
    if outcome.staged_history is None or outcome.staged_customers is None:
        return (
            store.read(tables.CUSTOMER_HISTORY).limit(0),
            store.read(tables.CUSTOMERS).limit(0),
        )
    return outcome.staged_history, outcome.staged_customers


def _unique_after_publish(
    store: DeltaTableStore, outcome: CdcOutcome, current: DataFrame
) -> AssetCheckResult:
    """One row per customer_id in SCD1 as it would be published: the candidate replaces every
    row of the keys in scope, and the other rows stay as they are."""
    if not store.exists(tables.CUSTOMERS):  # the first run publishes the candidate alone
        return unique_key_check(CUSTOMER_KEY_CHECK, current, [KEY])
    kept = store.read(tables.CUSTOMERS).join(outcome.affected_keys, KEY, "left_anti")
    return unique_key_check(CUSTOMER_KEY_CHECK, kept.unionByName(current), [KEY])


def _accounting(outcome: CdcOutcome) -> AssetCheckResult:
    """Events in = applied + duplicates + quarantined (and confirmed in the quarantine table)."""
    return accounting_check_result(
        input_rows=outcome.input_events,
        written=outcome.accepted,
        quarantined=outcome.quarantined - outcome.missing_from_quarantine,
        dropped=0,
        duplicates=outcome.duplicates,
    )
