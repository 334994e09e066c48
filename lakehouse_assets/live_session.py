"""The live loop in one command: the Dagster daemon (and UI) plus the landing feed.

``lakehouse live`` (``make live``) writes the instance configuration, lands a week of history
if the landing zone is empty (ending ``catch_up_days`` ago, so the feed has days to land),
starts ``dagster dev`` with ``LAKEHOUSE_LIVE=true`` (landing sensor, automation and freshness
sensor RUNNING) and runs the feed in the foreground. Ctrl-C stops both.

Tests and the live-latency benchmark start the same processes without the UI
(``dagster-daemon run``), so what they measure is what a user runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from lakehouse_assets.operations.instance import write_instance_config
from lakehouse_assets.partitions import PartitionCalendar
from lakehouse_assets.sample_data.manifest import read_manifest

HISTORY_DAYS = 7


def land_history_if_empty(landing_root: Path, catch_up_days: int, scale_factor: float) -> None:
    """A week of history ending ``catch_up_days`` ago, unless sample data is already landed."""
    if read_manifest(landing_root) is not None:
        return
    today = PartitionCalendar.from_env().today(dt.datetime.now(dt.UTC))
    ends_on = today - dt.timedelta(days=catch_up_days)
    subprocess.run(
        [
            _bin("lakehouse-sample-data"),
            "--scale-factor",
            str(scale_factor),
            "--days",
            str(HISTORY_DAYS),
            "--ends-on",
            ends_on.isoformat(),
            "--landing-root",
            str(landing_root),
        ],
        check=True,
    )


def live_environment(base: Mapping[str, str], dagster_home: Path) -> dict[str, str]:
    """``base`` with the live loop switched on and the instance at ``dagster_home``."""
    return {**base, "DAGSTER_HOME": str(dagster_home), "LAKEHOUSE_LIVE": "true"}


@contextlib.contextmanager
def dagster_processes(
    env: Mapping[str, str], *, ui: bool, log_path: Path | None = None
) -> Iterator[subprocess.Popen]:
    """``dagster dev`` (ui) or ``dagster-daemon run`` on the project's definitions; stopped
    (the whole process group) on exit."""
    write_instance_config(Path(env["DAGSTER_HOME"]))
    command = (
        [_bin("dagster"), "dev", "-m", "lakehouse_assets.definitions"]
        if ui
        else [_bin("dagster-daemon"), "run", "-m", "lakehouse_assets.definitions"]
    )
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        command, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log:
            log.close()


def _bin(name: str) -> str:
    """An entry point installed next to this interpreter (the project's virtualenv)."""
    return str(Path(sys.executable).with_name(name))
