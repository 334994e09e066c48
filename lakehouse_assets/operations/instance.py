"""The Dagster instance the live loop needs, written as ``$DAGSTER_HOME/dagster.yaml``.

``make dev`` / ``make demo`` / ``make live`` write it (``lakehouse instance``); an existing file
is left alone unless ``--force``, so a team's own settings survive. What it sets and why:

* **run queue + pools at run granularity**: every step that writes lakehouse tables is in
  the ``lakehouse_tables`` pool (``asset_factory.TABLE_WRITERS_POOL``) with one slot, so two
  runs that write the same Delta tables (the dead-letter queue, the file ledger, dq_metrics)
  never run together, whoever launched them; the monitoring writers have their own pools.
  ``max_concurrent_runs`` caps the Spark JVMs a laptop starts at once.
* **tick retention**: sensor ticks are frequent (every 30 s); skipped ones go after a week.
* **run monitoring**: a run whose worker died is marked failed instead of hanging the queue.
* **telemetry off**, **threaded sensors/schedules** (one slow sensor does not delay the rest).

Production (docs/deploy.md) keeps the same limits on Postgres storage.
"""

from __future__ import annotations

from pathlib import Path


def instance_yaml(max_concurrent_runs: int = 3, storage: str | None = None) -> str:
    """The ``dagster.yaml`` text (``storage``: an extra YAML block, e.g. Postgres)."""
    if max_concurrent_runs < 1:
        raise ValueError("max_concurrent_runs must be at least 1")
    return (
        "# Written by `lakehouse instance` (lakehouse_assets/operations/instance.py).\n"
        + (storage.rstrip() + "\n" if storage else "")
        + f"""concurrency:
  runs:
    max_concurrent_runs: {max_concurrent_runs}
  pools:
    # A run waits in the queue until every pool its steps use has a free slot.
    granularity: run
    default_limit: 1
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
run_monitoring:
  enabled: true
  start_timeout_seconds: 300
  poll_interval_seconds: 30
retention:
  schedule:
    purge_after_days: 90
  sensor:
    purge_after_days:
      skipped: 7
      failure: 30
      success: 30
  auto_materialize:
    purge_after_days:
      skipped: 7
      failure: 30
      success: 30
sensors:
  use_threads: true
  num_workers: 4
schedules:
  use_threads: true
  num_workers: 2
telemetry:
  enabled: false
"""
    )


# Every pool the project's steps use, with its slots. Set explicitly, not left to
# ``default_limit``: the run queue only limits a pool whose limit is recorded in the instance,
# and two runs queued in the same tick would otherwise both start.
POOL_LIMITS = {"lakehouse_tables": 1, "monitoring_sla_metrics": 1, "monitoring_pipeline_runs": 1}


def write_instance_config(dagster_home: Path, *, force: bool = False) -> bool:
    """Write ``dagster.yaml`` into ``dagster_home`` (False if one exists and not ``force``)
    and record the pools' limits in the instance."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    written = force or not target.exists()
    if written:
        target.write_text(instance_yaml())
    set_pool_limits(dagster_home)
    return written


def set_pool_limits(dagster_home: Path) -> None:
    """Record :data:`POOL_LIMITS` in the instance at ``dagster_home`` (idempotent)."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        for pool, slots in POOL_LIMITS.items():
            instance.event_log_storage.set_concurrency_slots(pool, slots)
