"""A local Spark Connect server with Delta Lake: PySpark's own, started from the installed wheel.

``lakehouse spark-connect`` runs it in the foreground; the tests start one per session. The
server is the embedded session's configuration (:func:`local_spark_conf`) behind Spark
Connect's gRPC endpoint, so a client (``LAKEHOUSE_SPARK_REMOTE=sc://localhost:<port>``) gets
the same engine, jars and settings as the embedded session, through the protocol Databricks
serverless and Databricks Connect use.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from lakehouse_assets.resources.spark import local_spark_conf

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_CONNECT_PORT = 15002


def connect_server_command(
    port: int,
    *,
    warehouse_dir: str,
    master: str = "local[*]",
    driver_memory: str = "4g",
    shuffle_partitions: int = 4,
    extra_conf: Mapping[str, str] | None = None,
) -> list[str]:
    """The ``spark-submit`` command that starts the server (pure)."""
    conf = local_spark_conf(
        master=master,
        app_name="lakehouse_spark_connect",
        shuffle_partitions=shuffle_partitions,
        driver_memory=driver_memory,
        ui_enabled=False,
        warehouse_dir=warehouse_dir,
        extra_conf={"spark.connect.grpc.binding.port": str(port), **(extra_conf or {})},
    )
    command = [spark_submit(), "--class", CONNECT_SERVER_CLASS]
    for key, value in conf.items():
        command += ["--conf", f"{key}={value}"]
    # spark-submit needs a primary resource; Connect's server class ships in pyspark's jars.
    return [*command, "spark-internal"]


def spark_submit() -> str:
    """``spark-submit`` of the installed pyspark wheel."""
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def start_connect_server(
    port: int, *, warehouse_dir: str, log_path: str, timeout_s: float = 180.0, **options: object
) -> subprocess.Popen[bytes]:
    """Start the server in the background and wait until it accepts connections."""
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        # foreachBatch functions and Arrow UDFs run in Python workers of the server: they must
        # run the interpreter the project is installed in.
        "PYSPARK_PYTHON": sys.executable,
    }
    command = connect_server_command(port, warehouse_dir=warehouse_dir, **options)  # type: ignore[arg-type]
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout_s
    while not accepts_connections(port):
        if server.poll() is not None:
            raise RuntimeError(
                f"the Spark Connect server exited ({server.returncode}); see {log_path}"
            )
        if time.monotonic() > deadline:
            server.kill()
            raise TimeoutError(f"no Spark Connect server on port {port} after {timeout_s:.0f} s")
        time.sleep(0.5)
    return server


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accepts_connections(port: int) -> bool:
    """Whether something listens on ``port`` of the loopback."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
