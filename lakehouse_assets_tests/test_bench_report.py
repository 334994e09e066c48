"""The benchmark report: every figure comes from the results files (no Spark)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def end_to_end_result(scale_factor: float, project_s: float, plain_s: float) -> dict:
    return {
        "benchmark": "end_to_end",
        "scale_factor": scale_factor,
        "dates": 2406,
        "project": {
            "seconds": project_s,
            "step_seconds": {"bronze_orders": project_s * 0.6, "fact_sales": project_s * 0.1},
            "check_seconds_by_function": {"table_checks.unique_key_check": project_s * 0.2},
            "peak_rss_bytes": {"driver_jvm": 3 * 2**30, "python": 2**29},
        },
        "plain": {"seconds": plain_s},
        "ratio": project_s / plain_s,
        "fact_build": {
            "project_steps_s": 20.0,
            "spark_plain": {"seconds": 12.0, "fact_sales_rows": 600, "fact_sales_net": "10.50"},
            "duckdb": {"seconds": 3.0, "fact_sales_rows": 600, "fact_sales_net": "10.50"},
        },
        "rows": {"gold.fact_sales": 600_572},
        "conditions": "with another benchmark process",
        "machine": {"cpus": 2, "cpu_model": "Test CPU", "memory_gib": 24.0},
        "measured_at": f"2026-11-23T0{int(scale_factor)}:00:00+00:00",
    }


def one_day_runs(total: float, features: float) -> list[dict]:
    steps = {"bronze_orders": 10.0, "silver_orders": 5.0, "customer_features": features}
    return [{"seconds": total, "step_seconds": steps} for _ in range(2)]


def incremental_result() -> dict:
    return {
        "benchmark": "incremental",
        "scale_factor": 0.1,
        "job": "lakehouse_daily_job",
        "points": [
            {
                "history_days": h,
                "history_build": {"seconds": 100.0 * h},
                "one_day_runs": one_day_runs(total, features),
                "one_day_median_s": total,
            }
            for h, total, features in ((10, 40.0, 4.0), (100, 44.0, 8.0), (1000, 60.0, 24.0))
        ],
    }


@pytest.fixture
def results_dir(tmp_path: Path) -> Path:
    results = tmp_path / "results"
    results.mkdir()
    files = {
        "end_to_end_sf0.1": end_to_end_result(0.1, 300.0, 100.0),
        "end_to_end_sf1.0": end_to_end_result(1.0, 1250.0, 1000.0),
        "incremental": incremental_result(),
        "backfill": {
            "days": 30,
            "scale_factor": 0.1,
            "single_run": {"seconds": 120.0},
            "daily_runs_seconds": [40.0] * 30,
            "daily_runs_total_s": 1200.0,
            "ratio": 10.0,
            "same_tables": True,
        },
    }
    empty_run = {"seconds": 90.0, "step_seconds": {"silver_customers": 9.0}, "check_seconds": 30.0}
    files["overheads"] = {
        "definitions_load": {"import_and_load_median_s": 9.9, "process_wall_median_s": 11.0},
        "empty_partition": {
            "runs": [empty_run],
            "median_s": 90.0,
            "steps": 27,
            "check_evaluations": 83,
            "noop_same_shape_s": 2.2,
        },
    }
    files["dagster_alone"] = {
        "steps": 2,
        "check_evaluations": 1,
        "dates": 2406,
        "seconds": 50.0,
        "with_table_metadata_s": 70.0,
    }
    # Measured apart on a quiet machine: preferred to the figure inside overheads.json.
    files["definitions_load"] = {
        "definitions_load": {"import_and_load_median_s": 2.8, "process_wall_median_s": 3.9}
    }
    for name, content in files.items():
        (results / f"{name}.json").write_text(json.dumps(content))
    return results


def test_step_growth_names_the_step_whose_cost_grows_with_history() -> None:
    growth = report.step_growth(incremental_result()["points"])

    assert growth[0]["step"] == "customer_features"  # largest increase first
    assert growth[0]["ratio"] == pytest.approx(6.0)
    assert growth[0]["grows"]
    assert not any(g["grows"] for g in growth if g["step"] != "customer_features")
    assert report.history_ratio(incremental_result()["points"]) == pytest.approx(1.5)


def test_report_is_generated_from_the_results_with_verdicts_and_plots(
    results_dir: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"

    page = report.write_report(results_dir, docs).read_text()

    assert "| end to end, SF 0.1 (2,406 dates, one run) | 3.00x the plain script | <= 1.3x " in page
    assert "**not met**" in page.split("SF 0.1 (2,406")[1].splitlines()[0]
    assert (
        "| end to end, SF 1 (2,406 dates, one run) | 1.25x the plain script | <= 1.3x | met |"
        in page
    )
    assert "1.50x | <= 1.2x | **not met**" in page  # one-day cost 60 s on 1,000 days vs 40 s on 10
    assert "| customer_features | 4.0 s | 24.0 s | 6.00x | **yes**: by design today" in page
    assert "The one-day runs cost **10.0x** the single run" in page
    assert "| 1 | 20.0 s | 12.0 s | 3.0 s | 4.0x | yes |" in page  # DuckDB beside Spark
    assert "- SF 1: every table both write has the same row count in both." in page
    assert "- SF 1, measured: with another benchmark process." in page
    # 1250 s wall, steps 0.6 + 0.1 of it: 375 s outside the steps.
    assert "| 250.0 s (20%) | 375.0 s (30%) |" in page
    assert "2,406 dates as one run) takes 50.0 s; 70.0 s when every event carries" in page
    # (300 - 70) / 100 and (1250 - 70) / 1000
    assert "plain script: **2.30x** at SF 0.1, **1.18x** at SF 1." in page
    assert "Test CPU, 2 cores; memory 24.0 GiB" in page
    assert "| `end_to_end_sf1.0.json` | 2026-11-23T01:00:00+00:00 | with another benchmark" in page
    assert "| `incremental.json` | ? | alone |" in page
    assert "every definition, median of 5) | 2.8 s |" in page
    assert "| of which Dagster alone (same run shape, no-op assets) | 2.2 s |" in page
    assert "| silver_customers | 9.0 s | 10% |" in page
    for image in ("img/bench_time_vs_scale.png", "img/bench_one_day_vs_history.png"):
        assert f"]({image})" in page
        assert (docs / image).read_bytes().startswith(PNG_SIGNATURE)


def test_report_without_results_says_how_to_produce_them(tmp_path: Path) -> None:
    empty = tmp_path / "results"
    empty.mkdir()

    page = report.write_report(empty, tmp_path / "docs").read_text()

    assert page.count("Not measured yet: `make bench-all`.") == 4
    assert "![" not in page


def test_backfill_sentence_names_the_tables_the_two_lakehouses_disagree_on() -> None:
    rows = {"gold.fact_sales": 600, "silver.customers": 50, "features.customer_features": 70}
    same = {
        "same_tables": True,
        "rows_single_run": rows,
        "rows_daily_runs": rows,
        "differing_rows": dict.fromkeys(rows, 0),
    }
    different = {
        **same,
        "same_tables": False,
        "rows_daily_runs": {**rows, "features.customer_features": -1},
        "differing_rows": {
            **same["differing_rows"],
            "silver.customers": 4,
            "features.customer_features": -1,
        },
    }

    assert "same rows in features.customer_features, gold.fact_sales, silver.customers" in (
        report.backfill_tables_sentence(same)
    )
    assert report.backfill_tables_sentence(different) == (
        "The lakehouses end **different**: features.customer_features (missing), "
        "silver.customers (4 rows differ)."
    )
