"""Evaluate a table's rules in a single pass and split its rows by disposition.

Every rule becomes one element of a per-row array of failed rule names; one aggregation over
that array counts every rule, the dispositions and a few failing keys per rule. So the cost of
quality is one cached projection and one Spark job per table, however many rules it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F

from lakehouse_assets.quality.rules import (
    Disposition,
    Rule,
    RuleAction,
    RuleOutcome,
    validate_rules,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

FAILED_RULES = "_failed_rules"
DISPOSITION = "_disposition"


@dataclass
class QualityResult:
    """Rows split by disposition (lazy, over one cached frame) and the per-rule outcomes."""

    evaluated: DataFrame
    outcomes: list[RuleOutcome]
    evaluated_rows: int
    quarantined_rows: int
    dropped_rows: int

    @property
    def kept_rows(self) -> int:
        return self.evaluated_rows - self.quarantined_rows - self.dropped_rows

    def kept(self) -> DataFrame:
        """Rows that go on to the table (without the quality columns)."""
        rows = self.evaluated.where(F.col(DISPOSITION) == Disposition.KEEP.value)
        return rows.drop(FAILED_RULES, DISPOSITION)

    def quarantined(self) -> DataFrame:
        """Quarantined rows with ``_failed_rules`` (every rule the row failed)."""
        rows = self.evaluated.where(F.col(DISPOSITION) == Disposition.QUARANTINE.value)
        return rows.drop(DISPOSITION)

    def release(self) -> None:
        self.evaluated.unpersist()


def failed_rules_column(rules: Sequence[Rule]) -> Column:
    """Names of the rules a row fails; a rule whose expression is NULL counts as failed."""
    if not rules:
        return F.array().cast("array<string>")
    checks = [F.when(~F.coalesce(F.expr(r.expression), F.lit(False)), F.lit(r.name)) for r in rules]
    return F.array_compact(F.array(*checks))


def disposition_column(rules: Sequence[Rule]) -> Column:
    """The row's disposition from its failed rules (quarantine wins over drop)."""

    def failed_any(action: RuleAction) -> Column:
        names = [r.name for r in rules if r.action is action]
        if not names:
            return F.lit(False)
        return F.arrays_overlap(F.col(FAILED_RULES), F.array(*[F.lit(n) for n in names]))

    return (
        F.when(failed_any(RuleAction.QUARANTINE), F.lit(Disposition.QUARANTINE.value))
        .when(failed_any(RuleAction.DROP), F.lit(Disposition.DROP.value))
        .otherwise(F.lit(Disposition.KEEP.value))
    )


def evaluate_rules(
    rows: DataFrame, rules: Sequence[Rule], key_columns: Sequence[str]
) -> QualityResult:
    """Evaluate ``rules`` over ``rows`` in one aggregation; the result holds a cached frame
    (call :meth:`QualityResult.release` when its rows are written)."""
    validate_rules(rules)
    evaluated = (
        rows.withColumn(FAILED_RULES, failed_rules_column(rules))
        .withColumn(DISPOSITION, disposition_column(rules))
        .persist()
    )
    key = F.to_json(F.struct(*[F.col(k) for k in key_columns]))
    aggregations = [
        F.count(F.lit(1)).alias("rows"),
        F.count(F.when(F.col(DISPOSITION) == Disposition.QUARANTINE.value, 1)).alias("quarantined"),
        F.count(F.when(F.col(DISPOSITION) == Disposition.DROP.value, 1)).alias("dropped"),
    ]
    for i, rule in enumerate(rules):
        failed = F.array_contains(F.col(FAILED_RULES), rule.name)
        aggregations += [
            F.count(F.when(failed, 1)).alias(f"failed_{i}"),
            F.min(F.when(failed, key)).alias(f"first_key_{i}"),
            F.max(F.when(failed, key)).alias(f"last_key_{i}"),
        ]
    stats = evaluated.agg(*aggregations).first()
    total = int(stats["rows"])
    outcomes = [
        RuleOutcome(
            rule=rule,
            evaluated_rows=total,
            failed_rows=int(stats[f"failed_{i}"]),
            sample_failing_keys=tuple(
                dict.fromkeys(k for k in (stats[f"first_key_{i}"], stats[f"last_key_{i}"]) if k)
            ),
        )
        for i, rule in enumerate(rules)
    ]
    return QualityResult(
        evaluated=evaluated,
        outcomes=outcomes,
        evaluated_rows=total,
        quarantined_rows=int(stats["quarantined"]),
        dropped_rows=int(stats["dropped"]),
    )
