"""monitoring.pipeline_runs and the structured JSON logs, from real runs."""

from __future__ import annotations

import datetime as dt
import json

from dagster import DagsterInstance

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.monitoring.tables import PIPELINE_RUNS
from lakehouse_assets.storage import DeltaTableStore, PathLocator

from .lakehouse import materialize_day, settings_for
from .landing_files import jsonl, land, order

GOOD_DAY, MISSING_DAY = dt.date(1992, 1, 2), dt.date(1992, 1, 3)


def test_pipeline_runs_records_every_run_and_asset_partition(spark, tmp_path, capfd):
    settings = settings_for(tmp_path / "lh")
    day = GOOD_DAY.isoformat()
    land(
        tmp_path / "lh" / "landing", "orders", day, "o.jsonl",
        jsonl(order(1, day), order(2, day), "{broken"),
    )  # fmt: skip
    instance = DagsterInstance.ephemeral()
    ok = materialize_day(settings, GOOD_DAY, selection="bronze_orders", instance=instance)
    failed = materialize_day(
        settings, MISSING_DAY, selection="bronze_orders", instance=instance, raise_on_error=False
    )
    job = build_definitions(settings).resolve_job_def("pipeline_runs_job")
    capfd.readouterr()
    first = job.execute_in_process(instance=instance)
    second = job.execute_in_process(instance=instance)

    store = DeltaTableStore(spark, PathLocator(settings.root))
    rows = {(r.run_id, r.asset): r for r in store.read(PIPELINE_RUNS).collect()}
    good = rows[(ok.run_id, "bronze_orders")]
    assert (good.status, good.partition, good.pipeline_name) == (
        "SUCCESS",
        day,
        "__ephemeral_asset_job__",
    )
    assert (good.rows_read, good.rows_written) == (3, 2)  # one line dead-lettered
    assert good.duration_seconds > 0 and good.end_time >= good.start_time
    assert good.error_message is None
    bad = rows[(failed.run_id, "bronze_orders")]
    assert (bad.status, bad.partition) == ("FAILED", MISSING_DAY.isoformat())
    assert "no orders file landed for 1992-01-03" in bad.error_message
    # The first refresh saw itself running; the second MERGEd its final state, no duplicate.
    assert rows[(first.run_id, "pipeline_runs")].status == "SUCCESS"
    assert rows[(second.run_id, "pipeline_runs")].status == "RUNNING"
    assert len(rows) == store.read(PIPELINE_RUNS).count() == 4

    lines = [json.loads(x) for x in capfd.readouterr().err.splitlines() if x.startswith("{")]
    step_lines = [x for x in lines if x.get("step") == "pipeline_runs"]
    assert step_lines, "the run logged JSON lines for its step"
    for line in step_lines:
        assert line["run_id"] in (first.run_id, second.run_id)
        assert line["trace_id"] == line["run_id"]
        assert line["asset"] == "pipeline_runs" and line["level"]
    assert any(x.get("event_type") == "ASSET_MATERIALIZATION" for x in step_lines)
