"""The shape every Spark table asset shares, in one place.

``spark_asset`` sets what is structural (layer group, daily partitions with single-run
backfills unless ``partitioned=False`` for a whole table, the step-launcher resource key,
kinds) and the one operational policy that belongs
to the op itself: retries (transient errors only, capped; see ``operations/retries.py``).
Freshness SLAs, automation conditions and alerting are applied to whole groups when the
Definitions are built (``operations/policies.py``), not here.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckSpec,
    AssetDep,
    AssetExecutionContext,
    AssetMaterialization,
    AssetsDefinition,
    BetaWarning,
    CodeReferencesMetadataValue,
    LocalFileCodeReference,
    asset,
)

from lakehouse_assets.operations.retries import (
    TRANSIENT_RETRY_POLICY,
    fail_fast_unless_transient,
)
from lakehouse_assets.partitions import (
    DateWindow,
    daily_partitions,
    partition_window,
    single_run_backfill,
)
from lakehouse_assets.rejection import failing_on_rejection
from lakehouse_assets.resources.keys import step_launcher_key
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.table_lineage import side_table_key, table_tags, writes_metadata

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lakehouse_assets.resources import LakehouseStorage
    from lakehouse_assets.storage import DeltaTableStore, TableSpec

# The concurrency pool of every step that writes lakehouse tables. Layers share tables (the
# dead-letter queue, the file ledger, dq_metrics, ingestion events), so the shipped instance
# (``operations/instance.py``) gives this pool one slot at run granularity: two runs that
# write tables never run at once, whoever launched them (sensor, automation, UI, CLI).
TABLE_WRITERS_POOL = "lakehouse_tables"

# Resources every Spark asset gets. Its layer's step launcher is among them so that binding a
# real launcher (databricks mode) moves the step to a cluster without touching the asset.
SPARK_ASSET_RESOURCES = frozenset({"spark", "storage"})


def layer_asset(
    *,
    layer: str,
    partitioned: bool = True,
    writes: Sequence[TableSpec] = (),
    **options: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """``@asset`` in ``layer``'s group, daily-partitioned with single-run backfills (or, with
    ``partitioned=False``, a whole table: one state, no dates), retried only on transient
    errors. The shape every table asset shares, Spark or not.

    ``writes``: the tables the step writes, its own first, then those it writes on the side
    (see :mod:`lakehouse_assets.table_lineage`)."""
    options = dict(
        tags={**asset_tags(layer, writes), **options.pop("tags", {})},
        group_name=layer,
        partitions_def=daily_partitions if partitioned else None,
        backfill_policy=single_run_backfill if partitioned else None,
        retry_policy=options.pop("retry_policy", TRANSIENT_RETRY_POLICY),
        pool=options.pop("pool", TABLE_WRITERS_POOL),
        **options,
    )

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        metadata = {
            **writes_metadata(writes),
            **source_code_metadata(fn),
            **options.pop("metadata", {}),
        }
        code_version = options.pop("code_version", None) or package_code_version(fn)
        # backfill_policy is marked beta; single-run backfills are a deliberate dependency.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BetaWarning)
            return asset(**options, metadata=metadata, code_version=code_version)(
                fail_fast_unless_transient(failing_on_rejection(fn))
            )

    return decorate


def asset_tags(layer: str, writes: Sequence[TableSpec]) -> dict[str, str]:
    """The layer, and whether the asset's own table (the first it writes) holds personal
    data (a side table it writes, such as the dead-letter queue, carries its own tag)."""
    return table_tags(layer, writes[0] if writes else None)


def source_code_metadata(fn: Callable[..., Any]) -> dict[str, Any]:
    """A link from the asset in the UI to the function that builds it."""
    path = inspect.getsourcefile(fn)
    if path is None:
        return {}
    _, line = inspect.getsourcelines(fn)
    # Code references are marked beta; a warning per asset at every load says nothing new.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        reference = LocalFileCodeReference(file_path=path, line_number=line)
        value = CodeReferencesMetadataValue(code_references=[reference])
    return {"dagster/code_references": value}


def package_code_version(fn: Callable[..., Any]) -> str:
    """A digest of the source of the package that defines ``fn`` (its layer): an asset's code
    version changes when anything its layer builds it with changes."""
    module = sys.modules[fn.__module__]
    return _package_digest(str(Path(inspect.getfile(module)).parent))


@cache
def _package_digest(folder: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def spark_asset(
    *,
    name: str,
    layer: str,
    description: str,
    deps: Sequence[str | AssetDep] = (),
    check_specs: Sequence[AssetCheckSpec] = (),
    partitioned: bool = True,
    on_cluster: bool = True,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """``@asset`` for a Delta table built with Spark in ``layer``.

    ``on_cluster=False`` keeps the step on the orchestrator (no step launcher): for the few
    assets that read the Dagster instance itself, which a remote step cannot see.
    """
    decorate = layer_asset(
        layer=layer,
        partitioned=partitioned,
        name=name,
        description=description,
        deps=list(deps),
        check_specs=list(check_specs),
        required_resource_keys=set(SPARK_ASSET_RESOURCES)
        | ({step_launcher_key(layer)} if on_cluster else set()),
        kinds={"spark", "delta"},
        **kwargs,
    )
    side_tables = tuple(kwargs.get("writes", ())[1:])
    return lambda fn: decorate(reporting_side_tables(fn, side_tables))


def reporting_side_tables(
    fn: Callable[..., Any], side_tables: Sequence[TableSpec]
) -> Callable[..., Any]:
    """Wrap a Spark asset body so each side table it changed (a new Delta version) is
    reported as materialized by this step: the UI shows when the dead-letter queue, a
    quarantine table or the ledger last received rows, from which run, with its columns."""
    if not side_tables:
        return fn

    @functools.wraps(fn)
    def body(context: AssetExecutionContext, *args: Any, **kwargs: Any) -> Any:
        store = spark_step(context).store
        before = {t.qualified_name: store.version(t) for t in side_tables}
        result = fn(context, *args, **kwargs)
        for table in side_tables:
            if store.version(table) != before[table.qualified_name]:
                context.log_event(side_table_materialization(context, store, table))
        return result

    return body


def side_table_materialization(
    context: AssetExecutionContext, store: DeltaTableStore, table: TableSpec
) -> AssetMaterialization:
    writer = context.asset_key.to_user_string()
    window = (
        partition_window(context)
        if context.has_partition_key_range or context.has_partition_key
        else None
    )
    return AssetMaterialization(
        asset_key=side_table_key(table),
        description=f"written by {writer}",
        metadata=materialization_metadata(
            store,
            table,
            write=None,
            extra={"written_by": writer, **({"partition": window.label()} if window else {})},
        ),
    )


def python_asset(
    *,
    name: str,
    layer: str,
    description: str,
    required_resource_keys: set[str],
    deps: Sequence[str | AssetDep] = (),
    kinds: set[str] | None = None,
    **kwargs: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """``@asset`` for a table built without Spark (pandas / delta-rs) in ``layer``.

    No Spark session and no step launcher: the step runs where Dagster runs.
    """
    return layer_asset(
        layer=layer,
        name=name,
        description=description,
        deps=list(deps),
        required_resource_keys=required_resource_keys,
        kinds=kinds or {"python", "delta"},
        **kwargs,
    )


@dataclass(frozen=True)
class SparkStep:
    """What a Spark asset body works with: the session, the table store and its dates."""

    session: SparkSession
    store: DeltaTableStore
    storage: LakehouseStorage
    window: DateWindow | None


def log_other_partitions_changed(
    context: AssetExecutionContext, dates: Sequence[dt.date], why: str
) -> None:
    """Record that this step also changed partitions outside its own (older versions of keys
    it now holds were deleted there), so the UI shows it and automation re-derives them."""
    for day in dates:
        context.log_event(
            AssetMaterialization(
                asset_key=context.asset_key,
                partition=day.isoformat(),
                description=why,
                metadata={"changed_by_run_of": partition_window(context).label()},
            )
        )


def spark_step(context: AssetExecutionContext) -> SparkStep:
    """Open the run's Spark session (created on first use) and bind the table store to it."""
    session = context.resources.spark.get_session()
    storage = context.resources.storage
    partitioned = context.has_partition_key or context.has_partition_key_range
    window = partition_window(context) if partitioned else None
    return SparkStep(session, storage.store(session), storage, window)
