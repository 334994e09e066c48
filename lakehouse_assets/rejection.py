"""A rejected candidate is not a materialization: the step reports its checks and fails.

Audit before publish (``windowed.py``) leaves the table at its previous version when a blocking
check rejects the candidate. Reporting that as a materialization would tell Dagster the table
was refreshed: its freshness policy would count it, and automation would carry the "update"
downstream. So the asset body's result is turned into what really happened: each check result
is recorded (the failing ones name where the rejected rows are), an observation of the asset
keeps the run's metadata (``published: false``, ``rejected_rows``, counts), and the step fails
without retries (the same candidate would be rejected again). The alert router leaves that
failure to the failing check's own alert.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dagster import (
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetObservation,
    Failure,
    MaterializeResult,
)

# Metadata of a failing blocking check (and of the rejected candidate's observation): where
# the rejected rows are.
REJECTED_ROWS_KEY = "rejected_rows"
PUBLISHED_KEY = "published"


def is_rejected(result: object) -> bool:
    """True for an asset result whose candidate a blocking check rejected."""
    if not isinstance(result, MaterializeResult):
        return False
    metadata = result.metadata or {}
    published = metadata.get(PUBLISHED_KEY)
    return getattr(published, "value", published) is False and REJECTED_ROWS_KEY in metadata


def failing_on_rejection(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset body so a rejected candidate fails the step instead of materializing."""

    @functools.wraps(fn)
    def body(context: AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        result = fn(context, *args, **kwargs)
        if not is_rejected(result):
            return result
        report_rejection(context, result)
        raise rejection_failure(result)

    return body


def report_rejection(context: AssetExecutionContext, result: MaterializeResult) -> None:
    """Record the rejected candidate's check results and metadata (no materialization)."""
    step = context.get_step_execution_context()
    for check in result.check_results or []:
        context.log_event(check.to_asset_check_evaluation(step))
    context.log_event(
        AssetObservation(
            asset_key=context.asset_key,
            partition=context.partition_key if context.has_partition_key else None,
            description="candidate rejected by a blocking check: not published",
            metadata=dict(result.metadata or {}),
        )
    )


def rejection_failure(result: MaterializeResult) -> Failure:
    """The step's failure: which blocking checks failed and where the rejected rows are."""
    failed = [
        c.check_name or "?"
        for c in result.check_results or []
        if not c.passed and c.severity == AssetCheckSeverity.ERROR
    ]
    location = (result.metadata or {}).get(REJECTED_ROWS_KEY)
    location = str(getattr(location, "value", location))
    return Failure(
        description=(
            f"not published (the table is unchanged): blocking checks failed: "
            f"{', '.join(failed)}; rejected rows in {location}"
        ),
        metadata={REJECTED_ROWS_KEY: location, "failed_checks": failed, PUBLISHED_KEY: False},
        allow_retries=False,
    )
