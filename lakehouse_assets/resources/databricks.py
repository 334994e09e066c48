"""Databricks execution: one ``databricks_pyspark_step_launcher`` per layer, from the environment.

Every Spark asset of a layer runs as a one-time Databricks job run on a job cluster sized for
that layer (small for bronze, bigger for gold). Everything is configured from environment
variables read when the Definitions are built; credentials are never read here, only which
kind is present, and the launcher receives them as environment references resolved at run time.

Authentication, in order of preference:

* a service principal (OAuth machine-to-machine): ``DATABRICKS_CLIENT_ID`` /
  ``DATABRICKS_CLIENT_SECRET``, the documented default;
* a personal access token: ``DATABRICKS_TOKEN``.

The remote step re-creates the resources, so it needs the same credentials: they come from a
Databricks secret scope (``LAKEHOUSE_DATABRICKS_SECRET_SCOPE``), never from the run config.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse_assets.resources.databricks_runtime import (
    DEFAULT_RUNTIME,
    StepEnvironment,
    cluster_libraries,
    require_matching_runtime,
)
from lakehouse_assets.resources.keys import step_launcher_key
from lakehouse_assets.resources.unity_catalog import STAGING_VOLUME
from lakehouse_assets.settings import SettingsError

CLOUDS = ("aws", "azure", "gcp")
VOLUMES_ROOT = "/Volumes/"

# Job clusters per layer: bronze parses many small files (few cores are enough), gold joins and
# aggregates the fact tables (the most shuffle).
DEFAULT_WORKERS: Mapping[str, tuple[int, int]] = {
    "bronze": (1, 2),
    "silver": (1, 4),
    "gold": (2, 8),
    "features": (1, 4),
    "vector_index": (1, 2),
    "monitoring": (1, 2),
}

# Spot capacity with on-demand fallback, and an on-demand driver so losing spot never kills a run.
_SPOT_WITH_FALLBACK: Mapping[str, tuple[str, dict[str, Any]]] = {
    "aws": ("aws_attributes", {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}),
    "azure": (
        "azure_attributes",
        {
            "availability": "SPOT_WITH_FALLBACK_AZURE",
            "first_on_demand": 1,
            "spot_bid_max_price": -1,
        },
    ),
    "gcp": ("gcp_attributes", {"availability": "PREEMPTIBLE_WITH_FALLBACK_GCP"}),
}

SPARK_CONF: Mapping[str, str] = {
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.adaptive.skewJoin.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    # Streaming state in RocksDB, checkpointed as changelogs: small, fast commits per batch.
    "spark.sql.streaming.stateStore.providerClass": (
        "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
    ),
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
}


@dataclass(frozen=True)
class LayerCluster:
    node_type: str
    min_workers: int
    max_workers: int


@dataclass(frozen=True)
class DatabricksSettings:
    """How Spark steps run on Databricks (all from ``LAKEHOUSE_DATABRICKS_*`` variables).

    Attributes:
        auth: ``oauth`` (service principal) or ``token`` (PAT); which secrets to reference.
        secret_scope: Databricks secret scope holding the credentials for the remote step.
        cloud: ``aws`` / ``azure`` / ``gcp``: decides the spot-with-fallback attributes.
        spark_version: Databricks Runtime of the job clusters (``databricks_runtime.RUNTIMES``).
        layers: Node type and autoscale range per layer.
        owner: ``owner`` cost tag; environment and project tags are derived.
        timeout_seconds: A run taking longer is cancelled (and the step fails).
        poll_seconds: How often the launcher polls the run.
        staging_prefix: Where the step's code and events are staged: a Unity Catalog volume
            folder (``/Volumes/...``, the default) or a DBFS folder (workspaces with DBFS root).
        wheel: Optional project wheel installed on the clusters (a UC volume or DBFS path);
            without it the launcher ships the package's code with each step.
        viewer_group: Optional group granted view access to runs and clusters.
        extra_spark_conf: Spark settings added to (or overriding) every job cluster's.
    """

    auth: str = "oauth"
    secret_scope: str = "lakehouse"
    cloud: str = "aws"
    spark_version: str = DEFAULT_RUNTIME
    layers: Mapping[str, LayerCluster] = field(default_factory=dict)
    owner: str = "data-platform"
    timeout_seconds: int = 7200
    poll_seconds: float = 5.0
    staging_prefix: str = "/Volumes/dev/monitoring/step_staging"
    wheel: str | None = None
    viewer_group: str | None = None
    extra_spark_conf: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DatabricksSettings:
        cloud = (environ.get("LAKEHOUSE_DATABRICKS_CLOUD") or "aws").lower()
        if cloud not in CLOUDS:
            raise SettingsError(f"LAKEHOUSE_DATABRICKS_CLOUD={cloud!r}; use one of {CLOUDS}")
        default_node = environ.get("LAKEHOUSE_DATABRICKS_NODE_TYPE") or _default_node(cloud)
        layers = {layer: _layer_cluster(environ, layer, default_node) for layer in DEFAULT_WORKERS}
        staging = environ.get("LAKEHOUSE_DATABRICKS_STAGING_PREFIX") or default_staging_prefix(
            environ.get("LAKEHOUSE_CATALOG") or "dev"
        )
        if not staging.startswith("/"):
            raise SettingsError(f"LAKEHOUSE_DATABRICKS_STAGING_PREFIX must be absolute: {staging}")
        if staging.startswith("/Volumes/") and not is_volume_path(staging.rstrip("/") + "/"):
            raise SettingsError(
                "LAKEHOUSE_DATABRICKS_STAGING_PREFIX must name a volume: "
                f"/Volumes/<catalog>/<schema>/<volume>/..., got {staging}"
            )
        return cls(
            auth="oauth" if environ.get("DATABRICKS_CLIENT_ID") else "token",
            secret_scope=environ.get("LAKEHOUSE_DATABRICKS_SECRET_SCOPE") or "lakehouse",
            cloud=cloud,
            spark_version=environ.get("LAKEHOUSE_DATABRICKS_SPARK_VERSION") or DEFAULT_RUNTIME,
            layers=layers,
            owner=environ.get("LAKEHOUSE_OWNER") or "data-platform",
            timeout_seconds=_int(environ, "LAKEHOUSE_DATABRICKS_TIMEOUT_SECONDS", 7200),
            poll_seconds=float(environ.get("LAKEHOUSE_DATABRICKS_POLL_SECONDS") or 5),
            staging_prefix=staging,
            wheel=environ.get("LAKEHOUSE_DATABRICKS_WHEEL") or None,
            viewer_group=environ.get("LAKEHOUSE_DATABRICKS_VIEWER_GROUP") or None,
            extra_spark_conf=_spark_conf(environ, "LAKEHOUSE_DATABRICKS_SPARK_CONF"),
        )


def new_cluster_spec(settings: DatabricksSettings, layer: str, environment: str) -> dict[str, Any]:
    """The job cluster of ``layer``, in dagster-databricks' ``run_config.cluster.new`` shape."""
    cluster = settings.layers.get(layer) or LayerCluster(_default_node(settings.cloud), 1, 2)
    attributes_key, attributes = _SPOT_WITH_FALLBACK[settings.cloud]
    return {
        "spark_version": settings.spark_version,
        "nodes": {"node_types": {"node_type_id": cluster.node_type}},
        "size": {
            "autoscale": {"min_workers": cluster.min_workers, "max_workers": cluster.max_workers}
        },
        "spark_conf": {**SPARK_CONF, **settings.extra_spark_conf},
        attributes_key: dict(attributes),
        "custom_tags": [
            {"key": "environment", "value": environment},
            {"key": "project", "value": "lakehouse_assets"},
            {"key": "owner", "value": settings.owner},
            {"key": "layer", "value": layer},
        ],
        # A job cluster terminates when its run ends: that is the auto-termination of job
        # compute. Single-user (dedicated) access mode is what Unity Catalog requires.
        "data_security_mode": "SINGLE_USER",
        "runtime_engine": "STANDARD",
    }


def step_launcher_config(
    settings: DatabricksSettings,
    layer: str,
    *,
    environment: str,
    remote_env: Mapping[str, str],
) -> dict[str, Any]:
    """Config of ``databricks_pyspark_step_launcher`` for ``layer`` (pure; no connection)."""
    import lakehouse_assets

    # The runtime provides pyspark and delta-spark; the other libraries the steps import are
    # cluster libraries at the orchestrator's versions (dagster-databricks adds dagster,
    # dagster-databricks, dagster-pyspark and databricks-sdk).
    libraries = cluster_libraries() + ([{"whl": settings.wheel}] if settings.wheel else [])
    config: dict[str, Any] = {
        "run_config": {
            "run_name": f"lakehouse_assets-{environment}-{layer}",
            "cluster": {"new": new_cluster_spec(settings, layer, environment)},
            "libraries": libraries,
            "timeout_seconds": settings.timeout_seconds,
        },
        "databricks_host": {"env": "DATABRICKS_HOST"},
        "secrets_to_env_variables": _credential_secrets(settings),
        # What the step is built for, checked again on the cluster (require_step_environment).
        "env_variables": {**remote_env, **_step_environment_variables()},
        "local_pipeline_package_path": str(Path(lakehouse_assets.__file__).parent),
        "staging_prefix": settings.staging_prefix,
        "poll_interval_sec": settings.poll_seconds,
        "max_completion_wait_time_seconds": settings.timeout_seconds,
        "verbose_logs": False,
    }
    if settings.auth == "token":
        config["databricks_token"] = {"env": "DATABRICKS_TOKEN"}
    # A service principal needs no launcher config: the Databricks SDK's default credential
    # chain reads DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET from the environment (the
    # launcher's own oauth_credentials field only takes literals, which would put the secret
    # into the run config).
    if settings.viewer_group:
        viewers = [{"group_name": settings.viewer_group}]
        config["permissions"] = {
            "job_permissions": {"CAN_VIEW": viewers},
            "cluster_permissions": {"CAN_ATTACH_TO": viewers},
        }
    return config


def step_launchers(
    settings: DatabricksSettings,
    layers: Iterable[str],
    *,
    environment: str,
    remote_env: Mapping[str, str],
) -> dict[str, Any]:
    """``{launcher resource key: configured step launcher}`` for each of ``layers`` (a layer
    without a sizing of its own in ``DEFAULT_WORKERS`` gets the default cluster).

    Raises ``SettingsError`` when the runtime's Python or Spark is not what this process
    builds the steps for, so a mismatch fails when the Definitions load, before any cluster
    starts."""
    from lakehouse_assets.resources.volume_staging import lakehouse_step_launcher

    require_matching_runtime(settings.spark_version, StepEnvironment.of_this_process())

    return {
        step_launcher_key(layer): lakehouse_step_launcher.configured(
            step_launcher_config(settings, layer, environment=environment, remote_env=remote_env),
        )
        for layer in layers
    }


def is_volume_path(path: str) -> bool:
    """A Unity Catalog volume path: ``/Volumes/<catalog>/<schema>/<volume>/...``."""
    parts = path.split("/")
    return path.startswith(VOLUMES_ROOT) and len(parts) >= 5 and all(parts[2:5])


def default_staging_prefix(catalog: str) -> str:
    """The step staging folder: the catalog's staging volume (created by the grants script)."""
    return "/Volumes/" + f"{catalog}.{STAGING_VOLUME}".replace(".", "/")


def _step_environment_variables() -> dict[str, str]:
    built_for = StepEnvironment.of_this_process()
    return {"LAKEHOUSE_STEP_PYTHON": built_for.python, "LAKEHOUSE_STEP_SPARK": built_for.spark}


def _credential_secrets(settings: DatabricksSettings) -> list[dict[str, str]]:
    names = (
        [
            ("DATABRICKS_CLIENT_ID", "databricks-client-id"),
            ("DATABRICKS_CLIENT_SECRET", "databricks-client-secret"),
        ]
        if settings.auth == "oauth"
        else [("DATABRICKS_TOKEN", "databricks-token")]
    )
    return [{"name": name, "scope": settings.secret_scope, "key": key} for name, key in names]


def _default_node(cloud: str) -> str:
    return {"aws": "i3.xlarge", "azure": "Standard_DS3_v2", "gcp": "n2-highmem-4"}[cloud]


def _layer_cluster(environ: Mapping[str, str], layer: str, default_node: str) -> LayerCluster:
    prefix = f"LAKEHOUSE_DATABRICKS_{layer.upper()}"
    low, high = DEFAULT_WORKERS[layer]
    cluster = LayerCluster(
        node_type=environ.get(f"{prefix}_NODE_TYPE") or default_node,
        min_workers=_int(environ, f"{prefix}_MIN_WORKERS", low, minimum=0),
        max_workers=_int(environ, f"{prefix}_MAX_WORKERS", high),
    )
    if cluster.min_workers > cluster.max_workers:
        raise SettingsError(
            f"{prefix}_MIN_WORKERS={cluster.min_workers} exceeds "
            f"{prefix}_MAX_WORKERS={cluster.max_workers}"
        )
    return cluster


def _spark_conf(environ: Mapping[str, str], name: str) -> dict[str, str]:
    raw = environ.get(name)
    if not raw:
        return {}
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError:
        raise SettingsError(f"{name} is not a JSON object of Spark settings") from None
    if not isinstance(conf, dict):
        raise SettingsError(f"{name} is not a JSON object of Spark settings")
    return {str(k): str(v) for k, v in conf.items()}


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value
