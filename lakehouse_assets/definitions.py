"""The one Definitions object of the code location: each layer's own definitions, merged.

Every layer package builds and hands up its definitions (``<layer>/definitions.py``: its
assets with their checks, and the jobs and resources it owns). Then what spans the whole graph
is built from the graph it is given, not from a list of what exists: the side tables the
steps write (:mod:`lakehouse_assets.table_lineage`), the data dictionary and run history
(``observability``), the restore job, the landing sensor, the batch jobs, the freshness checks
and sensors (``operations``), and the policies (owners, freshness, automation).

Environment is read here, once: ``LAKEHOUSE_ENV`` selects the resources (and the executor);
assets are identical in every environment. Building the Definitions starts no Spark session and
opens no connection, so ``dg check defs`` stays fast.
"""

from __future__ import annotations

import warnings

from dagster import (
    AssetsDefinition,
    Definitions,
    PreviewWarning,
    colored_console_logger,
    in_process_executor,
    multiprocess_executor,
)

from lakehouse_assets.bronze import definitions as bronze
from lakehouse_assets.features import definitions as features
from lakehouse_assets.gold import definitions as gold
from lakehouse_assets.gold.restore import restore_definitions
from lakehouse_assets.jobs import DAILY_JOB_NAME, jobs_defs
from lakehouse_assets.lifecycle.definitions import lifecycle_definitions, lifecycle_table_specs
from lakehouse_assets.observability.assets import monitoring_assets
from lakehouse_assets.operations import definitions as operations
from lakehouse_assets.operations.freshness_checks import freshness_check_keys
from lakehouse_assets.operations.json_logs import json_logger
from lakehouse_assets.operations.policies import asset_policies
from lakehouse_assets.resources import build_resources, step_launcher_layers
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets.silver import definitions as silver
from lakehouse_assets.table_lineage import side_table_specs, tables_written
from lakehouse_assets.vector_index import definitions as vector_index


def layer_definitions(settings: LakehouseSettings) -> Definitions:
    """Bronze through the vector index, each layer's own definitions merged."""
    return Definitions.merge(
        bronze.build_defs(),
        silver.build_defs(),
        gold.build_defs(),
        features.build_defs(),
        vector_index.build_defs(settings),
    )


def build_definitions(settings: LakehouseSettings | None = None) -> Definitions:
    """Assemble assets, checks, jobs, schedules, sensors and the environment's resources."""
    settings = settings or LakehouseSettings.from_env()
    if settings.env == "local":
        settings.require_usable_locations()
    layers = layer_definitions(settings)
    table_assets = [a for a in layers.assets or [] if isinstance(a, AssetsDefinition)]
    side_tables = [
        *side_table_specs(table_assets),
        operations.sla_metrics_spec(),
        *lifecycle_table_specs(),
    ]
    monitoring = monitoring_assets(table_assets, side_tables)
    graph = [*table_assets, *monitoring]
    tables = tables_written([*graph, *side_tables])
    launcher_layers = step_launcher_layers(k for a in graph for k in a.required_resource_keys)
    lakehouse = Definitions.merge(
        layers,
        Definitions(assets=[*monitoring, *side_tables]),
        restore_definitions(settings.auto_restore, tables),
        lifecycle_definitions(settings.lifecycle, tables, launcher_layers, settings.log_format),
        bronze.landing_defs(settings, table_assets, DAILY_JOB_NAME),
        jobs_defs(
            graph,
            freshness_check_keys(graph),
            settings.log_format,
            settings.operations.daily_schedule_cron,
        ),
        operations.build_defs(
            settings, graph, bronze.landed_since(settings), bronze.snapshot_selection()
        ),
        Definitions(
            resources=build_resources(settings, launcher_layers),
            # Locally every step of a run shares one Spark JVM (in-process); on Databricks each
            # step runs on a cluster through the step launcher, so steps may run in parallel.
            executor=in_process_executor if settings.env == "local" else multiprocess_executor,
            # The jobs' default run config picks one (LAKEHOUSE_LOG_FORMAT): JSON lines.
            loggers={"json": json_logger, "console": colored_console_logger},
        ),
    )
    policies = asset_policies(
        [*graph, *side_tables], settings.operations, bronze.snapshot_selection()
    )
    with warnings.catch_warnings():
        # map_asset_specs is marked preview; applying policies to the merged graph is its use.
        warnings.simplefilter("ignore", PreviewWarning)
        return lakehouse.map_asset_specs(func=policies)


defs = build_definitions()
