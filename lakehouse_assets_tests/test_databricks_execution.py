"""``LAKEHOUSE_ENV=databricks`` end to end: every Spark step through dagster-databricks' step
launcher, against the local workspace emulator that really runs the submitted jobs.

The orchestrator side is the real code location (per-layer step launchers, service-principal
OAuth, secrets from a secret scope); the cluster side is a Spark driver JVM with Delta and a
metastore, where each step runs as a ``spark_python_task`` in its own process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import DagsterEventType, instance_for_test

from lakehouse_assets.sample_data import land_tpch
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .databricks_emulator import DatabricksEmulator, ServicePrincipal
from .databricks_job import SLICE, run_job
from .lakehouse import materialize_day, settings_for
from .warehouse import WarehouseLocator

pytestmark = pytest.mark.spark

DAY = dt.date(1992, 1, 1)
PRINCIPAL = ServicePrincipal("lakehouse-sp-client-id", "sp-secret-value", "lakehouse-sp")
VOLATILE = {
    "_ingestion_timestamp",
    "_processing_timestamp",
    "_batch_id",
    "batch_id",
    "ingested_at",
    "_run_id",
    "_source_file",
}


@pytest.fixture(scope="module")
def landing(tpch_dir, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("databricks_landing")
    land_tpch(tpch_dir, root, DAY, DAY)
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("databricks_workspace")
    secrets = {
        "lakehouse": {
            "databricks-client-id": PRINCIPAL.client_id,
            "databricks-client-secret": PRINCIPAL.client_secret,
        }
    }
    with DatabricksEmulator(
        root,
        service_principals=(PRINCIPAL,),
        secret_scopes=secrets,
        # The staging volume the grants script creates (LAKEHOUSE_CATALOG=spark_catalog).
        volumes=("spark_catalog.monitoring.step_staging",),
    ) as emulator:
        yield emulator


@pytest.fixture
def databricks_env(workspace, landing, tmp_path, monkeypatch):
    """The orchestrator's environment in databricks mode, pointed at the emulator."""
    env = {
        "LAKEHOUSE_ENV": "databricks",
        "LAKEHOUSE_ROOT": str(tmp_path / "root"),
        "LAKEHOUSE_LANDING_ROOT": str(landing),
        "LAKEHOUSE_CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        # The emulator's metastore is Spark's session catalog; on Databricks: dev/staging/prod.
        "LAKEHOUSE_CATALOG": "spark_catalog",
        # Spark's own catalog has no column tags or masks (Unity Catalog's SQL); their
        # statements are tested for shape in test_privacy.py.
        "LAKEHOUSE_UC_COLUMN_POLICIES": "false",
        "LAKEHOUSE_LOG_FORMAT": "text",
        "DATABRICKS_HOST": workspace.url,
        "DATABRICKS_CLIENT_ID": PRINCIPAL.client_id,
        "DATABRICKS_CLIENT_SECRET": PRINCIPAL.client_secret,
        "LAKEHOUSE_DATABRICKS_POLL_SECONDS": "0.5",
        "LAKEHOUSE_DATABRICKS_VIEWER_GROUP": "data-analysts",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    return env


def _contents(store: DeltaTableStore, spec) -> list[tuple]:
    df = store.read(spec)
    stable = sorted(c for c in df.columns if c not in VOLATILE)
    rows = [tuple(row) for row in df.select(*stable).collect()]
    return sorted(rows, key=lambda row: [(value is None, str(value)) for value in row])


def test_bronze_to_gold_runs_on_databricks_and_matches_local_mode(
    spark, workspace, databricks_env, landing, tmp_path
):
    from lakehouse_assets.catalog import lakehouse_tables

    with instance_for_test() as instance:
        result = run_job(instance, DAY.isoformat())
        assert result.success
        events = instance.all_logs(result.run_id)

    # One Databricks run per step, each on its layer's job cluster, authenticated as the
    # service principal through OAuth (client credentials, then bearer tokens).
    submits = workspace.calls("/jobs/runs/submit")
    assert len(submits) == len(SLICE)
    tags_by_run = [s.body["tasks"][0]["new_cluster"]["custom_tags"] for s in submits]
    assert sorted(tags["layer"] for tags in tags_by_run) == sorted(
        ["bronze"] * 3 + ["silver"] * 1 + ["gold"] * 2
    )
    assert all(tags["environment"] == "spark_catalog" for tags in tags_by_run)
    assert all(tags["project"] == "lakehouse_assets" for tags in tags_by_run)
    assert workspace.calls("/oidc/v1/token")
    assert all(
        r.headers.get("Authorization", "").startswith("Bearer ")
        for r in workspace.requests
        if r.path.startswith("/api/")
    )
    assert {r.status for r in submits} == {200}
    # Staged in the Unity Catalog volume through the Files API, never on DBFS: this runs in a
    # workspace without DBFS root. The tasks ran the staged main file from the volume.
    staged = [r for r in workspace.requests if r.path.startswith(STAGING_FILES)]
    assert {r.method for r in staged} >= {"PUT", "GET"}
    assert not [r for r in workspace.requests if r.path.startswith("/api/2.0/dbfs/")]
    python_files = {s.body["tasks"][0]["spark_python_task"]["python_file"] for s in submits}
    assert all(f.startswith(STAGING_FILES.removeprefix("/api/2.0/fs/files")) for f in python_files)
    # LAKEHOUSE_DATABRICKS_VIEWER_GROUP: the launcher granted the viewers access to the runs.
    assert workspace.calls("/permissions/jobs/" + str(_job_id(workspace, submits[0])))

    # Events and metadata streamed back from the remote steps into the local instance.
    materialized = {
        e.dagster_event.asset_key.to_user_string(): e.dagster_event.materialization.metadata
        for e in events
        if e.dagster_event and e.dagster_event.event_type == DagsterEventType.ASSET_MATERIALIZATION
    }
    assert set(SLICE) <= set(materialized)
    # ... and the side tables the remote steps wrote (ledger, history, metrics), reported by them.
    side = set(materialized) - set(SLICE)
    assert {"monitoring/ingested_files", "silver/customer_history"} <= side
    assert all("/" in key for key in side)
    assert materialized["silver_customers"]["partition"].value == DAY.isoformat()
    assert materialized["dim_customer"]["rows_written"].value > 0
    # The remote step's logs come back as captured stdout/stderr.
    messages = [e.user_message for e in events]
    assert any("Captured stdout for step" in m for m in messages)
    assert any("Running dagster job" in m for m in messages)

    # The same slice in local mode gives the same tables.
    local = settings_for(tmp_path / "local", landing)
    assert materialize_day(local, DAY, selection=SLICE).success
    local_store = DeltaTableStore(spark, PathLocator(local.root))
    remote_store = DeltaTableStore(spark, WarehouseLocator(workspace.root / "warehouse"))
    written = [
        spec
        for spec in lakehouse_tables()
        if spec.layer in {"bronze", "silver", "gold"} and local_store.exists(spec)
    ]
    assert len(written) >= len(SLICE)
    for spec in written:
        assert _contents(remote_store, spec) == _contents(local_store, spec), spec.name

    # Restore on the gold cluster, from an orchestrator whose instance has never seen a
    # materialization: the last good version comes from the lake (monitoring.table_versions).
    from lakehouse_assets.gold import tables as gold

    good_version = remote_store.version(gold.DIM_CUSTOMER)
    good = _contents(remote_store, gold.DIM_CUSTOMER)
    remote_store.append(gold.DIM_CUSTOMER, remote_store.read(gold.DIM_CUSTOMER).limit(1))
    restore_config = {"ops": {"restore_table_op": {"config": {"table": "dim_customer"}}}}
    with instance_for_test() as fresh:
        restored = run_job(fresh, None, "restore", restore_config)
        assert restored.success
    last = remote_store.history(gold.DIM_CUSTOMER, 1)[0]
    assert last["operation"] == "RESTORE"
    assert int(last["operationParameters"]["version"]) == good_version
    assert _contents(remote_store, gold.DIM_CUSTOMER) == good
    assert (
        workspace.calls("/jobs/runs/submit")[-1].body["tasks"][0]["new_cluster"]["custom_tags"][
            "layer"
        ]
        == "gold"
    )


STAGING_FILES = "/api/2.0/fs/files/Volumes/spark_catalog/monitoring/step_staging/"


def _job_id(workspace: DatabricksEmulator, submit) -> int:
    return workspace.executor.runs[submit.answer["run_id"]].job_id


def test_a_failing_remote_step_surfaces_its_traceback(
    workspace, databricks_env, tmp_path, monkeypatch
):
    monkeypatch.setenv("LAKEHOUSE_LANDING_ROOT", str(tmp_path / "no_landing_here"))
    # Staged on DBFS (a workspace with DBFS root): the launcher's own transport.
    monkeypatch.setenv("LAKEHOUSE_DATABRICKS_STAGING_PREFIX", "/dagster_staging")
    dbfs_calls = len(workspace.calls("/dbfs/put")) + len(workspace.calls("/dbfs/create"))
    with instance_for_test() as instance:
        result = run_job(instance, DAY.isoformat(), "bronze_orders")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    # The error is the remote process's exception, with the frames of the code that raised it
    # on the cluster, not a generic "Databricks run failed".
    error = failure.step_failure_data.error
    frames = _causes(error)
    assert any("lakehouse_assets/bronze/" in frame for frame in frames), error.to_string()
    assert "Databricks run" not in error.message
    run = workspace.executor.runs[workspace.calls("/jobs/runs/submit")[-1].answer["run_id"]]
    assert run.state["result_state"] == "SUCCESS", "the step failed inside a healthy run"
    assert len(workspace.calls("/dbfs/put")) + len(workspace.calls("/dbfs/create")) > dbfs_calls


def _causes(error) -> list[str]:
    frames = []
    while error is not None:
        frames += error.stack
        error = error.cause
    return frames


def test_a_cluster_that_fails_to_launch_gives_a_clear_error(workspace, databricks_env, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_DATABRICKS_SPARK_CONF", '{"spark.driver.memory": "lots"}')
    with instance_for_test() as instance:
        result = run_job(instance, DAY.isoformat(), "bronze_orders")
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE)
    message = failure.step_failure_data.error.to_string()
    assert "INTERNAL_ERROR" in message or "SPARK_STARTUP_FAILURE" in message
    assert "failed to start" in message


def test_terminating_the_dagster_run_cancels_the_remote_run(workspace, databricks_env, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    before = set(workspace.executor.runs)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lakehouse_assets_tests.databricks_job",
            DAY.isoformat(),
            "bronze_orders",
        ],
        env={**os.environ, "DAGSTER_HOME": str(home)},
    )
    try:
        run = _wait_for_running_run(workspace, before, worker)
        # What `dagster run terminate` does to a run worker: interrupt it.
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert workspace.calls("/jobs/runs/cancel")[-1].body == {"run_id": run.run_id}
    deadline = time.monotonic() + 30
    while run.state["life_cycle_state"] != "TERMINATED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run.state["result_state"] == "CANCELED"
    assert worker.returncode != 0


def _wait_for_running_run(workspace, before, worker):
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the run ended before it could be terminated"
        new = [r for rid, r in workspace.executor.runs.items() if rid not in before]
        running = [r for r in new if r.state["life_cycle_state"] == "RUNNING"]
        if running:
            time.sleep(2)  # let the remote step get going
            return running[0]
        time.sleep(0.2)
    raise AssertionError("no Databricks run started")


@pytest.mark.slow
def test_a_multi_process_spark_cluster_gives_the_same_tables_as_local_mode(
    spark, landing, tmp_path
):
    """The slice on ``local-cluster`` (a master, a worker and two executor JVMs) vs local[2]."""
    from lakehouse_assets.catalog import lakehouse_tables

    cluster_root = tmp_path / "cluster"
    env = {
        **os.environ,
        "LAKEHOUSE_ENV": "local",
        "LAKEHOUSE_ROOT": str(cluster_root),
        "LAKEHOUSE_LANDING_ROOT": str(landing),
        "LAKEHOUSE_SPARK_MASTER": "local-cluster[2,1,1024]",
        "LAKEHOUSE_LOG_FORMAT": "text",
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "lakehouse_assets_tests.slice_run", DAY.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["master"].startswith("local-cluster") and report["executors"] == 2

    local = settings_for(tmp_path / "local", landing)
    assert materialize_day(local, DAY, selection=SLICE).success
    local_store = DeltaTableStore(spark, PathLocator(local.root))
    cluster_store = DeltaTableStore(spark, PathLocator(str(cluster_root)))
    written = [s for s in lakehouse_tables() if s.layer != "monitoring" and local_store.exists(s)]
    assert len(written) >= len(SLICE)
    for spec in written:
        assert _contents(cluster_store, spec) == _contents(local_store, spec), spec.name
