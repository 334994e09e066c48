"""What every lakehouse benchmark shares: landed TPC-H, settings, timed Dagster runs, memory.

Runs are in-process (``execute_in_process``) in the benchmark's own interpreter, so every run
shares one Spark JVM, as the steps of a local run do. Timings are wall-clock seconds; per-step
durations come from Dagster's own ``STEP_SUCCESS`` events.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from check_timer import CheckTimer
    from dagster import Definitions
    from pyspark.sql import SparkSession

    from lakehouse_assets.settings import LakehouseSettings

DEFAULT_WORKDIR = Path.home() / ".cache" / "lakehouse_bench"
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def tpch_dir(workdir: Path, scale_factor: float) -> Path:
    """TPC-H tables generated once per scale factor and cached in ``workdir``."""
    from lakehouse_assets.sample_data import generate_tpch

    return generate_tpch(scale_factor, workdir / f"sf{scale_factor}" / "tpch")


def land_days(tpch: Path, landing: Path, first: dt.date, last: dt.date) -> Path:
    """Land ``first..last`` into ``landing`` (files already there are left alone)."""
    from lakehouse_assets.sample_data import land_tpch

    land_tpch(tpch, landing, first, last)
    return landing


def settings_for(root: Path, landing: Path) -> LakehouseSettings:
    """Local settings writing every table under ``root`` and reading files from ``landing``."""
    from lakehouse_assets.settings import LakehouseSettings

    return LakehouseSettings("local", str(root), str(landing), str(root / "_checkpoints"), "dev")


def spark_session(settings: LakehouseSettings) -> SparkSession:
    """The benchmark's one Spark session, built the way the resources build it."""
    from lakehouse_assets.resources import build_resources

    return build_resources(settings)["spark"].get_session()


def definitions_with_job(settings: LakehouseSettings, name: str, groups: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """The project's Definitions plus one partitioned job over ``groups`` (freshness excluded).

    The freshness SLA checks judge wall-clock age, so no run includes them (as in the
    project's own jobs).
    """
    from dagster import AssetSelection, Definitions, define_asset_job

    from lakehouse_assets.definitions import build_definitions
    from lakehouse_assets.operations.freshness_checks import freshness_check_keys
    from lakehouse_assets.partitions import daily_partitions

    defs = build_definitions(settings)
    selection = (
        AssetSelection.groups(*groups).materializable()
        - AssetSelection.assets("pipeline_runs")
        - AssetSelection.checks(*freshness_check_keys(defs.assets or []))
    )
    job = define_asset_job(name, selection=selection, partitions_def=daily_partitions)
    return Definitions.merge(defs, Definitions(jobs=[job]))


@dataclass
class TimedRun:
    """One Dagster run: wall time, per-step durations and the checks that did not pass."""

    first: dt.date
    last: dt.date
    seconds: float
    step_seconds: dict[str, float] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    check_evaluations: int = 0
    check_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "seconds": round(self.seconds, 3),
            "step_seconds": {k: round(v, 3) for k, v in self.step_seconds.items()},
            "failed_checks": self.failed_checks,
            "check_evaluations": self.check_evaluations,
            "check_seconds": None if self.check_seconds is None else round(self.check_seconds, 3),
        }


def run_job(
    defs: Definitions, job_name: str, first: dt.date, last: dt.date, timer: CheckTimer | None = None
) -> TimedRun:
    """Run ``job_name`` for ``first..last`` as one run (a single-run backfill) and time it.

    With an installed ``timer``, the run's time inside quality checks is recorded too.
    """
    job = defs.resolve_job_def(job_name)
    if timer is not None:
        timer.reset()
    started = time.perf_counter()
    result = job.execute_in_process(
        run_config=QUIET_RUN_CONFIG,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
        raise_on_error=True,
    )
    seconds = time.perf_counter() - started
    steps = {
        e.step_key: e.event_specific_data.duration_ms / 1000
        for e in result.all_events
        if e.event_type_value == "STEP_SUCCESS"
    }
    checks = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    failed = sorted(
        f"{c.asset_key.to_user_string()}:{c.check_name}" for c in checks if not c.passed
    )
    check_seconds = timer.total if timer is not None else None
    return TimedRun(first, last, seconds, steps, failed, len(checks), check_seconds)


def table_like_metadata(columns: int = 16) -> dict[str, Any]:
    """Metadata shaped like the project's materializations (see ``storage/metadata.py``).

    A column schema, counts, a Delta version and operation metrics, without reading a table:
    what each of a range run's per-partition events carries.
    """
    from dagster import MetadataValue, TableColumn, TableSchema

    schema = TableSchema(
        columns=[
            TableColumn(name=f"column_{i}", type="string", description=f"Column {i}.")
            for i in range(columns)
        ]
    )
    return {
        "dagster/table_name": "layer.table",
        "table_location": "/lakehouse/layer/table",
        "dagster/row_count": 600_572,
        "delta_version": 42,
        "dagster/column_schema": schema,
        "partition": "1992-01-01..1998-08-02",
        "dagster/partition_row_count": 600_572,
        "delta_operation": "WRITE",
        "rows_written": 600_572,
        "delta_operation_metrics": MetadataValue.json({f"metric_{i}": i for i in range(8)}),
    }


def noop_run_seconds(
    first: dt.date,
    last: dt.date,
    assets: int,
    checks: int,
    metadata: dict[str, Any] | None = None,
    whole_tables: int = 0,
) -> float:
    """A run of ``assets`` no-op assets with ``checks`` checks in all, for the range; the last
    ``whole_tables`` of them unpartitioned (as the project's dimensions and knowledge base).

    What Dagster alone costs for a run of that shape: planning, a step per asset, a planned and
    a materialization event per asset partition (one per unpartitioned asset), a check
    evaluation per check, no data. Each materialization carries ``metadata`` (default: one row
    count).
    """
    from dagster import (
        AssetCheckResult,
        AssetCheckSpec,
        AssetsDefinition,
        Definitions,
        MaterializeResult,
        asset,
        define_asset_job,
    )

    from lakehouse_assets.partitions import daily_partitions, single_run_backfill

    def noop_asset(i: int, check_count: int) -> AssetsDefinition:
        specs = [AssetCheckSpec(f"check_{c}", asset=f"noop_{i}") for c in range(check_count)]

        @asset(
            name=f"noop_{i}",
            deps=[f"noop_{i - 1}"] if i else [],
            partitions_def=None if i >= assets - whole_tables else daily_partitions,
            backfill_policy=None if i >= assets - whole_tables else single_run_backfill,
            check_specs=specs,
        )
        def _noop():  # type: ignore[no-untyped-def]  # dagster reads annotations at runtime
            results = [AssetCheckResult(check_name=c.name, passed=True) for c in specs]
            return MaterializeResult(metadata=metadata or {"rows": 0}, check_results=results)

        return _noop

    per_asset = [checks // assets + (1 if i < checks % assets else 0) for i in range(assets)]
    defs = Definitions(
        assets=[noop_asset(i, n) for i, n in enumerate(per_asset)],
        jobs=[define_asset_job("noop")],
    )
    started = time.perf_counter()
    defs.resolve_job_def("noop").execute_in_process(
        run_config=QUIET_RUN_CONFIG,
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    return time.perf_counter() - started


def definitions_load_seconds(samples: int = 5) -> dict[str, float]:
    """Median time for a fresh interpreter to import and load every definition."""
    import statistics
    import subprocess
    import sys

    probe = (
        "import time; t = time.perf_counter();"
        "import lakehouse_assets.definitions as d;"
        "d.defs.get_repository_def().load_all_definitions();"
        "print(time.perf_counter() - t)"
    )
    inner, outer = [], []
    for _ in range(samples):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", probe],
            capture_output=True,
            text=True,
            check=True,
        )
        outer.append(time.perf_counter() - started)
        inner.append(float(out.stdout.strip().splitlines()[-1]))
    return {
        "import_and_load_median_s": statistics.median(inner),
        "process_wall_median_s": statistics.median(outer),
    }


def jvm_pid(spark: SparkSession) -> int:
    """The process id of the Spark driver JVM (local mode: the whole engine)."""
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())  # type: ignore[union-attr]


def peak_rss_bytes(pid: int | str = "self") -> int:
    """The process's peak resident set size (``VmHWM``) since start or the last reset."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


def reset_peak_rss(pid: int | str = "self") -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ``clear_refs`` 5); False where not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
