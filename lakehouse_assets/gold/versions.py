"""Which Delta version of a gold table passed its checks, and restoring to it.

Every gold materialization carries ``delta_version`` and ``blocking_checks_passed`` in its
metadata, so Dagster's event log is the version log: the newest materialization whose blocking
checks passed names the version ``restore_table`` goes back to by default. Keeping it there
costs no extra Delta commit per asset and shows in the UI next to the checks themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from lakehouse_assets.storage import DeltaTableStore, TableSpec

# Materializations looked through for a passing one (a table failing longer than this needs
# an explicit version).
_LOOKBACK = 500


def blocking_checks_passed(results: Sequence[AssetCheckResult]) -> bool:
    """True when no check of ERROR severity (the blocking ones) failed."""
    return all(r.passed for r in results if r.severity == AssetCheckSeverity.ERROR)


def last_good_version(instance: DagsterInstance, asset_name: str) -> int | None:
    """``delta_version`` of the newest materialization of ``asset_name`` whose checks passed."""
    records = instance.fetch_materializations(AssetKey(asset_name), limit=_LOOKBACK).records
    for record in records:
        materialization = record.asset_materialization
        metadata = materialization.metadata if materialization else {}
        passed = metadata.get("blocking_checks_passed")
        version = metadata.get("delta_version")
        if passed is not None and passed.value is True and version is not None:
            return int(version.value)  # type: ignore[arg-type]
    return None


@dataclass(frozen=True)
class RestoreOutcome:
    """What a restore did."""

    table: str
    restored_to: int
    version_before: int
    new_version: int
    metrics: dict[str, int]


class RestoreError(RuntimeError):
    """A restore that cannot be done (no known good version, version out of range)."""


def restore_table_version(store: DeltaTableStore, table: TableSpec, version: int) -> RestoreOutcome:
    """Delta ``RESTORE`` ``table`` to ``version``.

    The restore is itself a new commit, so readers never see a partial state and it can be
    undone by restoring again (the history is kept).
    """
    if not store.exists(table):
        raise RestoreError(f"{table.qualified_name} does not exist")
    before = store.version(table)
    if not 0 <= version <= before:
        raise RestoreError(f"{table.qualified_name} has versions 0..{before}, not {version}")
    metrics_row = store.delta_table(table).restoreToVersion(version).first()
    metrics = {k: int(v) for k, v in metrics_row.asDict().items() if v is not None}
    return RestoreOutcome(table.qualified_name, version, before, store.version(table), metrics)
