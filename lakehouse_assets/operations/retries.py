"""Retries: transient failures retry with exponential backoff and jitter; nothing else does.

A step is retried at most ``MAX_RETRIES`` times, so a broken job cannot loop (and spend cluster
time) forever. Errors that another attempt cannot fix - a missing landing folder, a schema
change, a contract violation, a bug - fail the step at once: ``fail_fast_unless_transient``
turns them into ``Failure(allow_retries=False)``, which Dagster never retries. Blocking check
failures are framework errors (``DagsterAssetCheckFailedError``) and are never retried either.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from dagster import Backoff, DagsterError, Failure, Jitter, RetryPolicy, RetryRequested

MAX_RETRIES = 3
BASE_DELAY_SECONDS = 10

# Waits ~10 s, ~20 s, ~40 s (each +/- jitter, so parallel steps do not retry in lock-step).
TRANSIENT_RETRY_POLICY = RetryPolicy(
    max_retries=MAX_RETRIES,
    delay=BASE_DELAY_SECONDS,
    backoff=Backoff.EXPONENTIAL,
    jitter=Jitter.PLUS_MINUS,
)

# Exception classes (matched by name anywhere in the class hierarchy, so optional libraries need
# not be importable) that describe a condition which may clear on its own.
TRANSIENT_ERROR_CLASSES = frozenset(
    {
        "ConnectionError",  # builtin and requests'
        "TimeoutError",
        "Timeout",  # requests
        "Py4JNetworkError",  # the Spark JVM gateway dropped
        # Delta optimistic concurrency: another writer committed first; a retry re-reads.
        "ConcurrentAppendException",
        "ConcurrentDeleteReadException",
        "ConcurrentDeleteDeleteException",
        "ConcurrentTransactionException",
        "MetadataChangedException",
    }
)

# Messages of errors whose class is generic (Spark/Databricks wrap many things) but whose cause
# is a throttled or briefly unavailable service.
TRANSIENT_MESSAGE_MARKERS = (
    "Connection reset",
    "Connection refused",
    "TEMPORARILY_UNAVAILABLE",
    "Too Many Requests",
    "Service Unavailable",
    "REQUEST_LIMIT_EXCEEDED",
)


def is_transient(error: BaseException) -> bool:
    """Whether another attempt of the same step could succeed."""
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & TRANSIENT_ERROR_CLASSES:
        return True
    message = str(error)
    return any(marker in message for marker in TRANSIENT_MESSAGE_MARKERS)


def fail_fast_unless_transient(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an asset body so only transient errors reach the retry policy."""

    @functools.wraps(fn)
    def body(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (DagsterError, Failure, RetryRequested):
            raise  # Dagster's own control flow, and explicit retry requests
        except Exception as error:
            if is_transient(error):
                raise
            raise Failure(
                description=f"{type(error).__name__}: {error}",
                metadata={"error_class": type(error).__name__, "retryable": False},
                allow_retries=False,
            ) from error

    return body
