"""One emulated Databricks cluster: a Spark driver JVM that task processes attach to.

Started by the emulator as ``python cluster_main.py '<json conf>' <handshake file>``. It starts a
local Spark session with Delta Lake and a Hive (Derby) metastore, writes the Py4J gateway port and
secret to the handshake file (stdout belongs to the JVM's logs), and keeps the JVM up until its
stdin closes (the emulator terminating the cluster). Tasks run in their own Python processes
attached to this JVM, as notebooks and Python tasks do on a real all-purpose cluster.
"""

from __future__ import annotations

import json
import os
import sys


def main(conf_json: str, handshake: str) -> None:
    # The runtime's own Spark, not the project's session helper: a node runs the node Python
    # (clusters.node_python), where the project is not installed.
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in {"spark.log.level": "ERROR", **json.loads(conf_json)}.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    parameters = session.sparkContext._gateway.gateway_parameters
    with open(f"{handshake}.tmp", "w") as out:
        json.dump({"port": parameters.port, "secret": parameters.auth_token}, out)
    os.replace(f"{handshake}.tmp", handshake)
    sys.stdin.read()
    session.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
