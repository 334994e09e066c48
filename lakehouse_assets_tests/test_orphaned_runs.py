"""A run whose process is killed is marked failed (and so alerts), not left STARTED forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from lakehouse_assets.operations.orphaned_runs import (
    RUN_PROCESS_TAG,
    RunProcess,
    fail_orphaned_runs,
)

_KILLED_RUN = textwrap.dedent(
    """
    import time
    from dagster import DagsterInstance, job, op
    from lakehouse_assets.operations.orphaned_runs import RUN_PROCESS_TAG, RunProcess

    @op
    def long_step():
        time.sleep(600)

    @job
    def long_job():
        long_step()

    long_job.execute_in_process(
        instance=DagsterInstance.get(), tags={RUN_PROCESS_TAG: RunProcess.current().tag()}
    )
    """
)


def test_process_identity_round_trips_and_tells_a_live_process_from_a_dead_one():
    me = RunProcess.current()
    assert RunProcess.parse(me.tag()) == me and not me.is_gone()
    assert RunProcess.parse("garbage") is None
    assert RunProcess(me.host, me.pid, "1").is_gone()  # same pid, another process start


def test_a_killed_run_is_marked_failed_with_the_reason(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    # The instance's storage is created here first: two processes creating the same SQLite
    # storage at once can collide on its schema stamp.
    with DagsterInstance.from_config(str(home)) as instance:
        worker = subprocess.Popen(
            [sys.executable, "-c", _KILLED_RUN], env=env, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while not _started(instance):
            assert time.monotonic() < deadline and worker.poll() is None, "the run never started"
            time.sleep(0.2)
        run = _started(instance)[0]
        assert fail_orphaned_runs(instance) == []  # alive: left alone
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        assert fail_orphaned_runs(instance) == [run.run_id]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
        failures = instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE)
        assert len(failures) == 1  # what the alert router reads, like any failed run
        reasons = [e.message for e in instance.all_logs(run.run_id) if "is gone" in e.message]
        assert reasons and f"pid {worker.pid}" in reasons[0]
        assert fail_orphaned_runs(instance) == []  # reported once


def _started(instance):
    runs = instance.get_runs()
    return [r for r in runs if r.status == DagsterRunStatus.STARTED and RUN_PROCESS_TAG in r.tags]
