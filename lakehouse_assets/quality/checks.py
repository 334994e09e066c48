"""Quality rules as Dagster asset checks, and their rows in ``monitoring.dq_metrics``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec

from lakehouse_assets.monitoring.tables import DQ_METRICS
from lakehouse_assets.quality.rules import Rule, RuleOutcome, RuleStatus

if TYPE_CHECKING:
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, TableSpec

ACCOUNTING_CHECK = "quality_accounting"


def rule_check_specs(asset_name: str, rules: Sequence[Rule]) -> list[AssetCheckSpec]:
    """One check per rule; blocking when the rule can fail the run."""
    return [
        AssetCheckSpec(
            rule.name,
            asset=asset_name,
            blocking=rule.blocking,
            description=f"[{rule.action.value}] {rule.description or rule.expression}",
        )
        for rule in rules
    ] + [
        AssetCheckSpec(
            ACCOUNTING_CHECK,
            asset=asset_name,
            blocking=True,
            description=(
                "Input rows = rows written + quarantined + dropped + duplicates removed "
                "(read back from the tables)."
            ),
        )
    ]


def rule_check_result(outcome: RuleOutcome) -> AssetCheckResult:
    """The check of one rule, with its counts and a few failing keys."""
    status = outcome.status
    return AssetCheckResult(
        check_name=outcome.rule.name,
        passed=status is RuleStatus.PASSED,
        severity=AssetCheckSeverity.ERROR
        if status is RuleStatus.FAILED
        else AssetCheckSeverity.WARN,
        description=f"{outcome.failed_rows} of {outcome.evaluated_rows} rows fail "
        f"`{outcome.rule.expression}` ({outcome.rule.action.value})",
        metadata={
            "action": outcome.rule.action.value,
            "expression": outcome.rule.expression,
            "passed_rows": outcome.passed_rows,
            "failed_rows": outcome.failed_rows,
            "failure_rate": round(outcome.failure_rate, 6),
            "status": status.value,
            "sample_failing_keys": list(outcome.sample_failing_keys),
        },
    )


def accounting_check_result(
    *,
    input_rows: int,
    written: int,
    quarantined: int,
    dropped: int,
    duplicates: int,
    superseded: int = 0,
) -> AssetCheckResult:
    """Every input row is accounted for (``superseded``: older versions of keys whose newest
    version is in another date)."""
    accounted = written + quarantined + dropped + duplicates + superseded
    return AssetCheckResult(
        check_name=ACCOUNTING_CHECK,
        passed=accounted == input_rows,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "input_rows": input_rows,
            "written_rows": written,
            "quarantined_rows": quarantined,
            "dropped_rows": dropped,
            "duplicates_removed": duplicates,
            "superseded_rows": superseded,
            "unaccounted_rows": input_rows - accounted,
        },
    )


def record_dq_metrics(
    store: DeltaTableStore,
    *,
    run_id: str,
    table: TableSpec,
    window: DateWindow,
    outcomes: Sequence[RuleOutcome],
) -> None:
    """One row per run x table x rule in ``monitoring.dq_metrics``."""
    if not outcomes:
        return
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        (
            run_id,
            table.qualified_name,
            window.label(),
            o.rule.name,
            o.rule.action.value,
            o.rule.expression,
            o.rule.blocking,
            o.evaluated_rows,
            o.failed_rows,
            o.failure_rate,
            o.status.value,
            now,
        )
        for o in outcomes
    ]
    store.append_rows(
        DQ_METRICS,
        rows,
        "run_id string, table_name string, partitions string, rule string, action string, "
        "expression string, blocking boolean, evaluated_rows long, failed_rows long, "
        "failure_rate double, status string, evaluated_at timestamp",
    )
