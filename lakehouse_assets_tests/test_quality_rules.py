"""The rule verdicts and row dispositions (pure logic, no Spark)."""

from __future__ import annotations

import pytest

from lakehouse_assets.quality.rules import (
    Disposition,
    Rule,
    RuleAction,
    RuleOutcome,
    RuleStatus,
    disposition,
    rule_status,
    validate_rules,
)

WARN = Rule("w", "x > 0", RuleAction.WARN)
DROP = Rule("d", "x > 0", RuleAction.DROP)
QUARANTINE = Rule("q", "x > 0", RuleAction.QUARANTINE)
FAIL = Rule("f", "x > 0", RuleAction.FAIL)
THRESHOLDS = Rule("t", "x > 0", RuleAction.WARN, warn_above=0.01, fail_above=0.05)


@pytest.mark.parametrize(
    ("rule", "failed", "total", "expected"),
    [
        (WARN, 0, 100, RuleStatus.PASSED),
        (WARN, 1, 100, RuleStatus.WARNED),
        (DROP, 30, 100, RuleStatus.PASSED),  # handled rows are accounted, not a problem
        (QUARANTINE, 30, 100, RuleStatus.PASSED),
        (FAIL, 1, 1_000_000, RuleStatus.FAILED),
        (FAIL, 0, 0, RuleStatus.PASSED),
        (THRESHOLDS, 1, 100, RuleStatus.PASSED),  # exactly 1 %: not above
        (THRESHOLDS, 2, 100, RuleStatus.WARNED),
        (THRESHOLDS, 5, 100, RuleStatus.WARNED),
        (THRESHOLDS, 6, 100, RuleStatus.FAILED),
        (Rule("fq", "x", RuleAction.QUARANTINE, fail_above=0.1), 11, 100, RuleStatus.FAILED),
        (Rule("fq", "x", RuleAction.QUARANTINE, fail_above=0.1), 10, 100, RuleStatus.PASSED),
        (Rule("ff", "x", RuleAction.FAIL, fail_above=0.1), 5, 100, RuleStatus.WARNED),
    ],
)
def test_rule_status(rule, failed, total, expected):
    assert rule_status(rule, failed, total) is expected


def test_blocking_rules_are_fail_rules_and_rules_with_a_fail_threshold():
    assert FAIL.blocking and THRESHOLDS.blocking
    assert not WARN.blocking and not DROP.blocking and not QUARANTINE.blocking


def test_quarantine_wins_over_drop_and_warn_keeps_the_row():
    rules = [WARN, DROP, QUARANTINE, FAIL]
    assert disposition(rules, []) is Disposition.KEEP
    assert disposition(rules, ["w", "f"]) is Disposition.KEEP
    assert disposition(rules, ["d", "w"]) is Disposition.DROP
    assert disposition(rules, ["d", "q"]) is Disposition.QUARANTINE


def test_outcome_rates():
    outcome = RuleOutcome(THRESHOLDS, evaluated_rows=200, failed_rows=3)
    assert outcome.passed_rows == 197
    assert outcome.failure_rate == pytest.approx(0.015)
    assert outcome.status is RuleStatus.WARNED
    assert RuleOutcome(WARN, 0, 0).failure_rate == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Bad Name"}, "snake_case"),
        ({"expression": " "}, "empty expression"),
        ({"warn_above": 1.5}, r"rate in \[0, 1\]"),
        ({"warn_above": 0.5, "fail_above": 0.1}, "must not exceed"),
    ],
)
def test_invalid_rules_are_refused(kwargs, message):
    fields = {"name": "ok", "expression": "x > 0", "action": RuleAction.WARN} | kwargs
    with pytest.raises(ValueError, match=message):
        Rule(**fields)


def test_rule_names_are_unique_per_table():
    with pytest.raises(ValueError, match="duplicate rule name 'w'"):
        validate_rules([WARN, Rule("w", "y > 0", RuleAction.DROP)])


def test_counts_outside_the_evaluated_rows_are_a_bug():
    with pytest.raises(ValueError):
        rule_status(WARN, 5, 4)
