"""Pandera contracts compiled into one pass: the compiler without Spark, the verdicts with it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandera.pyspark as pa
import pyspark.sql.types as T
import pytest
from pandera.pyspark import DataFrameModel, Field
from pyspark.sql import functions as F

from lakehouse_assets.gold.contracts import AggDailySales, FactSales
from lakehouse_assets.quality.contracts import (
    ContractError,
    compile_constraints,
    schema_errors,
    sql_literal,
    validate_contract,
)
from lakehouse_assets.silver.contracts import (
    SilverCustomer,
    SilverCustomerHistory,
    SilverLineItem,
    SilverOrder,
)

ALL_CONTRACTS = (
    SilverOrder,
    SilverLineItem,
    SilverCustomer,
    SilverCustomerHistory,
    FactSales,
    AggDailySales,
)


class Order(DataFrameModel):
    order_id: T.LongType() = Field(gt=0)
    total_price: T.DecimalType(18, 2) = Field(nullable=True, ge=0)
    status: T.StringType() = Field(isin=["O", "F"])
    clerk: T.StringType() = Field(nullable=True, str_startswith="Clerk#")
    order_date: T.DateType() = Field(
        in_range={"min_value": dt.date(1992, 1, 1), "max_value": dt.date(1998, 12, 31)}
    )


ORDER_SCHEMA = (
    "order_id long, total_price decimal(18,2), status string, clerk string, order_date date"
)


def test_every_table_contract_compiles_into_the_single_pass():
    for model in ALL_CONTRACTS:
        constraints = compile_constraints(model)
        assert constraints, model.__name__
        assert len({c.name for c in constraints}) == len(constraints)


def test_constraints_are_sql_predicates_that_tolerate_null_like_pandera():
    by_name = {c.name: c.expression for c in compile_constraints(Order)}
    assert by_name == {
        "order_id:not_null": "`order_id` IS NOT NULL",
        "order_id:greater_than(0)": "`order_id` IS NULL OR (`order_id` > 0)",
        "total_price:greater_than_or_equal_to(0)": (
            "`total_price` IS NULL OR (`total_price` >= 0)"
        ),
        "status:not_null": "`status` IS NOT NULL",
        "status:isin(['O', 'F'])": "`status` IS NULL OR (`status` IN ('O', 'F'))",
        "clerk:str_startswith('Clerk#')": "`clerk` IS NULL OR (startswith(`clerk`, 'Clerk#'))",
        "order_date:not_null": "`order_date` IS NOT NULL",
        "order_date:in_range(1992-01-01, 1998-12-31)": (
            "`order_date` IS NULL OR (`order_date` >= DATE'1992-01-01' "
            "AND `order_date` <= DATE'1998-12-31')"
        ),
    }


def test_a_check_that_cannot_be_compiled_is_refused():
    class Custom(DataFrameModel):
        x: T.LongType() = Field()

        @pa.check("x")
        def even(cls, data):  # pandera custom checks run arbitrary code per column
            return data

    with pytest.raises(ContractError, match="cannot be compiled"):
        compile_constraints(Custom)


def test_sql_literals_escape_quotes():
    assert sql_literal("O'Brien") == "'O\\'Brien'"
    assert sql_literal(dt.date(1992, 1, 2)) == "DATE'1992-01-02'"
    with pytest.raises(ContractError):
        sql_literal(object())


@pytest.mark.spark
def test_violations_match_pandera_and_cost_one_spark_job(spark):
    rows = [
        (1, Decimal("10.00"), "O", "Clerk#1", dt.date(1992, 1, 1)),
        (None, Decimal("-1.00"), "X", "clerk#2", dt.date(1991, 12, 31)),
        (3, None, "F", None, dt.date(1998, 12, 31)),
        (-4, Decimal("-2.00"), "F", "Clerk#4", dt.date(1995, 5, 5)),
    ]
    df = spark.createDataFrame(rows, ORDER_SCHEMA)
    tracker = spark.sparkContext.statusTracker()

    def jobs_of(group, action):
        spark.sparkContext.setJobGroup(group, group)
        try:
            return action(), len(tracker.getJobIdsForGroup(group))
        finally:
            spark.sparkContext.setJobGroup("after", "after")

    result, contract_jobs = jobs_of("contract", lambda: validate_contract(Order, df))
    _, one_pass_jobs = jobs_of("one-pass", lambda: df.agg(F.count(F.lit(1))).first())
    # Every constraint is counted in one aggregation: the jobs of a single count, not 1 per check.
    assert contract_jobs == one_pass_jobs

    assert not result.passed
    assert result.rows == 4
    assert result.schema_errors == ()
    failing = {name: n for name, n in result.violations.items() if n}
    assert failing == {
        "order_id:not_null": 1,
        "order_id:greater_than(0)": 1,
        "total_price:greater_than_or_equal_to(0)": 2,
        "status:isin(['O', 'F'])": 1,
        "clerk:str_startswith('Clerk#')": 1,
        "order_date:in_range(1992-01-01, 1998-12-31)": 1,
    }
    # pandera's own (one job per check) validation fails exactly the same checks.
    errors = dict(Order.validate(check_obj=df).pandera.errors)
    pandera_failed = {
        f"{e['column']}:{e['check']}".replace(":not_nullable", ":not_null")
        for kinds in errors.values()
        for entries in kinds.values()
        for e in entries
    }
    assert pandera_failed == set(failing)


@pytest.mark.spark
def test_wrong_types_and_missing_columns_are_schema_errors_without_a_spark_job(spark):
    df = spark.createDataFrame(
        [(1, 2.5, 3)], "order_id int, total_price double, status int"
    )  # clerk and order_date missing; decimal as double
    spark.sparkContext.setJobGroup("schema-under-test", "schema")
    try:
        errors = schema_errors(Order, df)
    finally:
        spark.sparkContext.setJobGroup("after", "after")
    assert spark.sparkContext.statusTracker().getJobIdsForGroup("schema-under-test") == []
    text = "\n".join(errors)
    for column in ("order_id", "total_price", "status", "clerk", "order_date"):
        assert column in text
    result = validate_contract(Order, df)
    assert not result.passed
