"""Evaluate a table's rules in a single pass and split its rows by disposition.

Every rule becomes one element of a per-row array of failed rule names; one set of aggregates
over that array counts every rule, the dispositions and a few failing keys per rule. Those
aggregates are **observed** (``DataFrame.observe``) while the kept rows are being written, so
counting the rules costs no Spark job of its own: the write is the pass. Only when rows were
quarantined is the input computed a second time, to write them to the quarantine table.

An engine may run a write as a nested plan whose observed metrics never reach the client
(Spark Connect does for a Delta overwrite with ``replaceWhere``). Then the same aggregates are
computed by a query of their own (:func:`observed_or_aggregated`): one more pass, same counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyspark.sql import Column, Observation
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


@dataclass(frozen=True)
class QualityCounts:
    """Per-rule outcomes and disposition counts of one evaluation."""

    outcomes: list[RuleOutcome]
    evaluated_rows: int
    quarantined_rows: int
    dropped_rows: int

    @property
    def kept_rows(self) -> int:
        return self.evaluated_rows - self.quarantined_rows - self.dropped_rows


@dataclass
class ObservedRules:
    """Rows with their rule columns; the counts are collected while :meth:`kept` is written."""

    evaluated: DataFrame
    observed: DataFrame
    observation: Observation
    rules: Sequence[Rule]
    aggregations: Sequence[Column]

    def kept(self) -> DataFrame:
        """Rows that go on to the table (without the quality columns). Write this first."""
        rows = self.observed.where(F.col(DISPOSITION) == Disposition.KEEP.value)
        return rows.drop(FAILED_RULES, DISPOSITION)

    def counts(self) -> QualityCounts:
        """The counts observed by the write of :meth:`kept` (blocks until it has run)."""
        stats = observed_or_aggregated(self.observation, self.evaluated, self.aggregations)
        return _counts(stats, self.rules)

    def quarantined(self) -> DataFrame:
        """Quarantined rows with ``_failed_rules``. Recomputes the input: only read it when
        :meth:`counts` reports quarantined rows."""
        rows = self.evaluated.where(F.col(DISPOSITION) == Disposition.QUARANTINE.value)
        return rows.drop(DISPOSITION)


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


def with_rule_columns(rows: DataFrame, rules: Sequence[Rule]) -> DataFrame:
    """``rows`` plus ``_failed_rules`` and ``_disposition``."""
    validate_rules(rules)
    return rows.withColumn(FAILED_RULES, failed_rules_column(rules)).withColumn(
        DISPOSITION, disposition_column(rules)
    )


def rule_aggregations(rules: Sequence[Rule], key_columns: Sequence[str]) -> list[Column]:
    """Aggregates over rows with rule columns: rows, dispositions, and per rule the failing
    count and the smallest and largest failing key."""
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
    return aggregations


def _counts(stats: Mapping[str, Any], rules: Sequence[Rule]) -> QualityCounts:
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
    return QualityCounts(
        outcomes=outcomes,
        evaluated_rows=total,
        quarantined_rows=int(stats["quarantined"]),
        dropped_rows=int(stats["dropped"]),
    )


def observe_rules(
    rows: DataFrame, rules: Sequence[Rule], key_columns: Sequence[str]
) -> ObservedRules:
    """Attach ``rules`` to ``rows``; writing :meth:`ObservedRules.kept` counts them."""
    evaluated = with_rule_columns(rows, rules)
    observation = Observation(f"quality_{uuid.uuid4().hex}")
    aggregations = rule_aggregations(rules, key_columns)
    observed = evaluated.observe(observation, *aggregations)
    return ObservedRules(evaluated, observed, observation, rules, aggregations)


def observed_or_aggregated(
    observation: Observation, rows: DataFrame, aggregations: Sequence[Column]
) -> dict[str, Any]:
    """The metrics ``observation`` collected while a query ran over ``rows``; computed by one
    aggregation over ``rows`` when the engine did not deliver them (see the module doc)."""
    stats = dict(observation.get)
    if stats:
        return stats
    return rows.agg(*aggregations).first().asDict()


def count_rules(
    rows: DataFrame, rules: Sequence[Rule], key_columns: Sequence[str]
) -> QualityCounts:
    """Count ``rules`` over ``rows`` in one aggregation (tables whose rules only report)."""
    stats = with_rule_columns(rows, rules).agg(*rule_aggregations(rules, key_columns)).first()
    return _counts(stats.asDict(), rules)
