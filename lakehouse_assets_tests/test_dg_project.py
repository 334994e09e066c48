"""The repository is a ``dg`` project: Dagster's project CLI loads, lists and runs it.

The commands run as a user runs them, in subprocesses from the repository root (where
``[tool.dg]`` in pyproject.toml makes it a project), against throwaway lakehouse folders.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus
from deltalake import DeltaTable

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.settings import LakehouseSettings

from .landing_files import jsonl, land, order

REPO = Path(__file__).resolve().parents[1]
DG = str(Path(sys.executable).with_name("dg"))


def _dg(*args: str, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DG, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def _env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    return {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LAKEHOUSE_ROOT": str(tmp_path / "lakehouse"),
        "LAKEHOUSE_LANDING_ROOT": str(tmp_path / "landing"),
        "LAKEHOUSE_CHECKPOINT_ROOT": str(tmp_path / "checkpoints"),
        "PYTHONWARNINGS": "ignore",
        "DO_NOT_TRACK": "1",
    }


def test_dg_checks_and_lists_the_same_definitions(tmp_path):
    env = _env(tmp_path)
    checked = _dg("check", "defs", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr

    listed = _dg("list", "defs", "--json", env=env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    listing = json.loads(listed.stdout)
    keys = {a["asset_key"] for a in listing["assets"]}
    expected = build_definitions(LakehouseSettings.from_env(env)).get_repository_def()
    assert keys == {k.to_user_string() for k in expected.asset_graph.get_all_asset_keys()}
    assert {"landing_sensor", "lakehouse_automation"} <= {s["name"] for s in listing["sensors"]}


def test_dg_launch_runs_a_partition_range_as_one_run(tmp_path):
    env = _env(tmp_path)
    landing = tmp_path / "landing"
    land(landing, "orders", "1992-01-02", "orders.jsonl", jsonl(order(1), order(2)))
    land(landing, "orders", "1992-01-03", "orders.jsonl", jsonl(order(3, day="1992-01-03")))

    launched = _dg(
        "launch",
        "--assets",
        "bronze_orders",
        "--partition-range",
        "1992-01-02...1992-01-03",
        env=env,
        timeout=600,
    )
    assert launched.returncode == 0, launched.stdout[-5000:] + launched.stderr[-5000:]

    bronze = DeltaTable(str(tmp_path / "lakehouse" / "bronze" / "orders")).to_pyarrow_table()
    assert sorted(bronze.column("o_orderkey").to_pylist()) == [1, 2, 3]
    assert set(bronze.column("_landing_date").to_pylist()) == {
        dt.date(1992, 1, 2),
        dt.date(1992, 1, 3),
    }
    # The range is one run (the assets' single-run backfill policy), recorded in the instance.
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]
    assert runs[0].tags["dagster/asset_partition_range_start"] == "1992-01-02"
