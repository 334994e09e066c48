"""Shared resources, chosen per environment (``LAKEHOUSE_ENV``) when the Definitions are built.

This is the only place that knows about environments: asset bodies receive ``spark``,
``storage`` and their layer's step launcher and never ask where they run. A layer's own
resources (the vector index's knowledge base) are built by that layer's definitions, with the
same settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dagster import EnvVar, ResourceDefinition

from lakehouse_assets.resources.keys import step_launcher_key
from lakehouse_assets.resources.spark import (
    DatabricksSparkResource,
    LocalSparkResource,
    SparkConnectResource,
    SparkResource,
)
from lakehouse_assets.resources.storage import LakehouseStorage
from lakehouse_assets.settings import LakehouseSettings, OperationsSettings

# Every Spark asset requires its layer's launcher key. Locally each is bound to a no-op
# resource; in databricks mode to dagster-databricks' step launcher, which ships the step to a
# job cluster. Assets do not change when the launcher is plugged in.
__all__ = [
    "LakehouseStorage",
    "SparkResource",
    "build_resources",
    "step_launcher_key",
    "step_launcher_layers",
]


def build_resources(
    settings: LakehouseSettings, launcher_layers: Iterable[str] = ()
) -> dict[str, Any]:
    """The shared resource set for ``settings.env``: Spark, table storage, alerting (the same
    in every environment) and the step launcher of each of ``launcher_layers`` (the layers
    whose assets run Spark steps; ``step_launcher_layers`` reads them from the assets)."""
    layers = sorted(set(launcher_layers))
    if settings.env == "databricks":
        resources = _databricks_resources(settings, layers)
    else:
        resources = _local_resources(settings, layers)
    return resources | alerting_resources(settings.operations)


def step_launcher_layers(required_keys: Iterable[str]) -> set[str]:
    """The layers whose step launcher is among ``required_keys`` (the assets' requirements)."""
    suffix = step_launcher_key("")
    return {k.removesuffix(suffix) for k in required_keys if k.endswith(suffix)}


def alerting_resources(settings: OperationsSettings) -> dict[str, Any]:
    """Slack and PagerDuty; each is off (no secret bound) when its variable is unset."""
    # Imported here: the alerting clients are only needed once Definitions are built.
    from lakehouse_assets.operations.notifiers import PagerDutyEvents, SlackAlerts

    return {
        "slack_alerts": SlackAlerts(
            token=EnvVar("SLACK_BOT_TOKEN") if settings.slack_enabled else None,
            channel=settings.slack_channel,
            base_url=settings.slack_base_url,
        ),
        "pagerduty": PagerDutyEvents(
            routing_key=EnvVar("PAGERDUTY_ROUTING_KEY") if settings.pagerduty_enabled else None,
            base_url=settings.pagerduty_base_url,
        ),
    }


def _local_resources(settings: LakehouseSettings, layers: list[str]) -> dict[str, Any]:
    spark: SparkResource = (
        SparkConnectResource(remote=settings.spark_remote)
        if settings.spark_remote
        else LocalSparkResource(
            master=settings.spark_master, warehouse_dir=f"{settings.root}/_spark_warehouse"
        )
    )
    return {
        "spark": spark,
        "storage": LakehouseStorage(
            table_storage="path",
            root=settings.root,
            catalog=settings.catalog,
            landing_root=settings.landing_root,
            checkpoint_root=settings.checkpoint_root,
        ),
    } | {
        step_launcher_key(layer): ResourceDefinition.none_resource(
            description="Local runs execute Spark steps in-process; no launcher."
        )
        for layer in layers
    }


def _databricks_resources(settings: LakehouseSettings, layers: list[str]) -> dict[str, Any]:
    # Imported here: dagster-databricks (and the Databricks SDK) only load in databricks mode.
    from lakehouse_assets.resources.databricks import DatabricksSettings, step_launchers

    launchers = step_launchers(
        DatabricksSettings.from_env(settings.environ),
        layers,
        environment=settings.catalog,
        remote_env=settings.remote_environment(),
    )
    return launchers | {
        "spark": DatabricksSparkResource(),
        "storage": LakehouseStorage(
            table_storage="unity_catalog",
            root=settings.root,
            catalog=settings.catalog,
            landing_root=settings.landing_root,
            checkpoint_root=settings.checkpoint_root,
            pii_readers=settings.pii_readers,
            column_policies=settings.column_policies,
        ),
    }
