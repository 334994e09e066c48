"""Which Databricks Runtime the steps run on, and the refusal to run them on the wrong one.

The step launcher pickles a step on the orchestrator and runs it on the job cluster's Python
against the cluster's Spark, importing the project code the launcher ships with it. A step
built and tested for Python 3.12 and Spark 4.0 is not proven on anything else, so the
Definitions refuse (before any cluster starts) a runtime whose Python or Spark minor version
differs from the orchestrator's.

``RUNTIMES`` holds what each supported runtime ships, from the Databricks Runtime release
notes' "System environment" sections (docs/deploy.md has the table and the links). A runtime
missing here is refused too: add it with its versions from its release notes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from lakehouse_assets.settings import SettingsError


@dataclass(frozen=True)
class DatabricksRuntime:
    """What one Databricks Runtime ships (its release notes' "System environment").

    Attributes:
        key: The ``spark_version`` key a cluster spec names, e.g. ``17.3.x-scala2.13``.
        name: How the release notes name it.
        spark: Apache Spark version.
        scala: Scala version of the image.
        python: Python version.
        delta: Delta Lake version.
        java: JDK the runtime runs on.
    """

    key: str
    name: str
    spark: str
    scala: str
    python: str
    delta: str
    java: str

    @property
    def python_minor(self) -> str:
        return _minor(self.python)

    @property
    def spark_minor(self) -> str:
        return _minor(self.spark)


RUNTIMES: Mapping[str, DatabricksRuntime] = {
    runtime.key: runtime
    for runtime in (
        DatabricksRuntime(
            "15.4.x-scala2.12", "15.4 LTS", "3.5.0", "2.12", "3.11.0", "3.2.0", "Zulu 8"
        ),
        DatabricksRuntime(
            "16.4.x-scala2.13", "16.4 LTS", "3.5.2", "2.13", "3.12.3", "3.3.1", "Zulu 17"
        ),
        DatabricksRuntime(
            "17.3.x-scala2.13", "17.3 LTS", "4.0.0", "2.13", "3.12.3", "4.0.0", "Zulu 17"
        ),
    )
}

# The newest LTS whose Spark (4.0) and Python (3.12) the project is pinned to and tested on.
DEFAULT_RUNTIME = "17.3.x-scala2.13"

# Libraries the Spark steps import that no runtime ships, pinned to the orchestrator's versions
# and installed as cluster libraries. Never pyspark or delta-spark: the runtime provides both,
# and a pip-installed pyspark would shadow the runtime's own.
CLUSTER_LIBRARIES = (
    "dagster-slack",
    "deltalake",
    "duckdb",
    "holidays",
    "pandera",
    "safetensors",
    "tokenizers",
    "usearch",
)


@dataclass(frozen=True)
class StepEnvironment:
    """The Python and Spark minor versions a step is built for (the orchestrator's)."""

    python: str
    spark: str

    @classmethod
    def of_this_process(cls) -> StepEnvironment:
        try:
            spark = version("pyspark")
        except PackageNotFoundError:
            spark = _pyspark_module_version()
        return cls(python=f"{sys.version_info[0]}.{sys.version_info[1]}", spark=_minor(spark))


def _pyspark_module_version() -> str:
    """The version of the ``pyspark`` module where no ``pyspark`` distribution provides it:
    databricks-connect ships its own copy (the orchestrator's environment in databricks mode,
    ``requirements-databricks.lock``)."""
    try:
        import pyspark
    except ImportError:
        raise SettingsError(
            "pyspark is not installed here, so the Spark version the steps are built for "
            "is unknown; install the project with its locked requirements (make install)"
        ) from None
    return str(pyspark.__version__)


def require_matching_runtime(key: str, built_for: StepEnvironment) -> DatabricksRuntime:
    """The runtime named ``key``, or a ``SettingsError`` saying why its clusters would not run
    the steps: an unknown key, or a Python or Spark minor version other than ``built_for``."""
    runtime = RUNTIMES.get(key)
    if runtime is None:
        raise SettingsError(
            f"LAKEHOUSE_DATABRICKS_SPARK_VERSION={key!r} is not a runtime this project knows; "
            f"use one of {sorted(RUNTIMES)} or add it to RUNTIMES "
            "(lakehouse_assets/resources/databricks_runtime.py) with its release notes' versions"
        )
    mismatches = environment_mismatches(
        StepEnvironment(runtime.python_minor, runtime.spark_minor), built_for
    )
    if mismatches:
        raise SettingsError(
            f"Databricks Runtime {runtime.name} ({key}) cannot run these steps: "
            + "; ".join(mismatches)
            + ". The step launcher runs the orchestrator's pickled steps on the cluster's "
            "Python and Spark: choose a runtime that matches (docs/deploy.md, 'Runtime') or "
            "run the orchestrator on its Python with pyspark pinned to its Spark."
        )
    return runtime


def environment_mismatches(cluster: StepEnvironment, built_for: StepEnvironment) -> list[str]:
    """What differs between the cluster's Python and Spark and the step's (pure)."""
    return [
        f"{what} {theirs} on the cluster but {ours} here"
        for what, theirs, ours in (
            ("Python", cluster.python, built_for.python),
            ("Spark", cluster.spark, built_for.spark),
        )
        if theirs != ours
    ]


def require_step_environment(spark_version: str, environ: Mapping[str, str]) -> None:
    """On the cluster: fail the step when the running Python or Spark is not the one the
    orchestrator built it for (``LAKEHOUSE_STEP_PYTHON`` / ``LAKEHOUSE_STEP_SPARK``, set by the
    launcher config). The second line behind ``require_matching_runtime``: it catches a
    ``RUNTIMES`` entry that is wrong about its runtime."""
    python, spark = environ.get("LAKEHOUSE_STEP_PYTHON"), environ.get("LAKEHOUSE_STEP_SPARK")
    if not python or not spark:
        return
    here = StepEnvironment(f"{sys.version_info[0]}.{sys.version_info[1]}", _minor(spark_version))
    mismatches = environment_mismatches(here, StepEnvironment(python, spark))
    if mismatches:
        raise RuntimeError(
            "this cluster cannot run the step: "
            + "; ".join(m.replace(" here", " on the orchestrator") for m in mismatches)
            + " (fix RUNTIMES in lakehouse_assets/resources/databricks_runtime.py)"
        )


def cluster_libraries() -> list[dict[str, dict[str, str]]]:
    """``CLUSTER_LIBRARIES`` as Jobs API library specs, pinned to the installed versions."""
    return [{"pypi": {"package": f"{name}=={version(name)}"}} for name in CLUSTER_LIBRARIES]


def _minor(full: str) -> str:
    return ".".join(full.split(".")[:2])
