"""Spark session resources: embedded local PySpark + Delta, or the session of a Databricks cluster.

Assets ask for ``spark: SparkResource`` and call :meth:`SparkResource.get_session`; which subclass
is bound is decided once, when the Definitions are built (see ``lakehouse_assets.resources``).
No session is created until an asset asks for one, so loading the Definitions never starts a JVM.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from importlib.metadata import version
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Jars the Delta pom pulls in transitively that the pyspark distribution already ships (usually in
# a newer version). Excluding them keeps one copy of each class on the classpath and makes the
# first download ~20 MB instead of ~90 MB.
_JARS_ALREADY_IN_PYSPARK = (
    "org.apache.hadoop:hadoop-client-api",
    "org.apache.hadoop:hadoop-client-runtime",
    "org.apache.parquet:parquet-hadoop",
    "org.apache.parquet:parquet-column",
    "org.apache.parquet:parquet-common",
    "org.apache.parquet:parquet-encoding",
    "org.apache.parquet:parquet-format-structures",
    "org.apache.parquet:parquet-jackson",
    "com.fasterxml.jackson.core:jackson-core",
    "com.fasterxml.jackson.core:jackson-databind",
    "com.fasterxml.jackson.core:jackson-annotations",
    "com.fasterxml.jackson.datatype:jackson-datatype-jdk8",
    "org.apache.logging.log4j:log4j-api",
    "org.apache.logging.log4j:log4j-core",
    "org.apache.logging.log4j:log4j-slf4j2-impl",
    "org.slf4j:slf4j-api",
    "org.xerial.snappy:snappy-java",
    "com.github.luben:zstd-jni",
    "org.scala-lang:scala-library",
    "commons-logging:commons-logging",
    "org.roaringbitmap:RoaringBitmap",
    "org.roaringbitmap:shims",
    "io.airlift:aircompressor",
    "com.google.code.findbugs:jsr305",
    "javax.annotation:javax.annotation-api",
)


def delta_maven_coordinate() -> str:
    """The Delta Lake jar matching the installed ``delta-spark`` and ``pyspark`` wheels.

    Since Delta 4.1 the artifact name carries the Spark minor version
    (``io.delta:delta-spark_4.2_2.13:4.4.0``); deriving it from the installed wheels keeps the
    jar and the Python package from drifting apart.
    """
    spark_minor = ".".join(version("pyspark").split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{version('delta-spark')}"


def local_spark_conf(
    *,
    master: str,
    app_name: str,
    shuffle_partitions: int,
    driver_memory: str,
    ui_enabled: bool,
    warehouse_dir: str,
    extra_conf: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The full Spark configuration of the embedded session (pure; no JVM needed)."""
    conf = {
        "spark.master": master,
        "spark.app.name": app_name,
        "spark.jars.packages": delta_maven_coordinate(),
        "spark.jars.excludes": ",".join(_JARS_ALREADY_IN_PYSPARK),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        # Delta rebuilds table state with this many tasks; the default (50) is sized for
        # clusters and costs seconds per table on a laptop.
        "spark.databricks.delta.snapshotPartitions": str(max(1, shuffle_partitions // 2)),
        # Landing zones are many small daily files. Above this many paths Spark lists them with
        # a distributed job (one task per folder), which on one machine is ~10 ms per folder;
        # the driver lists a local disk two orders of magnitude faster.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
        # VACUUM lists a table's files with this many tasks (default 10,000, sized for
        # clusters): 20-30 s for a tiny table on two cores, 0.8 s with a few tasks.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(shuffle_partitions),
        # VACUUM records what it deleted (VACUUM START / END commits), as on Databricks.
        "spark.databricks.delta.vacuum.logging.enabled": "true",
        # Every query compiles generated Java (~6 ms each, ~1,700 for the demo's week). With
        # the stage id kept out of class names, the same plan shape yields the same source and
        # the compiled class is reused; a cache of 2,000 holds a whole run's classes (the
        # default 100 evicts them mid-run). Measured: the second week in one JVM compiled 51
        # classes instead of 1,719 and ran 9% faster (77.8 s against 85.9 s).
        "spark.sql.codegen.useIdInClassName": "false",
        "spark.sql.codegen.cache.maxEntries": "2000",
        "spark.driver.memory": driver_memory,
        "spark.ui.enabled": str(ui_enabled).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": warehouse_dir,
        # Bind to loopback: a laptop's hostname often resolves to an address that changes.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }
    conf.update(extra_conf or {})
    return conf


class SparkResource(ConfigurableResource):
    """Base class: something that hands an asset a ready SparkSession."""

    def get_session(self) -> SparkSession:
        raise NotImplementedError


class LocalSparkResource(SparkResource):
    """Embedded ``local[*]`` PySpark with Delta Lake, for laptops, CI and tests.

    The session is process-wide (``getOrCreate``): every asset of a run, and every run of a test
    session, shares one JVM. It is never stopped by the resource, because stopping it would
    make the next run pay the ~10 s JVM start again.
    """

    master: str = Field(default="local[*]", description="Spark master URL.")
    app_name: str = "lakehouse_assets"
    shuffle_partitions: int = Field(
        default=4, description="Shuffle partitions; 2x the cores of a laptop is plenty."
    )
    driver_memory: str = "4g"
    ui_enabled: bool = Field(default=True, description="Spark UI on :4040 (off in tests).")
    warehouse_dir: str = Field(description="spark.sql.warehouse.dir (under LAKEHOUSE_ROOT).")
    extra_conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark conf.")

    def spark_conf(self) -> dict[str, str]:
        return local_spark_conf(
            master=self.master,
            app_name=self.app_name,
            shuffle_partitions=self.shuffle_partitions,
            driver_memory=self.driver_memory,
            ui_enabled=self.ui_enabled,
            warehouse_dir=self.warehouse_dir,
            extra_conf=self.extra_conf,
        )

    def get_session(self) -> SparkSession:
        return start_local_session(self.spark_conf())


class SparkConnectResource(SparkResource):
    """A session of a Spark Connect server (``sc://host:port``): a thin client, no JVM here.

    The server owns the engine and its configuration (Delta's extension and catalog; see
    :func:`lakehouse_assets.resources.spark_connect.connect_server_command`). Databricks
    serverless, standard access mode and Databricks Connect speak the same protocol, so running
    the lakehouse this way proves the code needs nothing a Connect client lacks.
    """

    remote: str = Field(description="Spark Connect URL, e.g. sc://localhost:15002.")

    def get_session(self) -> SparkSession:
        from pyspark.sql import SparkSession

        return SparkSession.builder.remote(self.remote).getOrCreate()


class DatabricksSparkResource(SparkResource):
    """On a cluster (a step-launched asset): the cluster's session. On the orchestrator (the
    few steps that read the Dagster instance): a Databricks Connect session, if installed."""

    def get_session(self) -> SparkSession:
        if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
            from pyspark.sql import SparkSession

            from lakehouse_assets.resources.databricks_runtime import require_step_environment

            session = SparkSession.builder.getOrCreate()
            require_step_environment(session.version, os.environ)
            return session
        try:
            from databricks.connect import DatabricksSession
        except ImportError:
            raise RuntimeError(
                "This step runs on the orchestrator, not through the step launcher, and needs "
                "a Spark session on Databricks: install databricks-connect (matching the "
                "clusters' runtime) where the Dagster code location runs."
            ) from None
        return DatabricksSession.builder.getOrCreate()


def start_local_session(conf: Mapping[str, str]) -> SparkSession:
    """Return the process's Spark session, creating it with ``conf`` if there is none yet."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        # Reuse without re-applying conf: static settings cannot change on a live JVM anyway.
        return active
    # Spark's JVM would otherwise log the hostname warning and use a non-loopback address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Bronze decodes landed bytes in Python workers (mapInArrow); they must run this
    # interpreter, the one the project is installed in, not the first python3 on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in {"spark.log.level": "ERROR", **conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
