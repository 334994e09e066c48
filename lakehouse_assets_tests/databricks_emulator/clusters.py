"""Emulated clusters: each is a local Spark driver JVM (Delta Lake, Hive metastore on Derby).

The cluster spec of a run decides the cluster: identical specs share a running cluster (like an
instance pool keeping a warm node), a different spec terminates the running one first. One
cluster runs at a time because the Derby metastore (the workspace's catalog, shared by all
clusters as Unity Catalog is) accepts a single JVM.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakehouse_assets.resources.spark import local_spark_conf

CLUSTER_MAIN = Path(__file__).with_name("cluster_main.py")
STARTUP_TIMEOUT_SECONDS = 180
# What every node of the emulated workspace has in its environment.
_INHERITED_ENV = ("PATH", "HOME", "JAVA_HOME", "LANG", "LC_ALL", "TMPDIR", "IVY_HOME")


class ClusterLaunchError(RuntimeError):
    """The cluster did not come up; the message is what the workspace reports."""


@dataclass
class Cluster:
    cluster_id: str
    spec: dict[str, Any]
    state: str = "PENDING"
    state_message: str = ""
    gateway: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def as_json(self) -> dict[str, Any]:
        size = (
            {"autoscale": self.spec["autoscale"]}
            if "autoscale" in self.spec
            else {"num_workers": self.spec.get("num_workers", 0)}
        )
        return {
            "cluster_id": self.cluster_id,
            "cluster_source": "JOB",
            "spark_version": self.spec.get("spark_version"),
            "node_type_id": self.spec.get("node_type_id"),
            "spark_conf": self.spec.get("spark_conf", {}),
            "custom_tags": self.spec.get("custom_tags", {}),
            "state": self.state,
            "state_message": self.state_message,
            **size,
        }


# A node's Python: the orchestrator's interpreter and installed libraries (the runtime's
# pyspark, pyarrow, ... and the cluster libraries a job asks for, checked at submission), but
# started without ``site`` (``-S``), so no ``.pth`` file runs: the project's editable install
# and its tests are not importable. A step reaches the project only the way a real cluster
# does, through what the job ships (the step launcher's code archive, a wheel library).
NODE_PYTHON = "python3-node"


def node_python(folder: Path) -> str:
    """The node interpreter (a wrapper in ``folder``), created once per folder."""
    wrapper = folder / NODE_PYTHON
    if not wrapper.exists():
        folder.mkdir(parents=True, exist_ok=True)
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
        wrapper.chmod(0o755)
    return str(wrapper)


def node_environment(python: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean process environment, as on a fresh node: nothing leaks from the caller."""
    env = {name: os.environ[name] for name in _INHERITED_ENV if name in os.environ}
    env["PYTHONUNBUFFERED"] = "1"
    # The runtime's libraries, as plain path entries (``.pth`` files are not processed).
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    # The runtime points every node's Spark at its own Python (/databricks/python3 there): the
    # one with the runtime's libraries (pyarrow), for Python UDFs and mapInArrow workers.
    env["PYSPARK_PYTHON"] = python
    env.update(extra or {})
    return env


def runtime_version(spark_version: str) -> str:
    """``15.4.x-scala2.12`` -> ``15.4`` (what ``DATABRICKS_RUNTIME_VERSION`` holds)."""
    return ".".join(spark_version.split(".")[:2])


def driver_key(spec: dict[str, Any]) -> str:
    """What decides the Spark driver: runtime, Spark conf and environment.

    Size, node type and tags cannot be modelled on one machine, so clusters that differ only in
    those share a warm driver (as job clusters drawn from one instance pool would start warm).
    """
    return json.dumps(
        [spec.get("spark_version"), spec.get("spark_conf") or {}, spec.get("spark_env_vars") or {}],
        sort_keys=True,
    )


@dataclass
class Driver:
    key: str
    process: subprocess.Popen
    gateway: dict[str, Any]


class ClusterManager:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.clusters: dict[str, Cluster] = {}
        self._driver: Driver | None = None
        self._lock = threading.Lock()

    def cluster_conf(self, cluster: Cluster) -> dict[str, str]:
        """Local Spark conf of the driver, overlaid with the spec's ``spark_conf``."""
        conf = local_spark_conf(
            master="local[2]",
            app_name=f"databricks-emulator-{cluster.cluster_id}",
            shuffle_partitions=2,
            driver_memory="2g",
            ui_enabled=False,
            warehouse_dir=str(self.root / "warehouse"),
        )
        metastore = self.root / "metastore_db"
        conf |= {
            "spark.sql.catalogImplementation": "hive",
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={metastore};create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={self.root}",
        }
        conf.update(cluster.spec.get("spark_conf") or {})
        return conf

    def reserve(self, spec: dict[str, Any]) -> str:
        """The cluster a new run of ``spec`` will use (known at submission, as on Databricks)."""
        with self._lock:
            for cluster in self.clusters.values():
                if cluster.spec == spec and cluster.state != "TERMINATED":
                    return cluster.cluster_id
            cluster = Cluster(f"{time.strftime('%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}", spec)
            self.clusters[cluster.cluster_id] = cluster
            return cluster.cluster_id

    def acquire(self, cluster_id: str) -> Cluster:
        """Bring ``cluster_id`` up: on the warm driver if it fits, else on a new driver."""
        with self._lock:
            cluster = self.clusters[cluster_id]
            key = driver_key(cluster.spec)
            driver = self._driver
            if driver is None or driver.key != key or driver.process.poll() is not None:
                self._stop_driver("JOB_FINISHED")
                self._driver = driver = self._start_driver(cluster, key)
            cluster.gateway, cluster.process = driver.gateway, driver.process
            cluster.state, cluster.state_message = "RUNNING", ""
            return cluster

    def existing(self, cluster_id: str) -> Cluster | None:
        return self.clusters.get(cluster_id)

    def shutdown(self) -> None:
        with self._lock:
            self._stop_driver("USER_REQUEST")

    def _start_driver(self, cluster: Cluster, key: str) -> Driver:
        folder = self.root / "clusters" / cluster.cluster_id
        folder.mkdir(parents=True, exist_ok=True)
        cluster.state = "PENDING"
        cluster.log_path = folder / "driver.log"
        python = node_python(folder)
        env = node_environment(
            python,
            {
                "DATABRICKS_RUNTIME_VERSION": runtime_version(cluster.spec["spark_version"]),
                "SPARK_LOCAL_IP": "127.0.0.1",
                **(cluster.spec.get("spark_env_vars") or {}),
            },
        )
        handshake = folder / "gateway.json"
        handshake.unlink(missing_ok=True)
        with cluster.log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    python,
                    str(CLUSTER_MAIN),
                    json.dumps(self.cluster_conf(cluster)),
                    str(handshake),
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=folder,
                start_new_session=True,
            )
        line = _handshake(process, handshake, STARTUP_TIMEOUT_SECONDS)
        if not line:
            process.kill()
            detail = _tail(cluster.log_path)
            cluster.state, cluster.state_message = "TERMINATED", f"SPARK_STARTUP_FAILURE: {detail}"
            raise ClusterLaunchError(
                f"Cluster {cluster.cluster_id} was terminated during startup. "
                f"Reason: SPARK_STARTUP_FAILURE (SERVICE_FAULT). Spark driver failed to start: "
                f"{detail}"
            )
        return Driver(key, process, json.loads(line))

    def _stop_driver(self, reason: str) -> None:
        driver, self._driver = self._driver, None
        if driver is None:
            return
        if driver.process.poll() is None:
            driver.process.stdin.close()
            try:
                driver.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                driver.process.kill()
                driver.process.wait()
        for cluster in self.clusters.values():
            if cluster.process is driver.process:
                cluster.state, cluster.state_message = "TERMINATED", reason


def _handshake(process: subprocess.Popen, handshake: Path, timeout: float) -> str:
    """The gateway JSON once the driver is up; "" if the process died or timed out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handshake.exists():
            return handshake.read_text()
        if process.poll() is not None:
            return ""
        time.sleep(0.2)
    return ""


def _tail(path: Path, lines: int = 3) -> str:
    text = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
    useful = [line for line in text if line.strip() and not line.startswith("\tat ")]
    return " | ".join(useful[-lines:]) or "no driver output"
