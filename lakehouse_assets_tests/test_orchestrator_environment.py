"""The steps that stay on the orchestrator (``pipeline_runs``, the freshness checks), run in
databricks mode in the environment ``requirements-databricks.lock`` installs: Databricks
Connect instead of a ``pyspark`` distribution, reaching Spark over Spark Connect (here a local
server standing in for the workspace's compute; ``SPARK_REMOTE`` as Databricks Connect reads it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakehouse_assets.monitoring.tables import PIPELINE_RUNS, SLA_METRICS
from lakehouse_assets.storage import DeltaTableStore

from .connect_servers import DATABRICKS_CONNECT_CLIENT_CONF, connect_server
from .warehouse import WarehouseLocator

pytestmark = pytest.mark.spark

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements-databricks.lock"


def _locked_version(name: str) -> str:
    for line in LOCK.read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1].split()[0]
    raise AssertionError(f"{name} is not in {LOCK.name}")


@pytest.fixture(scope="module")
def orchestrator_python(tmp_path_factory) -> Path:
    """A fresh environment from the lock, as ``make databricks-env`` builds it."""
    venv = tmp_path_factory.mktemp("orchestrator") / "venv"
    uv = str(Path(sys.executable).parent / "uv")
    python = str(venv / "bin" / "python")
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv, "pip", "sync", "--quiet", "--python", python, "--require-hashes", str(LOCK)],
        check=True,
    )
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", python, "--no-deps", "-e", str(REPO)],
        check=True,
    )
    return Path(python)


def test_pipeline_runs_and_freshness_checks_run_in_databricks_mode_through_databricks_connect(
    spark, orchestrator_python, tmp_path
):
    with connect_server(tmp_path / "compute", DATABRICKS_CONNECT_CLIENT_CONF) as url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")},
            "SPARK_REMOTE": url,
            "LAKEHOUSE_ENV": "databricks",
            "LAKEHOUSE_ROOT": str(tmp_path / "root"),
            # The server's session catalog stands in for Unity Catalog (as in the emulator).
            "LAKEHOUSE_CATALOG": "spark_catalog",
            "LAKEHOUSE_UC_COLUMN_POLICIES": "false",
            "LAKEHOUSE_LOG_FORMAT": "text",
            # Read when the Definitions build the (unused) step launchers; nothing calls it.
            "DATABRICKS_HOST": "http://127.0.0.1:9",
            "DATABRICKS_TOKEN": "dapi-unused",
        }
        done = subprocess.run(
            [str(orchestrator_python), "-m", "lakehouse_assets_tests.orchestrator_run"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert done.stdout.strip(), done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["failures"] == []
    assert outcome["spark_resource"] == "DatabricksSparkResource"
    assert outcome["databricks_connect"] == _locked_version("databricks-connect")
    assert outcome["pyspark_distribution"] is None  # Databricks Connect's own pyspark module
    assert outcome["pipeline_runs"] == [True, True] and outcome["freshness"] is True
    checks = outcome["freshness_checks"]
    # Bronze was updated now, silver never: two hours later silver has missed its SLA.
    assert checks["bronze_orders"] is True and checks["silver_orders"] is False

    # The catalog tables, read where the server's session catalog keeps them.
    tables = DeltaTableStore(spark, WarehouseLocator(tmp_path / "compute" / "warehouse"))
    runs = {
        r.run_id: r.status
        for r in tables.read(PIPELINE_RUNS).collect()
        if r.asset == "pipeline_runs"
    }
    first, second = outcome["pipeline_run_ids"]
    assert runs == {first: "SUCCESS", second: "RUNNING"}
    sla = {r.table_name: r.sla_met for r in tables.read(SLA_METRICS).collect()}
    assert sla == checks
