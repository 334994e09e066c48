"""``docs/benchmarks.md`` and its plots, generated from ``bench/results/*.json``.

    python bench/report.py          # regenerate after any benchmark

Every figure in the page comes from a results file; nothing is typed in by hand. Sections whose
results file is missing say so and name the command that produces it.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = Path(__file__).resolve().parent.parent / "docs"
REPRODUCE = "make bench-all"
E2E_TARGET = 1.3
GROWTH_TARGET = 1.2
GROWTH_REPORTED = 1.5  # steps whose one-day cost grows more than this are named
MIN_ADDED_SECONDS = 2.0  # run-to-run noise of a step on 2 cores is about a second

Results = dict[str, dict[str, Any]]

BRONZE_LISTING = (
    "the file stream lists every landed file of the source (one folder per day) to find the "
    "new ones, and its file log grows with them"
)
# Why a step's one-day cost depends on history, from reading its code. Shown for steps the
# measurement marks as growing; a growing step without an entry is flagged as unexplained.
GROWTH_REASONS = {
    "customer_features": (
        "by design today: lifetime features (total orders, lifetime value, last purchase) of "
        "one snapshot aggregate every order up to the as-of date, so the step scans all of "
        "fact_orders' history. Fix: derive the day from the previous snapshot plus the day's "
        "orders (the 30/90-day counts need only the last 90 days)"
    ),
    "silver_customers": (
        "measured before 2026-12-06, when it rebuilt each touched customer from a scan of the "
        "whole bronze customer_events table; it now reads the window and the touched keys "
        "only (see the silver_customers section below)"
    ),
    "bronze_orders": BRONZE_LISTING,
    "bronze_lineitem": BRONZE_LISTING,
    "bronze_customer_events": BRONZE_LISTING,
    "feature_drift": "reads the previous snapshot, which grows with the customer base",
    "dim_customer": "whole-table overwrite from customer_history: grows with customer versions",
    "fact_orders": "resolves customer versions against the whole dim_customer",
    "agg_daily_sales": "joins the whole dim_customer and dim_geography",
    "data_dictionary": "profiles every table, so it grows with every table's size",
}


def load_results(results_dir: Path = RESULTS) -> Results:
    """Every results file by name (``end_to_end_sf1.0``, ``incremental``, ...)."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))}


def end_to_end_runs(results: Results) -> list[dict[str, Any]]:
    """The end-to-end results, smallest scale factor first."""
    runs = [r for name, r in results.items() if name.startswith("end_to_end_sf")]
    return sorted(runs, key=lambda r: r["scale_factor"])


def step_growth(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per step: median one-day seconds at the smallest and largest history, and their ratio.

    Sorted by the seconds added, so the table a reader sees first is the one that costs most.
    """
    if len(points) < 2:
        return []
    small, large = points[0], points[-1]

    def medians(point: dict[str, Any]) -> dict[str, float]:
        runs = [r["step_seconds"] for r in point["one_day_runs"]]
        steps = {s for r in runs for s in r}
        return {s: statistics.median(r.get(s, 0.0) for r in runs) for s in steps}

    before, after = medians(small), medians(large)
    rows = []
    for step in sorted(set(before) | set(after)):
        a, b = before.get(step, 0.0), after.get(step, 0.0)
        rows.append(
            {
                "step": step,
                "small_s": a,
                "large_s": b,
                "added_s": b - a,
                "ratio": b / a if a else None,
                "grows": b - a >= MIN_ADDED_SECONDS and (not a or b / a > GROWTH_REPORTED),
            }
        )
    return sorted(rows, key=lambda r: r["added_s"], reverse=True)


def history_ratio(points: list[dict[str, Any]]) -> float | None:
    """One-day cost at the largest history over the cost at the smallest."""
    if len(points) < 2:
        return None
    return points[-1]["one_day_median_s"] / points[0]["one_day_median_s"]


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= target else "**not met**"


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} s"


def mib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.0f} MiB"


def table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def conditions_section(results: Results) -> list[str]:
    """When each results file was measured, and under what load (``--conditions``)."""
    rows = [
        [f"`{name}.json`", r.get("measured_at", "?"), r.get("conditions", "alone")]
        for name, r in results.items()
    ]
    return [
        "### When and how each figure was measured",
        "",
        *table(["results", "measured", "conditions"], rows),
    ]


def machine_section(results: Results) -> list[str]:
    newest = max(results.values(), key=lambda r: r.get("measured_at", ""), default={})
    machine = newest.get("machine", {})
    packages = ", ".join(f"{k} {v}" for k, v in machine.get("packages", {}).items())
    return [
        "## Machine",
        "",
        f"- CPU: {machine.get('cpu_model', '?')}, {machine.get('cpus', '?')} cores; "
        f"memory {machine.get('memory_gib', '?')} GiB",
        f"- {machine.get('platform', '?')}; Python {machine.get('python', '?')}; "
        f"{machine.get('java', 'Java ?')}",
        f"- {packages}" if packages else "- package versions not recorded",
        f"- latest figures measured {newest.get('measured_at', '?')}",
        "",
    ]


def summary_section(results: Results) -> list[str]:
    rows = [
        [
            f"end to end, SF {r['scale_factor']:g} ({r['dates']:,} dates, one run)",
            f"{r['ratio']:.2f}x the plain script",
            f"<= {E2E_TARGET}x",
            verdict(r["ratio"], E2E_TARGET),
        ]
        for r in end_to_end_runs(results)
    ]
    incremental = results.get("incremental")
    if incremental:
        points = incremental["points"]
        ratio = history_ratio(points)
        rows.append(
            [
                f"one new day, {points[-1]['history_days']:,} vs {points[0]['history_days']:,} "
                "days of history",
                "-" if ratio is None else f"{ratio:.2f}x",
                f"<= {GROWTH_TARGET}x",
                verdict(ratio, GROWTH_TARGET),
            ]
        )
    backfill = results.get("backfill")
    if backfill:
        rows.append(
            [
                f"{backfill['days']} one-day runs vs one {backfill['days']}-day run",
                f"{backfill['ratio']:.1f}x",
                "(no target)",
                "",
            ]
        )
    return ["## Summary", "", *table(["measure", "result", "target", ""], rows)]


def outside_steps(project_run: dict[str, Any]) -> float:
    """Wall time of a run outside every step: planning, step launches, events between steps."""
    return project_run["seconds"] - sum(project_run["step_seconds"].values())


def dagster_alone_lines(alone: dict[str, Any] | None, runs: list[dict[str, Any]]) -> list[str]:
    """Dagster's own cost for a run of the end-to-end shape, and each ratio without it."""
    if not alone:
        return []
    metadata_s = alone.get("with_table_metadata_s")
    dagster_s = metadata_s if metadata_s is not None else alone["seconds"]
    without = ", ".join(
        f"**{(r['project']['seconds'] - dagster_s) / r['plain']['seconds']:.2f}x** at SF "
        f"{r['scale_factor']:g}"
        for r in runs
    )
    return [
        f"- Dagster alone: a run of the same shape with no-op assets ({alone['steps']} steps, "
        f"{alone['check_evaluations']} check evaluations, {alone['dates']:,} dates as one run) "
        f"takes {seconds(alone['seconds'])}"
        + (
            f"; {seconds(metadata_s)} when every event carries metadata shaped like the "
            "project's (column schema, counts, Delta version)"
            if metadata_s is not None
            else ""
        )
        + ". It is paid per asset per date: one materialization event each.",
        f"- The project less that Dagster run, against the plain script: {without}.",
    ]


def end_to_end_section(results: Results, plot: str | None) -> list[str]:
    runs = end_to_end_runs(results)
    lines = ["## End to end: bronze -> silver -> gold, all dates as one run", ""]
    if not runs:
        return [*lines, f"Not measured yet: `{REPRODUCE}`.", ""]
    lines += [
        "The project: one Dagster run of every bronze, silver and gold asset and check over all "
        "TPC-H order dates (what a single-run backfill from the UI does). The baseline: "
        "`bench/plain_lakehouse.py`, the same transformation functions written with plain "
        "PySpark + Delta writes, no streams, checks, metadata or Dagster. Same Spark session, "
        "after a warm-up of both on one week.",
        "",
    ]
    rows = []
    for r in runs:
        project = r["project"]
        checks = sum(project.get("check_seconds_by_function", {}).values())
        outside = outside_steps(project)
        rows.append(
            [
                f"{r['scale_factor']:g}",
                f"{r['dates']:,}",
                f"{r['rows'].get('gold.fact_sales', 0):,}",
                seconds(project["seconds"]),
                seconds(r["plain"]["seconds"]),
                f"**{r['ratio']:.2f}x**",
                f"{seconds(checks)} ({checks / project['seconds']:.0%})",
                f"{seconds(outside)} ({outside / project['seconds']:.0%})",
                mib(project["peak_rss_bytes"].get("driver_jvm")),
                mib(project["peak_rss_bytes"].get("python")),
            ]
        )
    lines += table(
        [
            "SF",
            "dates",
            "fact_sales rows",
            "project",
            "plain script",
            "ratio",
            "in quality checks",
            "outside the steps (Dagster)",
            "driver JVM peak RSS",
            "Python peak RSS",
        ],
        rows,
    )
    for r in runs:
        differing = r.get("rows_differing_from_plain", {})
        lines.append(
            f"- SF {r['scale_factor']:g}: every table both write has the same row count in both."
            if not differing
            else f"- SF {r['scale_factor']:g}: row counts differ (plain, project): {differing}"
        )
        if r.get("conditions", "alone") != "alone":
            lines.append(f"- SF {r['scale_factor']:g}, measured: {r['conditions']}.")
    lines += dagster_alone_lines(results.get("dagster_alone"), runs)
    lines.append("")
    if plot:
        lines += [f"![time vs scale factor]({plot})", ""]
    largest = runs[-1]
    lines += slowest_steps(
        f"Where the project's time goes at SF {largest['scale_factor']:g} "
        "(Dagster step durations):",
        largest["project"],
    )
    return lines + fact_build_section(runs)


def slowest_steps(title: str, run: dict[str, Any], count: int = 8) -> list[str]:
    """The ``count`` longest steps of ``run`` with their share of its wall time."""
    steps = sorted(run["step_seconds"].items(), key=lambda kv: kv[1], reverse=True)
    rows = [[step, seconds(s), f"{s / run['seconds']:.0%}"] for step, s in steps[:count]]
    return [title, "", *table(["step", "seconds", "share of run"], rows)]


def fact_build_section(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "### Reference engine: the fact build in DuckDB",
        "",
        "fact_orders + fact_sales (customer version as of each order date, surrogate keys, "
        "amounts) from the same silver and dimension Parquet files (the tables' current Delta "
        "snapshots), written partitioned by order date. Both engines' outputs are compared by "
        "row count and net amount.",
        "",
    ]
    rows = []
    for r in runs:
        facts = r.get("fact_build")
        if not facts:
            continue
        spark, duck = facts["spark_plain"], facts["duckdb"]
        same = (spark["fact_sales_rows"], spark["fact_sales_net"]) == (
            duck["fact_sales_rows"],
            duck["fact_sales_net"],
        )
        rows.append(
            [
                f"{r['scale_factor']:g}",
                seconds(facts["project_steps_s"]),
                seconds(spark["seconds"]),
                seconds(duck["seconds"]),
                f"{spark['seconds'] / duck['seconds']:.1f}x",
                "yes" if same else f"NO ({spark['fact_sales_net']} vs {duck['fact_sales_net']})",
            ]
        )
    return lines + table(
        [
            "SF",
            "project steps (with checks)",
            "plain Spark",
            "DuckDB",
            "Spark / DuckDB",
            "same rows and net",
        ],
        rows,
    )


def incremental_section(results: Results, plot: str | None) -> list[str]:
    lines = ["## Incremental: one new day on a growing history", ""]
    incremental = results.get("incremental")
    if not incremental:
        return [*lines, f"Not measured yet: `{REPRODUCE}`.", ""]
    points = incremental["points"]
    lines += [
        f"`{incremental['job']}` (every layer and check, what the daily schedule runs) for one "
        f"newly landed day at SF {incremental['scale_factor']:g}, after the history was built "
        "as one run. Each point is the median of the new days measured after it.",
        "",
    ]
    rows = [
        [
            f"{p['history_days']:,}",
            seconds(p["history_build"]["seconds"]),
            ", ".join(seconds(r["seconds"]) for r in p["one_day_runs"]),
            f"**{seconds(p['one_day_median_s'])}**",
        ]
        for p in points
    ]
    lines += table(["history (days)", "history built in", "one-day runs", "median"], rows)
    if plot:
        lines += [f"![one-day cost vs history]({plot})", ""]
    growth = step_growth(points)
    if growth:
        small, large = points[0]["history_days"], points[-1]["history_days"]
        lines += [
            f"Per step, one-day cost at {small:,} and {large:,} days of history "
            "(largest increase first):",
            "",
            *table(
                ["step", f"{small:,} days", f"{large:,} days", "ratio", "grows (ratio > 1.5): why"],
                [
                    [
                        g["step"],
                        seconds(g["small_s"]),
                        seconds(g["large_s"]),
                        "-" if g["ratio"] is None else f"{g['ratio']:.2f}x",
                        f"**yes**: {GROWTH_REASONS.get(g['step'], 'not explained yet')}"
                        if g["grows"]
                        else GROWTH_REASONS.get(g["step"], "")
                        if g["added_s"] >= MIN_ADDED_SECONDS
                        else "",
                    ]
                    for g in growth[:12]
                ],
            ),
        ]
    return lines


def silver_customers_section(results: Results) -> list[str]:
    """One day of silver_customers at a short and a long history, against a full replay."""
    lines = ["### silver_customers: one day at a short and a long history", ""]
    measured = results.get("incremental_silver_customers")
    if not measured:
        return [
            *lines,
            "Not measured yet: `python bench/incremental.py --part silver_customers`.",
            "",
        ]
    points = measured["points"]
    lines += [
        f"Synthetic change events ({measured['customers']:,} customers inserted on day one, then "
        f"{measured['events_per_day']:,} updates and deletes a day), `apply_customer_changes` for "
        "one new day after the history was loaded and the daily OPTIMIZE ran. Baseline, same "
        "run and bronze table, its own silver tables: the previous design (every bronze event "
        "replayed to find the day's customers, MERGEs over the whole tables). Measured "
        f"{measured['measured_at'][:10]}, `python bench/incremental.py --part "
        "silver_customers`.",
        "",
    ]
    rows = [
        [
            f"{p['history_days']:,}",
            f"{p['history_events']:,}",
            ", ".join(seconds(r["seconds"]) for r in p["one_day_runs"]),
            f"**{seconds(p['one_day_median_s'])}**",
            seconds(p["baseline_median_s"]),
        ]
        for p in points
    ]
    lines += table(
        ["history (days)", "events", "one-day runs", "median", "baseline (full replay)"], rows
    )
    lines += [
        f"One day costs **{measured['one_day_cost_ratio']:.2f}x** at "
        f"{points[-1]['history_days']:,} days what it costs at {points[0]['history_days']:,} "
        f"(target at most 1.1x); the full replay {measured['baseline_cost_ratio']:.2f}x. At a "
        "short history the event log's write and the deletion vectors make a day cost more "
        "than the full replay did; the log pays off as history grows.",
        "",
    ]
    return lines


def backfill_section(results: Results) -> list[str]:
    lines = ["## Backfill: one run for N days vs N one-day runs", ""]
    backfill = results.get("backfill")
    if not backfill:
        return [*lines, f"Not measured yet: `{REPRODUCE}`.", ""]
    days = backfill["days"]
    daily = backfill["daily_runs_seconds"]
    rows = [
        [f"one run for {days} days", seconds(backfill["single_run"]["seconds"]), "1 run"],
        [
            f"{days} one-day runs",
            seconds(backfill["daily_runs_total_s"]),
            f"median {seconds(statistics.median(daily))} per run",
        ],
    ]
    return [
        *lines,
        f"Two empty lakehouses, the same {days} days of files at SF "
        f"{backfill['scale_factor']:g}, `lakehouse_daily_job` either way. "
        + backfill_tables_sentence(backfill),
        "",
        *table(["", "wall time", ""], rows),
        f"The one-day runs cost **{backfill['ratio']:.1f}x** the single run: each pays the "
        "per-run fixed cost (see overheads) that the single run pays once.",
        "",
    ]


def backfill_tables_sentence(backfill: dict[str, Any]) -> str:
    """Whether both lakehouses ended with the same tables, and which differ if not."""
    differing = backfill.get("differing_rows")
    if differing is None:  # results from before the row-by-row comparison
        same = "the same" if backfill["same_tables"] else "**different**"
        return f"Both end with {same} row counts in silver and gold."
    compared = ", ".join(sorted(differing))
    if backfill["same_tables"]:
        return (
            f"Both end with the same rows in {compared} (compared row by row on every column "
            "except lineage columns such as source file and processing time)."
        )
    bad = [
        f"{t} ({n:,} rows differ)" if n >= 0 else f"{t} (missing)"
        for t, n in sorted(differing.items())
        if n != 0 or backfill["rows_single_run"][t] != backfill["rows_daily_runs"][t]
    ]
    return f"The lakehouses end **different**: {', '.join(bad)}."


def overheads_section(results: Results) -> list[str]:
    lines = ["## Overheads", ""]
    overheads = results.get("overheads")
    if not overheads:
        return [*lines, f"Not measured yet: `{REPRODUCE}`.", ""]
    # A separate definitions_load run (on a quiet machine) is the better figure when present.
    load = results.get("definitions_load", overheads)["definitions_load"]
    empty = overheads["empty_partition"]
    checks = [r["check_seconds"] for r in empty["runs"] if r.get("check_seconds") is not None]
    rows = [
        [
            "Definitions load (fresh interpreter: import + load every definition, median of 5)",
            seconds(load["import_and_load_median_s"]),
        ],
        [
            "the same, whole process (interpreter start included)",
            seconds(load["process_wall_median_s"]),
        ],
        [
            f"daily run on a day whose extracts landed empty ({empty['steps']} steps, "
            f"{empty['check_evaluations']} check evaluations; median)",
            seconds(empty["median_s"]),
        ],
        [
            "of which Dagster alone (same run shape, no-op assets)",
            seconds(empty["noop_same_shape_s"]),
        ],
    ]
    if checks:
        rows.append(["of which inside quality checks", seconds(statistics.median(checks))])
    return [
        *lines,
        *table(["overhead", "seconds"], rows),
        *slowest_steps("Where the empty day's run goes (last run):", empty["runs"][-1]),
    ]


def components_section(results: Results) -> list[str]:
    """One line per earlier component benchmark, with its own headline figure."""
    lines = ["## Component benchmarks", ""]
    bronze = results.get("bronze_ingest_sf1.0")
    if bronze:
        lines.append(
            f"- Bronze ingestion, SF 1 (`bench/bronze_ingest.py`): {bronze['ratio']:.2f}x a plain "
            f"read + Delta write ({seconds(bronze['lakehouse']['seconds'])} vs "
            f"{seconds(bronze['plain']['seconds'])})."
        )
    silver = results.get("silver_quality_sf1.0")
    if silver:
        lines.append(
            f"- Silver quality, SF 1 (`make bench-silver`): rules, checks and contracts add "
            f"{silver['overhead']:+.1%} to the bare build."
        )
    gold = results.get("gold_build_sf1.0")
    if gold:
        lines.append(
            f"- Gold star build, SF 1 (`make bench-gold`): {gold['ratio']:.2f}x a hand-written "
            "script."
        )
    engines = results.get("connect_engines")
    if engines:
        lines.append(connect_engines_line(engines))
    vector = results.get("vector_search")
    if vector:
        ann = vector["ann_vs_exact"]
        lines.append(
            f"- Vector index (`make bench-vector`): recall@10 {ann['ann']['recall_at_10']:.3f}, "
            f"p50 {ann['ann']['p50_ms']:.2f} ms."
            if "ann" in ann and "recall_at_10" in ann["ann"]
            else "- Vector index (`make bench-vector`): see `bench/results/vector_search.json`."
        )
    return [*lines, "", "Details and their baselines: [bench/README.md](../bench/README.md).", ""]


def connect_engines_line(engines: dict) -> str:
    """Spark Connect and Sail against classic Spark: each task's time ratio, or what failed."""
    parts = []
    for engine, tasks in engines["engines"].items():
        if engine == "classic":
            continue
        shown = []
        for task, run in tasks.items():
            if run.get("ok"):
                ratio = engines["seconds_vs_classic"][engine][task]
                same = all(v is True for v in (run.get("same_rows") or {}).values())
                shown.append(f"{task} {ratio:.2f}x{'' if same else ' (rows differ)'}")
            else:
                shown.append(f"{task} could not run")
        parts.append(f"{engine}: {', '.join(shown)}")
    return (
        f"- Engines, SF {engines['scale_factor']:g} (`bench/connect_engines.py`), time against "
        f"classic Spark: {'; '.join(parts)} (errors in `bench/results/connect_engines.json`)."
    )


def render(results: Results, plots: dict[str, str]) -> str:
    """The whole page as Markdown."""
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by bench/report.py from bench/results/*.json. Do not edit by hand. -->",
        "",
        f"Reproduce everything with one command: `{REPRODUCE}` (about the time the figures "
        "below add up to; the TPC-H data is generated once and cached under "
        "`~/.cache/lakehouse_bench`). Regenerate this page alone: `python bench/report.py`.",
        "",
        *summary_section(results),
        *end_to_end_section(results, plots.get("scale")),
        *incremental_section(results, plots.get("history")),
        *silver_customers_section(results),
        *backfill_section(results),
        *overheads_section(results),
        *components_section(results),
        *machine_section(results),
        *conditions_section(results),
    ]
    return "\n".join(lines)


def new_figure():  # type: ignore[no-untyped-def]
    """A figure and axes from matplotlib's file-only backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, 4))


def save_figure(fig, ax, title: str, xlabel: str, out: Path) -> None:  # type: ignore[no-untyped-def]
    """Log x axis, labels, grid and legend; write ``out`` as PNG and free the figure."""
    import matplotlib.pyplot as plt

    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def plot_scale(results: Results, out: Path) -> bool:
    """Time vs scale factor, project and plain script (log-log)."""
    runs = end_to_end_runs(results)
    if not runs:
        return False
    sfs = [r["scale_factor"] for r in runs]
    fig, ax = new_figure()
    ax.plot(sfs, [r["project"]["seconds"] for r in runs], "o-", label="project (one Dagster run)")
    ax.plot(sfs, [r["plain"]["seconds"] for r in runs], "s--", label="plain PySpark + Delta")
    duck = [
        (r["scale_factor"], r["fact_build"]["duckdb"]["seconds"])
        for r in runs
        if r.get("fact_build")
    ]
    if duck:
        ax.plot(*zip(*duck, strict=True), "^:", label="fact build alone, DuckDB")
    ax.set_yscale("log")
    ax.set_ylabel("wall seconds (all dates)")
    save_figure(fig, ax, "End to end, bronze -> gold", "TPC-H scale factor", out)
    return True


def plot_history(results: Results, out: Path) -> bool:
    """One-day cost vs history size: the run and the steps that grow most."""
    incremental = results.get("incremental")
    if not incremental or not incremental["points"]:
        return False
    points = incremental["points"]
    history = [p["history_days"] for p in points]
    fig, ax = new_figure()
    ax.plot(history, [p["one_day_median_s"] for p in points], "o-", label="whole daily run")
    for growth in [g for g in step_growth(points) if g["added_s"] >= MIN_ADDED_SECONDS][:3]:
        per_point = [
            statistics.median(r["step_seconds"].get(growth["step"], 0.0) for r in p["one_day_runs"])
            for p in points
        ]
        ax.plot(history, per_point, "s--", label=f"step {growth['step']}")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("wall seconds for one new day")
    save_figure(fig, ax, "Incremental cost vs history", "days of history in the tables", out)
    return True


def write_report(results_dir: Path = RESULTS, docs: Path = DOCS) -> Path:
    """Regenerate ``docs/benchmarks.md`` and its PNG plots; return the page's path."""
    results = load_results(results_dir)
    images = docs / "img"
    images.mkdir(parents=True, exist_ok=True)
    plots = {}
    if plot_scale(results, images / "bench_time_vs_scale.png"):
        plots["scale"] = "img/bench_time_vs_scale.png"
    if plot_history(results, images / "bench_one_day_vs_history.png"):
        plots["history"] = "img/bench_one_day_vs_history.png"
    page = docs / "benchmarks.md"
    page.write_text(render(results, plots))
    return page


if __name__ == "__main__":
    print(write_report())
    sys.exit(0)
