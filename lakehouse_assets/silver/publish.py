"""Publish a window of a silver table: quality rules, quarantine, stage, verify, then publish."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSpec, MaterializeResult
from pyspark.sql import Observation
from pyspark.sql import functions as F

from lakehouse_assets.quality.checks import (
    accounting_check_result,
    record_dq_metrics,
    rule_check_result,
    rule_check_specs,
)
from lakehouse_assets.quality.contracts import (
    ContractResult,
    contract_check_result,
    contract_check_spec,
    contract_rules,
    key_check_result,
    validate_contract,
)
from lakehouse_assets.quality.engine import (
    ObservedRules,
    QualityCounts,
    observe_rules,
    observed_or_aggregated,
)
from lakehouse_assets.quality.rules import RuleAction
from lakehouse_assets.retention import ROWS_KEPT_FROM_PROPERTY, require_rows_kept
from lakehouse_assets.silver.versions import KeyVersions, key_versions
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.storage.staging import publish_window, stage_window
from lakehouse_assets.windowed import blocking_checks_passed, rejected

if TYPE_CHECKING:
    from pandera.pyspark import DataFrameModel
    from pyspark.sql import Column, DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.quality.rules import Rule
    from lakehouse_assets.storage import DeltaTableStore, TableSpec

RUN_ID = "_run_id"


def require_bronze_rows(store: DeltaTableStore, bronze: TableSpec, first_date: dt.date) -> None:
    """Refuse to rebuild from ``bronze`` from ``first_date`` on when its rows before that date
    have expired: the rebuild would replace what was built from them with nothing."""
    if bronze.retention is not None and store.exists(bronze):
        kept_from = store.properties(bronze).get(ROWS_KEPT_FROM_PROPERTY)
        require_rows_kept(bronze.qualified_name, first_date, kept_from)


@dataclass(frozen=True)
class SilverTarget:
    """A silver table, its quarantine table, rules, business key, contract and date column.

    ``bronze_key_columns`` are the business key in bronze's names (same order as
    ``key_columns``): versions of a key are compared across all of bronze, not only the window.
    """

    table: TableSpec
    quarantine: TableSpec
    rules: Sequence[Rule]
    key_columns: Sequence[str]
    key_check: str
    contract: type[DataFrameModel]
    contract_check: str
    bronze_key_columns: Sequence[str] = ()
    date_column: str = "order_date"

    @property
    def all_rules(self) -> tuple[Rule, ...]:
        """The table's rules, then its contract's row-level constraints as quarantine rules.

        The contract judges only the rows the table's own rules keep: a row they drop or
        quarantine already has its reason, and keeps exactly that one."""
        handled = [r for r in self.rules if r.action in (RuleAction.DROP, RuleAction.QUARANTINE)]
        kept = " AND ".join(f"coalesce(({r.expression}), FALSE)" for r in handled)
        return (
            *self.rules,
            *(
                replace(rule, expression=f"({rule.expression}) OR NOT ({kept})") if kept else rule
                for rule in contract_rules(self.contract)
            ),
        )

    def check_specs(self, asset_name: str) -> list[AssetCheckSpec]:
        """Key uniqueness, one check per rule, accounting and the contract."""
        keys = ", ".join(self.key_columns)
        return [
            AssetCheckSpec(
                self.key_check,
                asset=asset_name,
                blocking=True,
                description=f"({keys}) is unique and not null across the whole table.",
            ),
            *rule_check_specs(asset_name, self.rules),
            contract_check_spec(asset_name, self.contract_check, self.contract),
        ]


def publish_silver_window(
    step: SparkStep,
    run_id: str,
    target: SilverTarget,
    *,
    bronze: DataFrame,
    in_window: Column,
    cleanse: Callable[[DataFrame], DataFrame],
    report_other_dates: Callable[[Sequence[dt.date]], None] | None = None,
) -> MaterializeResult:
    """Cleanse the window's rows of ``bronze`` (the whole table; ``in_window`` selects the
    window), stage the kept rows while the rules are counted (observed metrics: no extra pass),
    quarantine, verify the staged rows in one read, and publish them over the window only if
    no blocking check failed (audit before publish, ``windowed.py``).

    The newest version of a business key wins across dates (:mod:`silver.versions`): window
    rows whose key has a newer version elsewhere are left out (superseded), and, once the
    window is published, older copies elsewhere of keys the window now holds are deleted from
    the table and its quarantine.

    Dates outside the window that lost rows that way go to ``report_other_dates`` (the asset
    logs them as materializations, so automation re-derives their downstream partitions).

    Accounting: bronze rows of the window = written + quarantined + dropped + duplicates
    removed + superseded.
    """
    store, window, date_column = step.store, step.window, target.date_column
    versions = key_versions(bronze, in_window, target.bronze_key_columns)
    window_rows = bronze.where(in_window)
    if versions.superseded:
        window_rows = window_rows.join(
            versions.superseded_keys(store.spark), list(target.bronze_key_columns), "left_anti"
        )
    input_observation = Observation(f"input_{uuid.uuid4().hex}")
    input_rows = F.count(F.lit(1)).alias("rows")
    observed_bronze = window_rows.observe(input_observation, input_rows)
    quality = observe_rules(cleanse(observed_bronze), target.all_rules, target.key_columns)
    staged = stage_window(store, target.table, quality.kept(), window, date_column)
    counts = quality.counts()
    observed_input = observed_or_aggregated(input_observation, window_rows, [input_rows])
    input_count = int(observed_input["rows"]) + versions.superseded_rows
    quarantined_count = _replace_quarantine_window(store, target, quality, counts, window, run_id)
    record_dq_metrics(
        store, run_id=run_id, table=target.table, window=window, outcomes=counts.outcomes
    )
    # One pass over the staged rows: row count, key uniqueness and the contract.
    verified = validate_contract(target.contract, staged, target.key_columns)
    duplicates = input_count - versions.superseded_rows - counts.evaluated_rows
    own_rules = {r.name for r in target.rules}
    results = [rule_check_result(o) for o in counts.outcomes if o.rule.name in own_rules]
    by_contract = {
        o.rule.description.split(": ", 1)[1]: o.failed_rows
        for o in counts.outcomes
        if o.rule.name not in own_rules and o.failed_rows
    }
    results += [
        accounting_check_result(
            input_rows=input_count,
            written=verified.rows,
            quarantined=quarantined_count,
            dropped=counts.dropped_rows,
            duplicates=duplicates,
            superseded=versions.superseded_rows,
        ),
        whole_table_key_check(store, target, window, staged, verified, versions),
        _with_contract_quarantine(
            contract_check_result(target.contract_check, verified), by_contract
        ),
    ]
    extra = {
        "input_rows": input_count,
        "duplicates_removed": duplicates,
        "superseded_rows": versions.superseded_rows,
        "quarantined_rows": quarantined_count,
        "quarantined_by_contract": by_contract,
        "dropped_rows": counts.dropped_rows,
        "quarantine_table": store.identifier(target.quarantine),
    }
    if not blocking_checks_passed(results):
        return rejected(
            store, target.table, results, window, date_column, staged=staged, extra=extra
        )
    write = publish_window(store, target.table, staged, window, date_column)
    other_dates = _delete_older_versions_elsewhere(store, target, versions, window)
    if other_dates and report_other_dates is not None:
        report_other_dates(other_dates)
    metadata = materialization_metadata(
        store,
        target.table,
        write=write,
        window=window,
        date_column=date_column,
        partition_row_count=verified.rows,
        extra={
            **extra,
            "published": True,
            "keys_moved_from_other_dates": len(versions.moved),
            "other_dates_changed": [d.isoformat() for d in other_dates],
        },
    )
    return MaterializeResult(metadata=metadata, check_results=results)


def _delete_older_versions_elsewhere(
    store: DeltaTableStore, target: SilverTarget, versions: KeyVersions, window: DateWindow
) -> list[dt.date]:
    """Delete, outside the window, the copies of keys whose newest version the window holds;
    return the dates of the table that lost rows."""
    if not versions.moved:
        return []
    keys = versions.moved_keys(store.spark, target.key_columns)
    dates = store.delete_keys_outside_window(target.table, keys, window, target.date_column)
    store.delete_keys_outside_window(target.quarantine, keys, window, target.date_column)
    return dates


def whole_table_key_check(
    store: DeltaTableStore,
    target: SilverTarget,
    window: DateWindow,
    staged: DataFrame,
    verified: ContractResult,
    versions: KeyVersions,
) -> AssetCheckResult:
    """The key is unique and not NULL within the staged window *and* would appear nowhere else
    in the table once published (a key in two dates would be counted twice downstream): the
    older copies elsewhere of keys that moved into the window are deleted on publishing."""
    result = key_check_result(target.key_check, verified)
    outside = (
        store.read(target.table).where(~F.expr(window.sql_predicate(target.date_column)))
        if store.exists(target.table)
        else staged.limit(0)
    )
    if versions.moved:
        moved = versions.moved_keys(store.spark, target.key_columns)
        outside = outside.join(moved, list(target.key_columns), "left_anti")
    elsewhere = (
        staged.select(*target.key_columns)
        .join(outside.select(*target.key_columns), list(target.key_columns), "left_semi")
        .count()
    )
    return AssetCheckResult(
        check_name=result.check_name,
        passed=result.passed and elsewhere == 0,
        severity=result.severity,
        metadata={**result.metadata, "keys_also_in_other_dates": elsewhere},
    )


def _with_contract_quarantine(
    result: AssetCheckResult, by_contract: dict[str, int]
) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=result.check_name,
        passed=result.passed,
        severity=result.severity,
        metadata={**result.metadata, "quarantined_by_contract": by_contract},
    )


def _replace_quarantine_window(
    store: DeltaTableStore,
    target: SilverTarget,
    quality: ObservedRules,
    counts: QualityCounts,
    window: DateWindow,
    run_id: str,
) -> int:
    """Make the quarantine table's window hold exactly this run's quarantined rows (so
    re-runs never accumulate copies); return its row count, read back."""
    rows = quality.quarantined().withColumn(RUN_ID, F.lit(run_id))
    date_column = target.date_column
    if counts.quarantined_rows == 0:
        # The common case costs no second pass over the input: only clear what an earlier run
        # of these dates may have quarantined.
        if not store.exists(target.quarantine):
            store.ensure_table(target.quarantine, rows.schema)
            return 0
        if store.read_window(target.quarantine, window, date_column).isEmpty():
            return 0
        rows = store.spark.createDataFrame([], rows.schema)
    store.overwrite_window(target.quarantine, rows, window, date_column)
    return store.read_window(target.quarantine, window, date_column).count()
