"""Publish a window of a silver table: quality rules, quarantine, write, then verify."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import AssetCheckSpec, MaterializeResult
from pyspark.sql import Observation
from pyspark.sql import functions as F

from lakehouse_assets.quality.checks import (
    accounting_check_result,
    record_dq_metrics,
    rule_check_result,
    rule_check_specs,
)
from lakehouse_assets.quality.contracts import (
    contract_check_result,
    contract_check_spec,
    key_check_result,
    validate_contract,
)
from lakehouse_assets.quality.engine import ObservedRules, QualityCounts, observe_rules
from lakehouse_assets.storage.metadata import materialization_metadata

if TYPE_CHECKING:
    from pandera.pyspark import DataFrameModel
    from pyspark.sql import DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.quality.rules import Rule
    from lakehouse_assets.storage import DeltaTableStore, TableSpec

RUN_ID = "_run_id"


@dataclass(frozen=True)
class SilverTarget:
    """A silver table, its quarantine table, rules, business key, contract and date column."""

    table: TableSpec
    quarantine: TableSpec
    rules: Sequence[Rule]
    key_columns: Sequence[str]
    key_check: str
    contract: type[DataFrameModel]
    contract_check: str
    date_column: str = "order_date"

    def check_specs(self, asset_name: str) -> list[AssetCheckSpec]:
        """Key uniqueness, one check per rule, accounting and the contract."""
        keys = ", ".join(self.key_columns)
        return [
            AssetCheckSpec(
                self.key_check,
                asset=asset_name,
                blocking=True,
                description=f"({keys}) is unique and not null within the partition.",
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
    cleanse: Callable[[DataFrame], DataFrame],
) -> MaterializeResult:
    """Cleanse ``bronze``, write the kept rows over the window of the table while the rules
    are counted (observed metrics: no extra pass), quarantine, then verify in one read-back.

    Accounting: bronze rows = written + quarantined + dropped + duplicates removed.
    """
    store, window, date_column = step.store, step.window, target.date_column
    input_observation = Observation(f"input_{uuid.uuid4().hex}")
    observed_bronze = bronze.observe(input_observation, F.count(F.lit(1)).alias("rows"))
    quality = observe_rules(cleanse(observed_bronze), target.rules, target.key_columns)
    write = store.overwrite_window(target.table, quality.kept(), window, date_column)
    counts = quality.counts()
    input_count = int(input_observation.get["rows"])
    quarantined_count = _replace_quarantine_window(store, target, quality, counts, window, run_id)
    record_dq_metrics(
        store, run_id=run_id, table=target.table, window=window, outcomes=counts.outcomes
    )
    # One pass over what was committed: row count, key uniqueness and the contract.
    written = store.read_window(target.table, window, date_column)
    verified = validate_contract(target.contract, written, target.key_columns)
    duplicates = input_count - counts.evaluated_rows
    results = [rule_check_result(o) for o in counts.outcomes]
    results += [
        accounting_check_result(
            input_rows=input_count,
            written=verified.rows,
            quarantined=quarantined_count,
            dropped=counts.dropped_rows,
            duplicates=duplicates,
        ),
        key_check_result(target.key_check, verified),
        contract_check_result(target.contract_check, verified),
    ]
    metadata = materialization_metadata(
        store,
        target.table,
        write=write,
        window=window,
        date_column=date_column,
        partition_row_count=verified.rows,
        extra={
            "input_rows": input_count,
            "duplicates_removed": duplicates,
            "quarantined_rows": quarantined_count,
            "dropped_rows": counts.dropped_rows,
            "quarantine_table": store.identifier(target.quarantine),
        },
    )
    return MaterializeResult(metadata=metadata, check_results=results)


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
