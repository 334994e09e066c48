"""Runs one ``spark_python_task`` the way the Databricks runtime does, on an emulated cluster.

Started by the emulator in a fresh process per task run. It attaches to the cluster's Spark
driver through Py4J (``PYSPARK_GATEWAY_PORT`` / ``PYSPARK_GATEWAY_SECRET``), gives the task its
own ``SparkSession`` (a new session on the shared context, like a notebook), defines the
runtime's globals (``spark``, ``sc``, ``dbutils``), maps the ``/dbfs/`` FUSE mount onto the
emulator's DBFS directory (and ``/Volumes/`` onto its volumes) and runs the file as ``__main__``.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from dataclasses import dataclass, field
from typing import Any

DBFS_MOUNT = "/dbfs/"
VOLUMES_MOUNT = "/Volumes/"


def to_local_path(argument: str, dbfs_root: str, volumes_root: str) -> str:
    """``/dbfs/<path>`` and ``/Volumes/<path>`` (the mounts on a Databricks node) -> the
    emulator's DBFS and volumes directories."""
    if argument.startswith(VOLUMES_MOUNT):
        return os.path.join(volumes_root, argument[len(VOLUMES_MOUNT) :])
    if argument.startswith(DBFS_MOUNT):
        return os.path.join(dbfs_root, argument[len(DBFS_MOUNT) :].lstrip("/"))
    if argument.startswith("dbfs:/"):
        return os.path.join(dbfs_root, argument[len("dbfs:") :].lstrip("/"))
    return argument


@dataclass
class _Secrets:
    scopes: dict[str, dict[str, str]]

    def get(self, scope: str, key: str) -> str:
        try:
            return self.scopes[scope][key]
        except KeyError:
            raise ValueError(f"Secret does not exist with scope: {scope} and key: {key}") from None


@dataclass
class DBUtils:
    """The part of ``dbutils`` tasks use here: secrets from the workspace's secret scopes."""

    secrets: _Secrets = field(default_factory=lambda: _Secrets({}))


def attach_to_cluster() -> tuple[Any, Any]:
    """The cluster's SparkContext (shared) and a new SparkSession for this task."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    gateway = launch_gateway()
    jvm = gateway.jvm
    jsc = jvm.org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
        jvm.org.apache.spark.SparkContext.getOrCreate()
    )
    sc = SparkContext(conf=SparkConf(_jconf=jsc.getConf()), gateway=gateway, jsc=jsc)
    shared = jvm.org.apache.spark.sql.SparkSession.getDefaultSession().get()
    return sc, SparkSession(sc, jsparkSession=shared.newSession())


def main() -> None:
    task = json.loads(os.environ.pop("EMULATOR_TASK"))
    roots = task["dbfs_root"], task["volumes_root"]
    python_file = to_local_path(task["python_file"], *roots)
    parameters = [to_local_path(p, *roots) for p in task["parameters"]]
    sc, spark = attach_to_cluster()
    dbutils = DBUtils(_Secrets(task.get("secret_scopes", {})))
    sys.argv = [python_file, *parameters]
    runpy.run_path(
        python_file,
        init_globals={"spark": spark, "sc": sc, "dbutils": dbutils},
        run_name="__main__",
    )


if __name__ == "__main__":
    main()
