"""Pandera ``DataFrameModel`` s as table contracts, checked in one Spark pass.

Pandera's pyspark backend runs one Spark job per column check and per non-nullable column, and
reports pass/fail only. Here a model is split in two:

* the schema level (columns present, Spark types, strictness) is validated by pandera itself
  with ``validation_depth=SCHEMA_ONLY`` and every column made nullable - which reads only the
  DataFrame's schema and runs no Spark job;
* the data level (nullability, ``ge``/``le``/``in_range``/``isin``/``str_*`` checks) is compiled
  into SQL expressions and counted in a single aggregation, giving a violation count per
  constraint instead of a bare pass/fail.

A check that cannot be compiled raises :class:`ContractError` when the contract is built, so
every contract stays one pass. Like pandera, a check ignores NULLs; nullability is its own
constraint.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pandera.pyspark import DataFrameModel
    from pyspark.sql import DataFrame

    from lakehouse_assets.quality.rules import Rule


class ContractError(ValueError):
    """A contract uses a check that cannot be compiled into the single pass."""


@dataclass(frozen=True)
class Constraint:
    """One data-level constraint of a contract: a name and a SQL predicate rows must satisfy."""

    name: str
    expression: str


@dataclass(frozen=True)
class ContractResult:
    """The verdict of a contract on a DataFrame (and, if asked, its key's uniqueness)."""

    contract: str
    rows: int
    schema_errors: tuple[str, ...]
    violations: Mapping[str, int]
    key_columns: tuple[str, ...] = ()
    distinct_keys: int | None = None
    null_keys: int | None = None

    @property
    def passed(self) -> bool:
        return not self.schema_errors and not any(self.violations.values())


def sql_literal(value: Any) -> str:
    """A Spark SQL literal for a check's statistic (numbers, strings, dates, timestamps)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return repr(value) if not isinstance(value, Decimal) else str(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP'{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE'{value.isoformat()}'"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    raise ContractError(f"cannot render {value!r} ({type(value).__name__}) as a SQL literal")


def _check_predicate(column: str, check_name: str, stats: Mapping[str, Any]) -> str:
    c = f"`{column}`"
    lit = sql_literal
    simple = {
        "equal_to": ("=", "value"),
        "not_equal_to": ("<>", "value"),
        "greater_than": (">", "min_value"),
        "greater_than_or_equal_to": (">=", "min_value"),
        "less_than": ("<", "max_value"),
        "less_than_or_equal_to": ("<=", "max_value"),
    }
    if check_name in simple:
        op, stat = simple[check_name]
        return f"{c} {op} {lit(stats[stat])}"
    if check_name == "in_range":
        low = ">=" if stats.get("include_min", True) else ">"
        high = "<=" if stats.get("include_max", True) else "<"
        return f"{c} {low} {lit(stats['min_value'])} AND {c} {high} {lit(stats['max_value'])}"
    if check_name in ("isin", "notin"):
        values = ", ".join(
            lit(v) for v in stats["allowed_values" if check_name == "isin" else "forbidden_values"]
        )
        return f"{c} {'IN' if check_name == 'isin' else 'NOT IN'} ({values})"
    if check_name == "str_matches":
        # pandera matches at the start of the string, like re.match.
        pattern = stats["pattern"]
        return f"{c} RLIKE {lit(pattern if pattern.startswith('^') else '^' + pattern)}"
    if check_name == "str_contains":
        return f"{c} RLIKE {lit(stats['pattern'])}"
    if check_name == "str_startswith":
        return f"startswith({c}, {lit(stats['string'])})"
    if check_name == "str_endswith":
        return f"endswith({c}, {lit(stats['string'])})"
    if check_name == "str_length":
        bounds = []
        if stats.get("min_value") is not None:
            bounds.append(f"char_length({c}) >= {lit(stats['min_value'])}")
        if stats.get("max_value") is not None:
            bounds.append(f"char_length({c}) <= {lit(stats['max_value'])}")
        return " AND ".join(bounds) or "TRUE"
    raise ContractError(
        f"check {check_name!r} on column {column!r} cannot be compiled into the single pass; "
        "use a quality rule (SQL) instead"
    )


def compile_constraints(model: type[DataFrameModel]) -> list[Constraint]:
    """The data-level constraints of ``model`` as SQL predicates (NULL-tolerant checks)."""
    constraints: list[Constraint] = []
    for name, column in model.to_schema().columns.items():
        if not column.nullable:
            constraints.append(Constraint(f"{name}:not_null", f"`{name}` IS NOT NULL"))
        for check in column.checks:
            predicate = _check_predicate(name, check.name, check.statistics or {})
            constraints.append(
                Constraint(
                    f"{name}:{check.error or check.name}", f"`{name}` IS NULL OR ({predicate})"
                )
            )
    return constraints


def contract_rules(model: type[DataFrameModel]) -> tuple[Rule, ...]:
    """The contract's row-level constraints as quarantine rules, evaluated before the write.

    A row that breaks one (a line number out of range) goes to the quarantine table naming the
    constraint, instead of being committed and then blocking its whole date on every re-run;
    a later correction of the row supersedes it. The contract check on what was written still
    blocks, for what only the table as a whole can break (schema, types).
    """
    from lakehouse_assets.quality.rules import Rule, RuleAction

    return tuple(
        Rule(
            contract_rule_name(c.name),
            c.expression,
            RuleAction.QUARANTINE,
            f"contract {model.__name__}: {c.name}",
        )
        for c in compile_constraints(model)
    )


def contract_rule_name(constraint: str) -> str:
    """``line_number:in_range`` -> ``contract_line_number_in_range`` (a valid rule name)."""
    words = re.sub(r"[^a-z0-9]+", "_", constraint.lower()).strip("_")
    return f"contract_{words}"[:63]


def schema_errors(model: type[DataFrameModel], df: DataFrame) -> tuple[str, ...]:
    """Column presence and types, validated by pandera without running a Spark job.

    Missing columns are found here first: pandera's message for them quotes a data row (a
    Spark job, and possibly PII in check metadata).
    """
    from pandera.config import ValidationDepth, config_context

    schema = model.to_schema()
    missing = [name for name in schema.columns if name not in df.columns]
    present = schema.remove_columns(missing)
    relaxed = present.update_columns({name: {"nullable": True} for name in present.columns})
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
            errors = relaxed.validate(check_obj=df).pandera.errors
        found = [
            f"{e.get('column')}: {e.get('error')}"
            for kinds in dict(errors).values()
            for entries in kinds.values()
            for e in entries
        ]
    except AssertionError:
        # pandera 0.35 asserts instead of reporting when a DECIMAL column has another type.
        found = _type_mismatches(present, df)
    return tuple(f"{name}: column missing" for name in missing) + tuple(found)


def _type_mismatches(schema: Any, df: DataFrame) -> list[str]:
    actual = {f.name: f.dataType for f in df.schema.fields}
    return [
        f"{name}: expected type {column.dtype.type}, got {actual[name]}"
        for name, column in schema.columns.items()
        if actual[name] != column.dtype.type
    ]


def validate_contract(
    model: type[DataFrameModel], df: DataFrame, key_columns: Sequence[str] = ()
) -> ContractResult:
    """Schema errors (no Spark job) and per-constraint violation counts in one aggregation,
    which also counts distinct and NULL ``key_columns`` when given (the table's grain), so a
    table's read-back verification is a single pass."""
    errors = schema_errors(model, df)
    constraints = compile_constraints(model)
    # A constraint on a missing or mistyped column is already a schema error (and its SQL may
    # not even run on the wrong type); count the others.
    broken = {error.split(":")[0] for error in errors}
    countable = [c for c in constraints if c.name.split(":")[0] not in broken]
    aggregations = [F.count(F.lit(1)).alias("rows")] + [
        F.count(F.when(~F.coalesce(F.expr(c.expression), F.lit(False)), 1)).alias(f"v{i}")
        for i, c in enumerate(countable)
    ]
    if key_columns:
        null_key = F.lit(False)
        for k in key_columns:
            null_key = null_key | F.col(k).isNull()
        aggregations += [
            F.count_distinct(F.struct(*[F.col(k) for k in key_columns])).alias("distinct_keys"),
            F.count(F.when(null_key, 1)).alias("null_keys"),
        ]
    stats = df.agg(*aggregations).first()
    violations = {c.name: int(stats[f"v{i}"]) for i, c in enumerate(countable)}
    return ContractResult(
        model.__name__,
        int(stats["rows"]),
        errors,
        violations,
        tuple(key_columns),
        int(stats["distinct_keys"]) if key_columns else None,
        int(stats["null_keys"]) if key_columns else None,
    )


def key_check_result(check_name: str, result: ContractResult) -> AssetCheckResult:
    """The grain check from a contract pass: the key is unique and never NULL."""
    if result.distinct_keys is None:
        raise ValueError("the contract was validated without key_columns")
    return AssetCheckResult(
        check_name=check_name,
        passed=result.distinct_keys == result.rows and result.null_keys == 0,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "rows": result.rows,
            "distinct_keys": result.distinct_keys,
            "null_keys": result.null_keys,
            "keys": list(result.key_columns),
        },
    )


def contract_check_spec(
    asset_name: str, check_name: str, model: type[DataFrameModel]
) -> AssetCheckSpec:
    """The blocking asset check that runs ``model`` on what the asset wrote."""
    return AssetCheckSpec(
        check_name,
        asset=asset_name,
        blocking=True,
        description=f"Schema contract {model.__name__} (pandera): types, nulls, ranges, values.",
    )


def contract_check(
    check_name: str, model: type[DataFrameModel], rows: DataFrame
) -> AssetCheckResult:
    """Validate ``rows`` against ``model`` as the asset check ``check_name``."""
    return contract_check_result(check_name, validate_contract(model, rows))


def contract_check_result(check_name: str, result: ContractResult) -> AssetCheckResult:
    failing = {name: n for name, n in result.violations.items() if n}
    return AssetCheckResult(
        check_name=check_name,
        passed=result.passed,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "contract": result.contract,
            "rows_checked": result.rows,
            "constraints_checked": len(result.violations),
            "schema_errors": list(result.schema_errors),
            "violations": failing,
        },
    )
