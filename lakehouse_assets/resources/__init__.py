"""Resources, chosen per environment (``LAKEHOUSE_ENV``) when the Definitions are built.

This is the only place that knows about environments: asset bodies receive ``spark``,
``storage`` and their layer's step launcher and never ask where they run.
"""

from __future__ import annotations

from typing import Any

from dagster import EnvVar, ResourceDefinition

from lakehouse_assets.resources.keys import LAYERS, step_launcher_key
from lakehouse_assets.resources.spark import (
    DatabricksSparkResource,
    LocalSparkResource,
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
]


def build_resources(settings: LakehouseSettings) -> dict[str, Any]:
    """The resource set for ``settings.env`` (alerting is the same in every environment)."""
    if settings.env == "databricks":
        resources = _databricks_resources(settings)
    else:
        resources = _local_resources(settings)
    return resources | alerting_resources(settings.operations) | knowledge_base_resources(settings)


def knowledge_base_resources(settings: LakehouseSettings) -> dict[str, Any]:
    """The knowledge base's tables (delta-rs) and its vector index, per environment."""
    from lakehouse_assets.gold.tables import DIM_PRODUCT
    from lakehouse_assets.resources.knowledge_base import (
        DatabricksVectorSearch,
        KnowledgeBase,
        LocalVectorIndex,
    )
    from lakehouse_assets.vector_index.tables import table_uri

    kb = settings.knowledge_base
    resources: dict[str, Any] = {
        "knowledge_base": KnowledgeBase(
            root=kb.tables_root,
            docs_dir=kb.docs_dir,
            dim_product_uri=kb.dim_product_uri or table_uri(settings.root, DIM_PRODUCT),
        )
    }
    if settings.env == "databricks":
        resources["vector_search"] = DatabricksVectorSearch(
            endpoint_name=kb.vector_search_endpoint, catalog=settings.catalog
        )
    else:
        resources["vector_search"] = LocalVectorIndex(index_root=kb.index_root)
    return resources


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


def _local_resources(settings: LakehouseSettings) -> dict[str, Any]:
    return {
        "spark": LocalSparkResource(
            master=settings.spark_master, warehouse_dir=f"{settings.root}/_spark_warehouse"
        ),
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
        for layer in LAYERS
    }


def _databricks_resources(settings: LakehouseSettings) -> dict[str, Any]:
    # Imported here: dagster-databricks (and the Databricks SDK) only load in databricks mode.
    from lakehouse_assets.resources.databricks import DatabricksSettings, step_launchers

    launchers = step_launchers(
        DatabricksSettings.from_env(settings.environ),
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
        ),
    }
