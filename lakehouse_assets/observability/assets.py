"""Monitoring assets: the data dictionary of every table, and the history of every run.

Both describe the whole lakehouse, so both are built from the asset graph they are given
(:func:`monitoring_assets`), not from a list kept here: a new table or layer shows up in the
dictionary and in ``monitoring.pipeline_runs`` by being in the graph.

Neither draws a lineage edge from the tables it describes. They read the catalog (the
tables' Delta logs) and the run history, not the tables' rows, so an edge from every asset
would say nothing a reader needs and would cross the whole graph (about twenty-five edges
into one node). They stay current by their own automation condition instead
(``operations/policies.py``: daily in gold's refresh window, and when their code changes); the
dictionary's code version covers the table catalog it describes, so a new or changed table in
the code counts as a code change.
"""

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import astuple

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Config,
    MaterializeResult,
)
from pydantic import Field

from lakehouse_assets.asset_factory import package_code_version, spark_asset, spark_step
from lakehouse_assets.monitoring.data_dictionary import (
    DictionaryTable,
    describe_lakehouse,
    describe_table,
    dictionary_dataframe,
)
from lakehouse_assets.monitoring.schemas import PIPELINE_RUNS_SCHEMA
from lakehouse_assets.monitoring.tables import DATA_DICTIONARY, PIPELINE_RUNS
from lakehouse_assets.operations.alert_router import op_asset_names
from lakehouse_assets.operations.run_history import pipeline_run_rows
from lakehouse_assets.storage import TableSpec
from lakehouse_assets.storage.metadata import materialization_metadata
from lakehouse_assets.table_lineage import tables_written


def undocumented_gold_columns(tables: list[DictionaryTable]) -> list[str]:
    """``table`` or ``table.column`` of every gold table / column without a comment."""
    missing = []
    for table in tables:
        if table.layer != "gold":
            continue
        if not table.comment:
            missing.append(table.qualified_name)
        missing += [f"{table.qualified_name}.{c.name}" for c in table.columns if not c.comment]
    return missing


GOLD_DOCUMENTED_CHECK = AssetCheckSpec(
    "gold_tables_documented",
    asset="data_dictionary",
    description="Every gold table and column carries a comment.",
)


def data_dictionary_asset(tables: Sequence[TableSpec]) -> AssetsDefinition:
    """``monitoring.data_dictionary``: every one of ``tables`` that exists, and itself. No
    edge from the assets that build them (see the module docstring)."""
    tables = [t for t in tables if t != DATA_DICTIONARY]

    @spark_asset(
        name="data_dictionary",
        layer="monitoring",
        # One state of the whole lakehouse's schema, not one per date.
        partitioned=False,
        description="monitoring.data_dictionary: every table and column with type and comment.",
        code_version=catalog_code_version(tables),
        check_specs=[GOLD_DOCUMENTED_CHECK],
        writes=(DATA_DICTIONARY,),
    )
    def data_dictionary(context: AssetExecutionContext) -> MaterializeResult:
        return _describe_lakehouse(context, tables)

    return data_dictionary


def catalog_code_version(tables: Sequence[TableSpec]) -> str:
    """The dictionary's code version: its package's source and the catalog it describes (each
    table's name, layout, comment and properties), so adding or changing a table in the code
    triggers a refresh as a code change does."""
    digest = hashlib.sha256(package_code_version(_describe_lakehouse).encode())
    for table in sorted(tables, key=lambda t: t.qualified_name):
        digest.update(repr(table).encode())
    return digest.hexdigest()[:16]


def _describe_lakehouse(context: AssetExecutionContext, specs: list) -> MaterializeResult:  # type: ignore[type-arg]
    store = spark_step(context).store
    tables = describe_lakehouse(store, specs)
    itself = describe_table(DATA_DICTIONARY, dictionary_dataframe(store, []).schema)
    write = store.overwrite(DATA_DICTIONARY, dictionary_dataframe(store, [*tables, itself]))
    missing = undocumented_gold_columns(tables)
    return MaterializeResult(
        metadata=materialization_metadata(
            store, DATA_DICTIONARY, write=write, extra={"tables": len(tables) + 1}
        ),
        check_results=[
            AssetCheckResult(
                check_name=GOLD_DOCUMENTED_CHECK.name,
                passed=not missing,
                metadata={"undocumented": missing[:50], "undocumented_count": len(missing)},
            )
        ],
    )


class PipelineRunsConfig(Config):
    lookback_hours: int = Field(
        default=24 * 7,
        gt=0,
        description="Re-read runs updated within this many hours (rows are MERGEd, so overlap "
        "between refreshes is harmless).",
    )


def pipeline_runs_asset(other_assets: Sequence[AssetsDefinition]) -> AssetsDefinition:
    """``monitoring.pipeline_runs``: one row per run and asset of ``other_assets`` (every step
    of the graph) and of itself."""

    @spark_asset(
        name="pipeline_runs",
        layer="monitoring",
        description=PIPELINE_RUNS.comment,
        partitioned=False,
        on_cluster=False,
        # Writes only monitoring.pipeline_runs, which nothing else writes: its own pool.
        pool="monitoring_pipeline_runs",
        writes=(PIPELINE_RUNS,),
    )
    def pipeline_runs(
        context: AssetExecutionContext, config: PipelineRunsConfig
    ) -> MaterializeResult:
        return _record_runs(context, config, op_assets)

    op_assets = op_asset_names([*other_assets, pipeline_runs])
    return pipeline_runs


def _record_runs(
    context: AssetExecutionContext, config: PipelineRunsConfig, op_assets: dict[str, list[str]]
) -> MaterializeResult:
    step = spark_step(context)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=config.lookback_hours)
    rows = pipeline_run_rows(context.instance, op_assets, updated_after=since)
    frame = step.session.createDataFrame([astuple(row) for row in rows], PIPELINE_RUNS_SCHEMA)
    write = step.store.merge(PIPELINE_RUNS, frame, keys=["run_id", "asset", "partition"])
    return MaterializeResult(
        metadata=materialization_metadata(
            step.store,
            PIPELINE_RUNS,
            write=write,
            extra={"runs_read": len({r.run_id for r in rows}), "rows_merged": len(rows)},
        )
    )


def monitoring_assets(
    table_assets: Sequence[AssetsDefinition], side_tables: Sequence[AssetSpec] = ()
) -> list[AssetsDefinition]:
    """The data dictionary and run history of the lakehouse whose assets are ``table_assets``
    (and whose other written tables are ``side_tables``)."""
    tables = [*tables_written([*table_assets, *side_tables]), PIPELINE_RUNS]
    dictionary = data_dictionary_asset(tables)
    return [dictionary, pipeline_runs_asset([*table_assets, dictionary])]
