"""Request validation with the Databricks REST API's error shapes.

Errors are ``{"error_code": ..., "message": ...}`` with the HTTP status the service uses:
400 ``INVALID_PARAMETER_VALUE`` / ``MALFORMED_REQUEST``, 404 ``RESOURCE_DOES_NOT_EXIST``,
401 / 403 for credentials. The accepted field names come from the request types of the
official Databricks SDK (generated from the API's OpenAPI spec), so an unknown field is
rejected the way a typo would be.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

from databricks.sdk.service import compute, jobs

SPARK_VERSION = re.compile(r"^\d{1,2}\.\d{1,2}\.x(-photon)?(-(cpu|gpu)-ml)?-scala2\.1[23]$")
# A few real node types per cloud; a workspace rejects anything its cloud does not offer.
NODE_TYPES = frozenset(
    {
        "i3.xlarge",
        "i3.2xlarge",
        "m5d.large",
        "m5d.xlarge",
        "r5d.xlarge",
        "r5d.2xlarge",
        "Standard_DS3_v2",
        "Standard_D4ds_v5",
        "Standard_E8ds_v5",
        "n2-highmem-4",
    }
)
LIBRARY_KINDS = frozenset({"jar", "egg", "whl", "pypi", "maven", "cran", "requirements"})
TASK_KINDS = ("spark_python_task", "notebook_task", "spark_jar_task", "spark_submit_task")
JOB_PERMISSIONS = frozenset({"CAN_VIEW", "CAN_MANAGE_RUN", "IS_OWNER", "CAN_MANAGE"})
CLUSTER_PERMISSIONS = frozenset({"CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE"})
PRINCIPAL_KEYS = ("user_name", "group_name", "service_principal_name")

_SUBMIT_FIELDS = frozenset(inspect.signature(jobs.JobsAPI.submit).parameters) - {"self"}
_TASK_FIELDS = frozenset(f.name for f in dataclasses.fields(jobs.SubmitTask))
_CLUSTER_FIELDS = frozenset(f.name for f in dataclasses.fields(compute.ClusterSpec))
_PYTHON_TASK_FIELDS = frozenset(f.name for f in dataclasses.fields(jobs.SparkPythonTask))


class ApiError(Exception):
    """An error answer: HTTP status and the service's JSON body."""

    def __init__(self, status: int, error_code: str | int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error_code": error_code, "message": message}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_REQUEST", f"Could not parse request object: {message}")


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


def reject_unknown_fields(body: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise malformed(f"Unknown field '{unknown[0]}' in {where}")


def expect_type(body: dict[str, Any], name: str, kind: type, type_name: str) -> None:
    if name in body and body[name] is not None and not isinstance(body[name], kind):
        found = type(body[name]).__name__.upper().replace("STR", "STRING")
        raise malformed(f"Expected {type_name} for field {name}, found {found}")


def validate_submit(body: dict[str, Any]) -> None:
    """``POST /jobs/runs/submit``: one-time runs with tasks on a new or existing cluster."""
    reject_unknown_fields(body, _SUBMIT_FIELDS, "SubmitRun")
    expect_type(body, "tasks", list, "array")
    expect_type(body, "timeout_seconds", int, "integer")
    tasks = body.get("tasks") or []
    if not tasks:
        raise invalid("At least one task is required.")
    keys = [task.get("task_key") for task in tasks]
    if len(set(keys)) != len(keys):
        raise invalid("Task keys must be unique.")
    for task in tasks:
        validate_task(task)


def validate_task(task: dict[str, Any]) -> None:
    if not isinstance(task, dict):
        raise malformed(f"Expected object for field tasks, found {type(task).__name__.upper()}")
    reject_unknown_fields(task, _TASK_FIELDS, "SubmitTask")
    if not task.get("task_key"):
        raise invalid("Missing required field: task_key")
    kinds = [kind for kind in TASK_KINDS if task.get(kind) is not None]
    if len(kinds) != 1:
        raise invalid(f"Exactly one task type must be specified for task {task['task_key']}.")
    if kinds[0] != "spark_python_task":
        raise invalid(f"{kinds[0]} is not supported by this workspace.")
    python_task = task["spark_python_task"]
    reject_unknown_fields(python_task, _PYTHON_TASK_FIELDS, "SparkPythonTask")
    if not python_task.get("python_file"):
        raise invalid("Missing required field: python_file")
    expect_type(python_task, "parameters", list, "array")
    has_new, has_existing = task.get("new_cluster") is not None, task.get("existing_cluster_id")
    if has_new == bool(has_existing):
        raise invalid(
            "One of job_cluster_key, new_cluster, or existing_cluster_id must be specified."
        )
    if has_new:
        validate_new_cluster(task["new_cluster"])
    for library in task.get("libraries") or []:
        validate_library(library)


def validate_new_cluster(cluster: dict[str, Any]) -> None:
    """The cluster spec checks a workspace does before it accepts a run."""
    reject_unknown_fields(cluster, _CLUSTER_FIELDS, "NewCluster")
    version = cluster.get("spark_version")
    if not version:
        raise invalid("Missing required field: spark_version")
    if not SPARK_VERSION.match(version):
        raise invalid(f"Invalid spark version {version}.")
    node_type = cluster.get("node_type_id")
    if not node_type and not cluster.get("instance_pool_id"):
        raise invalid("Missing required field: node_type_id")
    if node_type and node_type not in NODE_TYPES:
        raise invalid(f"Node type {node_type} is not supported.")
    if "num_workers" in cluster and "autoscale" in cluster:
        raise invalid("Only one of num_workers or autoscale can be specified.")
    autoscale = cluster.get("autoscale")
    if autoscale is not None:
        low, high = autoscale.get("min_workers"), autoscale.get("max_workers")
        if low is None or high is None or not 0 <= low <= high:
            raise invalid(
                f"Invalid autoscale range: min_workers={low}, max_workers={high}. "
                "min_workers must be >= 0 and <= max_workers."
            )
    expect_type(cluster, "spark_conf", dict, "object")
    for key, value in (cluster.get("spark_conf") or {}).items():
        if not isinstance(value, str):
            raise malformed(f"Expected STRING for field spark_conf.{key}, found {value!r}")
    tags = cluster.get("custom_tags") or {}
    if not isinstance(tags, dict):
        raise malformed("Expected object for field custom_tags")
    reserved = sorted(key for key in tags if key in {"Name", "Vendor", "Creator", "ClusterName"})
    if reserved:
        raise invalid(f"Custom tag key {reserved[0]} is reserved.")


def validate_library(library: dict[str, Any]) -> None:
    kinds = [kind for kind in library if kind in LIBRARY_KINDS]
    if len(kinds) != 1 or len(library) != 1:
        raise invalid(f"Library must specify exactly one of {sorted(LIBRARY_KINDS)}: {library}")
    if kinds[0] == "pypi" and not library["pypi"].get("package"):
        raise invalid("Missing required field: package")


def validate_access_control_list(acl: Any, allowed_levels: frozenset[str]) -> None:
    if not isinstance(acl, list):
        raise malformed("Expected array for field access_control_list")
    for entry in acl:
        principals = [key for key in PRINCIPAL_KEYS if entry.get(key)]
        if len(principals) != 1:
            raise invalid(
                "Each access control entry must name exactly one of "
                "user_name, group_name or service_principal_name."
            )
        level = entry.get("permission_level")
        if level not in allowed_levels:
            raise invalid(f"Permission level {level} is not supported for this object type.")
