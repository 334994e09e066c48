"""Publishing a gold table: stage, check, publish only what passed, record the version's verdict."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from dagster import AssetExecutionContext, MaterializeResult

from lakehouse_assets.asset_factory import log_other_partitions_changed
from lakehouse_assets.gold.versions import (
    blocking_checks_passed,
    last_good_version,
    record_version_verdict,
)
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.windowed import (
    WindowChecks,
    audit_and_publish_table,
    audit_and_publish_window,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from lakehouse_assets.asset_factory import SparkStep
    from lakehouse_assets.storage import DeltaTableStore, TableSpec


def _with_version_verdict(
    context: AssetExecutionContext,
    store: DeltaTableStore,
    target: TableSpec,
    result: MaterializeResult,
) -> MaterializeResult:
    """Record the version's verdict (``monitoring.table_versions``) and add
    ``blocking_checks_passed`` and ``last_good_version`` (what a restore goes back to)."""
    checks = list(result.check_results or [])
    passed = blocking_checks_passed(checks)
    metadata = dict(result.metadata or {})
    published = _plain(metadata.get("published", True)) is not False
    if published:
        # A rejected candidate changed no version: the table's is still its last verdict's.
        version = int(_plain(metadata["delta_version"]))
        record_version_verdict(store, target, version, passed, context.run_id)
    else:
        version = None
    metadata["blocking_checks_passed"] = passed
    good = version if passed and version is not None else last_good_version(store, target)
    if good is not None:
        metadata["last_good_version"] = good
    return MaterializeResult(metadata=metadata, check_results=checks)


def _plain(value: object) -> object:
    """A metadata entry's value, whether given raw or as a Dagster ``MetadataValue``."""
    return getattr(value, "value", value)


def publish_gold_window(
    context: AssetExecutionContext,
    step: SparkStep,
    target: TableSpec,
    rows: DataFrame,
    date_column: str,
    checks: WindowChecks,
    key_columns: Sequence[str] = (),
) -> MaterializeResult:
    """Stage the run's window of ``target``, check it, publish it if it passed, give the verdict.

    With ``key_columns`` (a fact's grain), rows of the same keys in other dates are older
    versions silver has since moved into this window: once the window is published, they are
    deleted, and their dates are logged as changed so their downstream partitions follow.
    """
    assert step.window is not None, "gold facts are daily-partitioned"
    result = audit_and_publish_window(step.store, target, rows, step.window, date_column, checks)
    published = _plain((result.metadata or {}).get("published")) is True
    if key_columns and published:
        written = step.store.read_window(target, step.window, date_column)
        keys = written.select(*key_columns).distinct()
        dates = step.store.delete_keys_outside_window(target, keys, step.window, date_column)
        log_other_partitions_changed(context, dates, "older versions of its keys deleted")
        metadata = {
            **(result.metadata or {}),
            "other_dates_changed": [d.isoformat() for d in dates],
        }
        result = MaterializeResult(metadata=metadata, check_results=result.check_results)
    return _with_version_verdict(context, step.store, target, result)


def code_fingerprint(*modules: ModuleType) -> str:
    """A digest of the source of ``modules``: a whole-table build's code, so that changing how
    a table is built makes its next run rebuild it even when no input changed."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(inspect.getsource(module).encode())
    return digest.hexdigest()[:16]


def build_inputs(
    store: DeltaTableStore,
    tables: Sequence[TableSpec],
    code: str,
    settings: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """What a whole-table build is a function of: its input tables' versions, its code and its
    settings. Recorded with the table's commit (Delta ``userMetadata``)."""
    inputs = {f"input_version:{t.qualified_name}": str(store.version(t)) for t in tables}
    inputs["build_code"] = code
    inputs.update({f"setting:{k}": str(v) for k, v in (settings or {}).items()})
    return inputs


def publish_gold_table(
    context: AssetExecutionContext,
    step: SparkStep,
    target: TableSpec,
    build: Callable[[], DataFrame],
    checks: WindowChecks,
    inputs: Mapping[str, str],
) -> MaterializeResult:
    """Replace the whole (dimension) ``target`` with what ``build`` returns, check it, give the
    verdict.

    When the table's newest write was built from exactly ``inputs`` (see :func:`build_inputs`),
    rebuilding would write the same rows again: the write is skipped and the checks judge the
    table as it stands, as strictly as after a write. A snapshot dimension costs a commit and a
    rebuild only on the days its snapshot (or its code) changes.
    """
    store = step.store
    if store.exists(target) and store.last_commit_metadata(target) == dict(inputs):
        metadata = materialization_metadata(
            store, target, write=None, extra={"rewritten": False, "built_from": dict(inputs)}
        )
        result = MaterializeResult(metadata=metadata, check_results=checks(store.read(target)))
        context.log.info(f"{target.qualified_name}: inputs unchanged since its last write")
        return _with_version_verdict(context, store, target, result)
    with store.commit_metadata(inputs):
        result = audit_and_publish_table(store, target, build(), checks)
    metadata = {**(result.metadata or {}), "rewritten": True, "built_from": dict(inputs)}
    return _with_version_verdict(
        context,
        store,
        target,
        MaterializeResult(metadata=metadata, check_results=result.check_results),
    )
