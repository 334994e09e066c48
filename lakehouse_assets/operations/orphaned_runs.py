"""Runs whose process died: marked failed, so they alert like any failure.

A run executed in-process (``lakehouse materialize``, or any ``execute_in_process`` against
the instance) that is killed - SIGKILL, OOM killer, a closed laptop lid on a dying battery -
never writes its failure: the instance shows it STARTED forever and no failure alert fires.
(Runs launched by ``dagster dev``'s code server are covered by the server itself.)

Such runs carry :data:`RUN_PROCESS_TAG` = ``<host>:<pid>:<process start>``. The
``orphaned_run_sensor`` looks at STARTED runs with the tag on this host and, when that process
no longer exists (or the pid now belongs to another process), reports the run failed with an
engine event saying why. The alert router then sends it like any other failed run.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

RUN_PROCESS_TAG = "lakehouse/run_process"
ORPHANED_RUN_SENSOR = "orphaned_run_sensor"


@dataclass(frozen=True)
class RunProcess:
    """The process a run executes in: host, pid and its start time (guards pid reuse)."""

    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> RunProcess:
        pid = os.getpid()
        return cls(socket.gethostname(), pid, process_start_time(pid) or "")

    @classmethod
    def parse(cls, tag: str) -> RunProcess | None:
        parts = tag.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        host, pid, started = parts
        return cls(host, int(pid), started)

    def tag(self) -> str:
        return f"{self.host}:{self.pid}:{self.started}"

    def is_gone(self) -> bool:
        """The process no longer runs (or its pid now belongs to a later process)."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # exists, owned by someone else
        return bool(self.started) and process_start_time(self.pid) != self.started


def process_start_time(pid: int) -> str | None:
    """When ``pid`` started, in clock ticks since boot (Linux ``/proc``); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # Field 22; the command name (field 2) may hold spaces, so count from its ')'.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def fail_orphaned_runs(instance: DagsterInstance, host: str | None = None) -> list[str]:
    """Report every STARTED run of this host whose process is gone as failed; their ids."""
    host = host or socket.gethostname()
    failed = []
    for run in instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        process = RunProcess.parse(run.tags.get(RUN_PROCESS_TAG, ""))
        if process is None or process.host != host or not process.is_gone():
            continue
        instance.report_engine_event(
            f"the run's process (pid {process.pid} on {process.host}) is gone: it was killed "
            "before it could record its end; marking the run failed",
            run,
        )
        instance.report_run_failed(run)
        failed.append(run.run_id)
    return failed


def orphaned_run_sensor(interval_seconds: int = 60):  # type: ignore[no-untyped-def]
    """The daemon's check for runs killed without recording their end (running by default)."""

    @sensor(
        name=ORPHANED_RUN_SENSOR,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description=(
            "Marks STARTED runs whose process was killed as failed, so they alert like any "
            "failed run (runs executed in-process by the lakehouse CLI)."
        ),
    )
    def _orphaned_runs(context: SensorEvaluationContext) -> SkipReason:
        failed = fail_orphaned_runs(context.instance)
        if failed:
            return SkipReason(f"marked {len(failed)} killed runs failed: {', '.join(failed)}")
        return SkipReason("no killed run")

    return _orphaned_runs
