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
from lakehouse_assets.silver.customers import CdcOutcome, apply_customer_changes
from lakehouse_assets.silver.publish import require_bronze_rows
from lakehouse_assets.silver.rules import CUSTOMER_RULES
from lakehouse_assets.storage.delta_tables import key_in_predicate
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.table_checks import unique_key_check

if TYPE_CHECKING:
    from lakehouse_assets.asset_factory import SparkStep

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
    """Apply the window's customer events, then check the keys they touched (read back)."""
    store, window = step.store, step.window
    bronze_events = bronze_table(sources.CUSTOMER_EVENTS)
    # The window's events replace the log's; the first run seeds the log from all of bronze,
    # which needs every bronze row.
    seeding = not store.exists(tables.CUSTOMER_EVENTS)
    require_bronze_rows(store, bronze_events, dt.date.min if seeding else window.first)
    bronze = store.read(bronze_events)
    outcome = apply_customer_changes(store, bronze, window, run_id)
    try:
        touched = outcome.affected_keys
        named = (
            key_in_predicate(KEY, outcome.scope_values)
            if outcome.scope_values is not None
            else None
        )
        current = store.read(tables.CUSTOMERS, named).join(touched, KEY, "left_semi")
        history = store.read(tables.CUSTOMER_HISTORY, named).join(touched, KEY, "left_semi")
        # Customer rules only report (see silver.rules): counted, nothing is split off.
        quality = count_rules(current, CUSTOMER_RULES, [KEY])
        record_dq_metrics(
            store, run_id=run_id, table=tables.CUSTOMERS, window=window, outcomes=quality.outcomes
        )
        checks = [
            unique_key_check(CUSTOMER_KEY_CHECK, store.read(tables.CUSTOMERS), [KEY]),
            history_integrity_check(history, current),
            contract_check(CUSTOMERS_CONTRACT, SilverCustomer, current),
            contract_check(HISTORY_CONTRACT, SilverCustomerHistory, history),
            *(rule_check_result(o) for o in quality.outcomes),
            _accounting(outcome),
        ]
        metadata = materialization_metadata(
            store,
            tables.CUSTOMERS,
            write=outcome.writes["customers"],
            extra={
                "partition": window.label(),
                "input_events": outcome.input_events,
                "accepted_events": outcome.accepted,
                "duplicate_events": outcome.duplicates,
                "quarantined_events": outcome.quarantined,
                "quarantine_reasons": MetadataValue.json(dict(outcome.quarantine_reasons)),
                "live_customers_touched": quality.evaluated_rows,
                "history_table": store.identifier(tables.CUSTOMER_HISTORY),
                "history_delta_version": outcome.writes["history"].version,
                "history_rows": store.row_count(tables.CUSTOMER_HISTORY),
                "quarantine_table": store.identifier(tables.CUSTOMER_EVENTS_QUARANTINE),
            },
        )
    finally:
        outcome.release()
    return MaterializeResult(metadata=metadata, check_results=checks)


def _accounting(outcome: CdcOutcome) -> AssetCheckResult:
    """Events in = applied + duplicates + quarantined (and confirmed in the quarantine table)."""
    return accounting_check_result(
        input_rows=outcome.input_events,
        written=outcome.accepted,
        quarantined=outcome.quarantined - outcome.missing_from_quarantine,
        dropped=0,
        duplicates=outcome.duplicates,
    )
