"""Local Spark Connect servers for tests (PySpark's own, with Delta)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from lakehouse_assets.resources.spark_connect import free_port, start_connect_server

# Databricks Connect 17.3's client asks the server for two settings of Spark 4.1's chunked local
# relations before every createDataFrame; an Apache Spark 4.0 server does not define them. They
# change nothing for the small frames the orchestrator sends (below the cache threshold).
DATABRICKS_CONNECT_CLIENT_CONF = {
    "spark.sql.session.localRelationChunkSizeRows": "10000",
    "spark.sql.session.localRelationChunkSizeBytes": "16777216",
}


@contextmanager
def connect_server(work: Path, extra_conf: Mapping[str, str] | None = None) -> Iterator[str]:
    """A server with its warehouse under ``work``; yields its ``sc://`` URL, stops it after."""
    port = free_port()
    server = start_connect_server(
        port,
        warehouse_dir=str(work / "warehouse"),
        log_path=str(work / "server.log"),
        master="local[2]",
        driver_memory="2g",
        shuffle_partitions=2,
        extra_conf=dict(extra_conf or {}),
    )
    try:
        yield f"sc://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=60)
