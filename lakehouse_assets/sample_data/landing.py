"""Write the landing zone from generated TPC-H Parquet files."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lakehouse_assets.sample_data.customer_events import customer_change_events

# source -> SQL selecting its rows plus a ``landing_date`` (YYYY-MM-DD) column.
_DAILY_SOURCES_SQL = {
    "orders": """
        SELECT *, strftime(o_orderdate, '%Y-%m-%d') AS landing_date
        FROM read_parquet('{tpch}/orders.parquet', hive_partitioning = false)
        WHERE o_orderdate BETWEEN DATE '{first}' AND DATE '{last}'
        ORDER BY o_orderkey
    """,
    "lineitem": """
        SELECT l.*, strftime(o.o_orderdate, '%Y-%m-%d') AS landing_date
        FROM read_parquet('{tpch}/lineitem.parquet', hive_partitioning = false) l
        JOIN read_parquet('{tpch}/orders.parquet', hive_partitioning = false) o
          ON l.l_orderkey = o.o_orderkey
        WHERE o.o_orderdate BETWEEN DATE '{first}' AND DATE '{last}'
        ORDER BY l.l_orderkey, l.l_linenumber
    """,
}

# Snapshot sources land once, on the first day, in the format their source system exports.
_SNAPSHOT_SOURCES = {"part": "parquet", "supplier": "parquet", "nation": "csv", "region": "csv"}

CUSTOMER_EVENTS_SOURCE = "customer_events"


@dataclass
class LandingReport:
    """Files and records landed per source."""

    landing_root: Path
    files: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    skipped_existing: int = 0

    def lines(self) -> Iterator[str]:
        for source in sorted(self.files):
            yield f"  {source:<16} {self.files[source]:>6} files {self.records[source]:>10} records"


def daily_file(landing_root: Path, source: str, day: dt.date | str) -> Path:
    """``<landing>/<source>/<YYYY-MM-DD>/<source>_<YYYY-MM-DD>.jsonl``."""
    key = day if isinstance(day, str) else day.isoformat()
    return landing_root / source / key / f"{source}_{key}.jsonl"


def land_tpch(
    tpch_dir: Path, landing_root: Path, first: dt.date, last: dt.date, seed: int = 42
) -> LandingReport:
    """Land orders, line items and customer events for ``first..last`` plus the snapshots.

    Existing files are left alone (a landing zone is append-only), which makes this idempotent.
    """
    if last < first:
        raise ValueError(f"--end {last} is before --start {first}")
    report = LandingReport(landing_root)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    con = duckdb.connect()
    try:
        for source, sql in _DAILY_SOURCES_SQL.items():
            query = sql.format(tpch=tpch_dir, first=first, last=last)
            _land_daily(con, report, source, query, days)
        _land_customer_events(con, report, tpch_dir, days, seed)
        for source, fmt in _SNAPSHOT_SOURCES.items():
            _land_snapshot(con, report, tpch_dir, source, fmt, first)
    finally:
        con.close()
    return report


def _land_daily(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    source: str,
    query: str,
    days: list[dt.date],
) -> None:
    root = report.landing_root
    staging = root / "_staging" / f"{source}-{uuid.uuid4().hex}"
    staging.parent.mkdir(parents=True, exist_ok=True)
    con.execute(
        f"COPY ({query}) TO '{staging}' (FORMAT JSON, PARTITION_BY (landing_date), OVERWRITE)"
    )
    counts = dict(
        con.execute(f"SELECT landing_date, count(*) FROM ({query}) GROUP BY ALL").fetchall()
    )
    report.files[source] = 0
    report.records[source] = 0
    for day in days:
        target = daily_file(root, source, day)
        if target.exists():
            report.skipped_existing += 1
            continue
        staged = list((staging / f"landing_date={day.isoformat()}").glob("*.json"))
        _publish(target, staged[0] if staged else None)
        report.files[source] += 1
        report.records[source] += counts.get(day.isoformat(), 0)
    shutil.rmtree(staging, ignore_errors=True)
    _remove_if_empty(root / "_staging")


def _land_customer_events(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    tpch_dir: Path,
    days: list[dt.date],
    seed: int,
) -> None:
    customers = con.execute(
        f"""SELECT c_custkey, c_name, c_address, c_nationkey, c_phone,
                   CAST(round(c_acctbal * 100) AS BIGINT) AS c_acctbal_cents,
                   c_mktsegment, c_comment
            FROM read_parquet('{tpch_dir}/customer.parquet', hive_partitioning = false)"""
    ).df()
    con.register("customer_change_events", customer_change_events(customers, days, seed))
    query = """
        SELECT op, sequence_num, strftime(event_ts, '%Y-%m-%dT%H:%M:%S') AS event_ts,
               c_custkey, c_name, c_address, c_nationkey, c_phone,
               CAST(c_acctbal_cents / 100 AS DECIMAL(15, 2)) AS c_acctbal,
               c_mktsegment, c_comment, landing_date
        FROM customer_change_events ORDER BY sequence_num
    """
    _land_daily(con, report, CUSTOMER_EVENTS_SOURCE, query, days)


def _land_snapshot(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    tpch_dir: Path,
    source: str,
    fmt: str,
    day: dt.date,
) -> None:
    target = report.landing_root / source / day.isoformat() / f"{source}.{fmt}"
    report.files[source] = 0
    report.records[source] = 0
    if target.exists():
        report.skipped_existing += 1
        return
    staged = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    staged.parent.mkdir(parents=True, exist_ok=True)
    options = "FORMAT PARQUET" if fmt == "parquet" else "FORMAT CSV, HEADER true"
    # hive_partitioning off: the tpch folder is named sf=<sf>, which DuckDB would add as a column.
    select = f"SELECT * FROM read_parquet('{tpch_dir}/{source}.parquet', hive_partitioning=false)"
    con.execute(f"COPY ({select}) TO '{staged}' ({options})")
    os.replace(staged, target)
    report.files[source] = 1
    report.records[source] = con.execute(f"SELECT count(*) FROM ({select})").fetchone()[0]


def _publish(target: Path, staged: Path | None) -> None:
    """Move a staged file into place atomically (or create an empty daily extract)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if staged is None:
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.touch()
        os.replace(tmp, target)
    else:
        os.replace(staged, target)


def _remove_if_empty(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.rmdir()
