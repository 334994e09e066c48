"""Quality rules and their verdicts: pure logic, no Spark.

A rule is a named SQL boolean expression over a table's rows and an action for the rows that fail:

* ``warn``: keep the row; the rule's check warns when rows fail (or above ``warn_above``).
* ``drop``: remove the row (counted in the accounting, not kept anywhere).
* ``quarantine``: move the row to the table's quarantine table with the names of the rules it
  failed.
* ``fail``: keep the row but fail the rule's *blocking* check, so nothing downstream materializes.

**NULL is a failure**: a row for which the expression evaluates to NULL fails the rule (SQL's
three-valued logic would otherwise let ``amount > 0`` pass rows whose amount is NULL).

Thresholds are failure *rates* (0..1) over the rows evaluated: above ``warn_above`` the check
warns, above ``fail_above`` it fails (and blocks). A ``fail`` rule without ``fail_above`` fails on
the first failing row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

_RULE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class RuleAction(StrEnum):
    WARN = "warn"
    DROP = "drop"
    QUARANTINE = "quarantine"
    FAIL = "fail"


class RuleStatus(StrEnum):
    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"


class Disposition(StrEnum):
    """What happens to a row, from the actions of the rules it failed."""

    KEEP = "keep"
    DROP = "drop"
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Rule:
    """A named row-level rule: ``expression`` must be TRUE for a good row."""

    name: str
    expression: str
    action: RuleAction
    description: str = ""
    warn_above: float | None = None
    fail_above: float | None = None

    def __post_init__(self) -> None:
        if not _RULE_NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be snake_case (it names a check)")
        if not self.expression.strip():
            raise ValueError(f"rule {self.name!r} has an empty expression")
        for label, rate in (("warn_above", self.warn_above), ("fail_above", self.fail_above)):
            if rate is not None and not 0.0 <= rate <= 1.0:
                raise ValueError(f"rule {self.name!r}: {label} is a rate in [0, 1], got {rate}")
        if (
            self.warn_above is not None
            and self.fail_above is not None
            and self.warn_above > self.fail_above
        ):
            raise ValueError(f"rule {self.name!r}: warn_above must not exceed fail_above")

    @property
    def blocking(self) -> bool:
        """Whether the rule's check can stop downstream assets."""
        return self.action is RuleAction.FAIL or self.fail_above is not None


@dataclass(frozen=True)
class RuleOutcome:
    """How many evaluated rows failed a rule, and the verdict."""

    rule: Rule
    evaluated_rows: int
    failed_rows: int
    sample_failing_keys: tuple[str, ...] = ()

    @property
    def passed_rows(self) -> int:
        return self.evaluated_rows - self.failed_rows

    @property
    def failure_rate(self) -> float:
        return self.failed_rows / self.evaluated_rows if self.evaluated_rows else 0.0

    @property
    def status(self) -> RuleStatus:
        return rule_status(self.rule, self.failed_rows, self.evaluated_rows)


def rule_status(rule: Rule, failed_rows: int, evaluated_rows: int) -> RuleStatus:
    """The verdict of ``rule`` when ``failed_rows`` of ``evaluated_rows`` failed it."""
    if failed_rows < 0 or failed_rows > evaluated_rows:
        raise ValueError(f"failed rows {failed_rows} not within 0..{evaluated_rows}")
    if failed_rows == 0:
        return RuleStatus.PASSED
    rate = failed_rows / evaluated_rows
    if rule.fail_above is not None:
        if rate > rule.fail_above:
            return RuleStatus.FAILED
    elif rule.action is RuleAction.FAIL:
        return RuleStatus.FAILED
    if rule.warn_above is not None:
        return RuleStatus.WARNED if rate > rule.warn_above else RuleStatus.PASSED
    # Without a warn threshold, rows failing a warn/fail rule are worth a warning; rows that a
    # drop/quarantine rule handled are accounted for, not a problem of the run.
    if rule.action in (RuleAction.WARN, RuleAction.FAIL):
        return RuleStatus.WARNED
    return RuleStatus.PASSED


def disposition(rules: Sequence[Rule], failed_rule_names: Sequence[str]) -> Disposition:
    """A row's fate: quarantine wins over drop (the evidence is kept), else it is kept."""
    actions = {r.action for r in rules if r.name in set(failed_rule_names)}
    if RuleAction.QUARANTINE in actions:
        return Disposition.QUARANTINE
    if RuleAction.DROP in actions:
        return Disposition.DROP
    return Disposition.KEEP


def validate_rules(rules: Sequence[Rule]) -> None:
    """Rule names are unique within a table (each names an asset check)."""
    seen: set[str] = set()
    for rule in rules:
        if rule.name in seen:
            raise ValueError(f"duplicate rule name {rule.name!r}")
        seen.add(rule.name)
