"""The rule engine on Spark: counts come from the write itself (observed metrics)."""

from __future__ import annotations

import pytest

from lakehouse_assets.quality.engine import count_rules, observe_rules
from lakehouse_assets.quality.rules import Rule, RuleAction

pytestmark = pytest.mark.spark

RULES = (
    Rule("positive", "x > 0", RuleAction.QUARANTINE),
    Rule("small", "x < 100", RuleAction.DROP),
    Rule("named", "name IS NOT NULL", RuleAction.WARN),
)


def jobs_of(spark, group, action):
    spark.sparkContext.setJobGroup(group, group)
    try:
        return action(), len(spark.sparkContext.statusTracker().getJobIdsForGroup(group))
    finally:
        spark.sparkContext.setJobGroup("after", "after")


def test_rules_are_counted_by_the_pass_that_consumes_the_rows(spark):
    rows = [(1, 5, "a"), (2, -1, "b"), (3, 500, None), (4, None, "d"), (5, 7, None)]
    df = spark.createDataFrame(rows, "id long, x long, name string")

    observed = observe_rules(df, RULES, ["id"])
    kept, with_rules = jobs_of(spark, "observed", lambda: observed.kept().collect())
    _, without_rules = jobs_of(spark, "plain", lambda: df.collect())
    assert with_rules == without_rules  # counting every rule added no Spark job

    counts = observed.counts()
    assert sorted(r["id"] for r in kept) == [1, 5]
    assert (counts.evaluated_rows, counts.quarantined_rows, counts.dropped_rows) == (5, 2, 1)
    by_rule = {o.rule.name: o for o in counts.outcomes}
    assert by_rule["positive"].failed_rows == 2  # -1, and NULL (NULL fails a rule)
    assert by_rule["positive"].sample_failing_keys == ('{"id":2}', '{"id":4}')
    assert by_rule["small"].failed_rows == 2  # 500, and NULL
    assert by_rule["named"].failed_rows == 2
    assert sorted(r["id"] for r in observed.quarantined().collect()) == [2, 4]

    # The reporting path (one aggregation) agrees.
    assert count_rules(df, RULES, ["id"]) == counts
