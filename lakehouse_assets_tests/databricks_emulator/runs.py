"""One-time job runs (``runs/submit``): queued, run one at a time, each task in its own process.

Life cycle as the Jobs API reports it: ``PENDING`` (cluster starting, libraries checked) ->
``RUNNING`` -> ``TERMINATED`` with ``SUCCESS`` / ``FAILED`` / ``CANCELED`` / ``TIMEDOUT``, or
``INTERNAL_ERROR`` when the cluster or its libraries fail before the task starts.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from lakehouse_assets_tests.databricks_emulator.clusters import (
    ClusterLaunchError,
    ClusterManager,
    node_environment,
    node_python,
    runtime_version,
)

TASK_RUNNER = Path(__file__).with_name("task_runner.py")
MAX_LOG_BYTES = 5 * 1024 * 1024  # get-output returns the last 5 MB of a task's stdout


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class TaskRun:
    run_id: int
    spec: dict[str, Any]
    state: dict[str, Any] = field(default_factory=lambda: _state("PENDING"))
    cluster_id: str | None = None
    start_time: int = 0
    end_time: int = 0
    folder: Path | None = None
    error: str | None = None
    error_trace: str | None = None

    @property
    def task_key(self) -> str:
        return self.spec["task_key"]

    def as_json(self) -> dict[str, Any]:
        body = {
            "run_id": self.run_id,
            "task_key": self.task_key,
            "state": self.state,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "attempt_number": 0,
            **{k: v for k, v in self.spec.items() if k != "task_key"},
        }
        if self.cluster_id:
            body["cluster_instance"] = {
                "cluster_id": self.cluster_id,
                "spark_context_id": str(abs(hash(self.cluster_id))),
            }
        return body


@dataclass
class Run:
    run_id: int
    job_id: int
    request: dict[str, Any]
    tasks: list[TaskRun]
    base_url: str
    creator: str
    state: dict[str, Any] = field(default_factory=lambda: _state("PENDING"))
    start_time: int = field(default_factory=now_ms)
    end_time: int = 0
    cancel_requested: bool = False
    process: subprocess.Popen | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "run_id": self.run_id,
            "number_in_job": self.run_id,
            "original_attempt_run_id": self.run_id,
            "creator_user_name": self.creator,
            "run_name": self.request.get("run_name") or "Untitled",
            "run_type": "SUBMIT_RUN",
            "format": "MULTI_TASK",
            "state": self.state,
            "status": _status(self.state),
            "tasks": [task.as_json() for task in self.tasks],
            "start_time": self.start_time,
            "end_time": self.end_time,
            "run_duration": (self.end_time or now_ms()) - self.start_time,
            "run_page_url": f"{self.base_url}/?o=0#job/{self.job_id}/run/{self.run_id}",
        }


def _state(life_cycle: str, result: str | None = None, message: str = "") -> dict[str, Any]:
    state: dict[str, Any] = {
        "life_cycle_state": life_cycle,
        "state_message": message,
        "user_cancelled_or_timedout": result in {"CANCELED", "TIMEDOUT"},
    }
    if result:
        state["result_state"] = result
    return state


def _status(state: dict[str, Any]) -> dict[str, Any]:
    life_cycle = state["life_cycle_state"]
    if life_cycle in {"TERMINATED", "INTERNAL_ERROR", "SKIPPED"}:
        code = state.get("result_state", "FAILED")
        return {"state": "TERMINATED", "termination_details": {"code": code}}
    return {"state": life_cycle if life_cycle in {"RUNNING", "QUEUED"} else "PENDING"}


class RunExecutor:
    """Holds runs and executes them in submission order on one worker thread."""

    def __init__(
        self,
        root: Path,
        dbfs_root: Path,
        secret_scopes: dict[str, dict[str, str]],
        volumes_root: Path,
    ):
        self.root = root
        self.dbfs_root = dbfs_root
        self.volumes_root = volumes_root
        self.secret_scopes = secret_scopes
        self.clusters = ClusterManager(root)
        self.runs: dict[int, Run] = {}
        self.task_runs: dict[int, tuple[Run, TaskRun]] = {}
        self._ids = itertools.count(1000)
        self._queue: queue.Queue[int | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idempotency: dict[str, int] = {}
        # Cleared: runs wait QUEUED, as in a workspace at its concurrent-run limit.
        self.accepting = threading.Event()
        self.accepting.set()
        self._worker = threading.Thread(target=self._work, name="emulator-runs", daemon=True)
        self._worker.start()

    def submit(self, request: dict[str, Any], base_url: str, creator: str) -> int:
        """Queue a run; a repeated ``idempotency_token`` returns the run it created before."""
        token = request.get("idempotency_token")
        with self._lock:
            if token and token in self._idempotency:
                return self._idempotency[token]
            run_id, job_id = next(self._ids), next(self._ids)
            tasks = [TaskRun(next(self._ids), dict(task)) for task in request["tasks"]]
            for task in tasks:
                task.cluster_id = task.spec.get("existing_cluster_id") or self.clusters.reserve(
                    task.spec["new_cluster"]
                )
            run = Run(run_id, job_id, request, tasks, base_url, creator)
            if not self.accepting.is_set():
                run.state = _state("QUEUED", message="Queued: the workspace is at its limit")
            self.runs[run_id] = run
            if token:
                self._idempotency[token] = run_id
            for task in tasks:
                self.task_runs[task.run_id] = (run, task)
        self._queue.put(run_id)
        return run_id

    def cancel(self, run_id: int) -> None:
        run = self.runs[run_id]
        run.cancel_requested = True
        if run.state["life_cycle_state"] == "QUEUED":
            self._finish(run, "TERMINATED", "CANCELED", "Run cancelled.")
        process = run.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        self._queue.put(None)
        self.accepting.set()
        for run in list(self.runs.values()):
            if run.state["life_cycle_state"] in {"QUEUED", "PENDING", "RUNNING"}:
                self.cancel(run.run_id)
        self._worker.join(timeout=60)
        self.clusters.shutdown()

    # -- execution --------------------------------------------------------------------------

    def _work(self) -> None:
        while (run_id := self._queue.get()) is not None:
            self.accepting.wait()
            run = self.runs[run_id]
            if run.state["life_cycle_state"] == "TERMINATED":
                continue
            run.state = _state("PENDING")
            try:
                self._execute(run)
            except Exception as error:  # the emulator must answer even if a run breaks it
                self._finish(run, "INTERNAL_ERROR", "FAILED", f"Emulator error: {error!r}")

    def _execute(self, run: Run) -> None:
        for task in run.tasks:
            if run.cancel_requested:
                self._finish(run, "TERMINATED", "CANCELED", "Run cancelled.")
                return
            failure = self._prepare(run, task)
            if failure:
                self._finish(run, "INTERNAL_ERROR", "FAILED", failure)
                return
            outcome = self._run_task(run, task)
            if outcome != "SUCCESS":
                messages = {
                    "CANCELED": "Run cancelled.",
                    "TIMEDOUT": "Run timed out.",
                    "FAILED": "Workload failed, see run output for details",
                }
                self._finish(run, "TERMINATED", outcome, messages[outcome])
                return
        self._finish(run, "TERMINATED", "SUCCESS", "")

    def _prepare(self, run: Run, task: TaskRun) -> str | None:
        """Start (or reuse) the cluster and check libraries; a message on failure."""
        spec = task.spec
        # Libraries are checked before the driver starts (a real cluster installs them once it
        # is up): the run fails the same way, without paying for a driver it never uses.
        libraries = spec.get("libraries") or []
        shadowing = _runtime_packages(libraries)
        if shadowing:
            return (
                f"Library installation failed for library due to user error for pypi "
                f'{{package: "{shadowing[0]}"}}. Error messages: the Databricks Runtime provides '
                "this package; installing it from PyPI would shadow the runtime's own."
            )
        missing = _unsatisfied_libraries(libraries)
        if missing:
            return (
                f"Library installation failed for library due to user error for pypi "
                f'{{package: "{missing[0]}"}}. Error messages: no matching distribution '
                f"on the cluster's package index."
            )
        try:
            self.clusters.acquire(task.cluster_id)
        except ClusterLaunchError as error:
            return str(error)
        return None

    def _run_task(self, run: Run, task: TaskRun) -> str:
        cluster = self.clusters.clusters[task.cluster_id]
        task.folder = self.root / "runs" / str(task.run_id)
        task.folder.mkdir(parents=True, exist_ok=True)
        python_task = task.spec["spark_python_task"]
        python = node_python(task.folder)
        env = node_environment(
            python,
            {
                "DATABRICKS_RUNTIME_VERSION": runtime_version(cluster.spec["spark_version"]),
                "PYSPARK_GATEWAY_PORT": str(cluster.gateway["port"]),
                "PYSPARK_GATEWAY_SECRET": cluster.gateway["secret"],
                "EMULATOR_TASK": json.dumps(
                    {
                        "dbfs_root": str(self.dbfs_root),
                        "volumes_root": str(self.volumes_root),
                        "python_file": python_task["python_file"],
                        "parameters": python_task.get("parameters") or [],
                        "secret_scopes": self.secret_scopes,
                    }
                ),
                **(cluster.spec.get("spark_env_vars") or {}),
            },
        )
        task.start_time = now_ms()
        task.state = run.state = _state("RUNNING", message="In run")
        timeout = run.request.get("timeout_seconds") or task.spec.get("timeout_seconds") or 0
        with (task.folder / "stdout").open("wb") as out, (task.folder / "stderr").open("wb") as err:
            run.process = subprocess.Popen(
                [python, str(TASK_RUNNER)],
                stdout=out,
                stderr=err,
                env=env,
                cwd=task.folder,
                start_new_session=True,
            )
            outcome = self._wait(run, timeout)
        run.process = None
        task.end_time = now_ms()
        if outcome == "FAILED":
            task.error, task.error_trace = _error_from(task.folder / "stderr")
        task.state = _state("TERMINATED", outcome)
        return outcome

    def _wait(self, run: Run, timeout: int) -> str:
        started = time.monotonic()
        while True:
            try:
                code = run.process.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if timeout and time.monotonic() - started > timeout:
                    os.killpg(run.process.pid, signal.SIGKILL)
                    run.process.wait()
                    return "TIMEDOUT"
        if run.cancel_requested:
            return "CANCELED"
        return "SUCCESS" if code == 0 else "FAILED"

    def _finish(self, run: Run, life_cycle: str, result: str, message: str) -> None:
        run.end_time = now_ms()
        run.state = _state(life_cycle, result, message)
        for task in run.tasks:
            if task.state["life_cycle_state"] in {"QUEUED", "PENDING", "RUNNING"}:
                task.state = _state(life_cycle, result, message)

    # -- output -----------------------------------------------------------------------------

    def output(self, task_run_id: int) -> dict[str, Any]:
        run, task = self.task_runs[task_run_id]
        body: dict[str, Any] = {"metadata": task.as_json() | {"job_id": run.job_id}}
        if task.folder is not None and (task.folder / "stdout").exists():
            data = (task.folder / "stdout").read_bytes()
            body["logs"] = data[-MAX_LOG_BYTES:].decode(errors="replace")
            body["logs_truncated"] = len(data) > MAX_LOG_BYTES
        if task.error:
            body["error"] = task.error
            body["error_trace"] = task.error_trace
        return body


# What a runtime ships and a cluster library must not replace (a pip-installed pyspark breaks
# the runtime's Spark).
RUNTIME_PACKAGES = frozenset({"pyspark", "delta-spark"})


def _runtime_packages(libraries: list[dict[str, Any]]) -> list[str]:
    """PyPI libraries that would replace a package the runtime provides."""
    packages = [(library.get("pypi") or {}).get("package") or "" for library in libraries]
    return [p for p in packages if p.partition("==")[0].strip().lower() in RUNTIME_PACKAGES]


def _unsatisfied_libraries(libraries: list[dict[str, Any]]) -> list[str]:
    """PyPI requirements ``name==version`` the cluster's Python environment cannot satisfy."""
    missing = []
    for library in libraries:
        package = (library.get("pypi") or {}).get("package")
        if not package:
            continue
        name, _, wanted = package.partition("==")
        try:
            installed = version(name.strip())
        except PackageNotFoundError:
            missing.append(package)
            continue
        if wanted and installed != wanted.strip():
            missing.append(package)
    return missing


def _error_from(stderr: Path) -> tuple[str, str]:
    """The last traceback of a failed task, and its final line (the exception)."""
    text = stderr.read_text(errors="replace")
    start = text.rfind("Traceback (most recent call last):")
    trace = text[start:] if start >= 0 else text[-4000:]
    lines = [line for line in trace.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "Task failed without output"), trace
