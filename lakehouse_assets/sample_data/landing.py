"""Write the landing zone from generated TPC-H Parquet files."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lakehouse_assets.sample_data.customer_events import customer_change_events

# source -> SQL selecting its rows plus a ``landing_date`` (YYYY-MM-DD) column.
DAILY_SOURCES_SQL = {
    # Every date moves by ``shift`` days (0: the original TPC-H calendar), so shifted history
    # keeps TPC-H's own relations between order, ship, commit and receipt dates.
    "orders": """
        SELECT * REPLACE (o_orderdate + {shift} AS o_orderdate),
               strftime(o_orderdate + {shift}, '%Y-%m-%d') AS landing_date
        FROM read_parquet('{tpch}/orders.parquet', hive_partitioning = false)
        WHERE o_orderdate BETWEEN DATE '{first}' AND DATE '{last}'
        ORDER BY o_orderkey
    """,
    "lineitem": """
        SELECT l.* REPLACE (
                   l.l_shipdate + {shift} AS l_shipdate,
                   l.l_commitdate + {shift} AS l_commitdate,
                   l.l_receiptdate + {shift} AS l_receiptdate),
               strftime(o.o_orderdate + {shift}, '%Y-%m-%d') AS landing_date
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
    malformed: int = 0

    def lines(self) -> Iterator[str]:
        for source in sorted(self.files):
            yield f"  {source:<16} {self.files[source]:>6} files {self.records[source]:>10} records"


def daily_file(landing_root: Path, source: str, day: dt.date | str) -> Path:
    """``<landing>/<source>/<YYYY-MM-DD>/<source>_<YYYY-MM-DD>.jsonl``."""
    key = day if isinstance(day, str) else day.isoformat()
    return landing_root / source / key / f"{source}_{key}.jsonl"


def land_tpch(
    tpch_dir: Path,
    landing_root: Path,
    first: dt.date,
    last: dt.date,
    seed: int = 42,
    *,
    shift_days: int = 0,
    history_start: dt.date | None = None,
    malformed_rate: float = 0.0,
) -> LandingReport:
    """Land orders, line items and customer events for TPC-H dates ``first..last``.

    Every date is moved by ``shift_days`` (files land under the shifted date). The snapshots
    (part, supplier, nation, region) and the customers' initial inserts belong to the first
    day of the history (``history_start``, default ``first``): a live feed landing one later
    day passes the history's start so its change events continue the same stream.
    ``malformed_rate`` appends that fraction of unparseable lines to each daily file (at
    least one when positive): a source that sometimes sends garbage.

    Existing files are left alone (a landing zone is append-only), which makes this idempotent.
    """
    if last < first:
        raise ValueError(f"--end {last} is before --start {first}")
    if not 0.0 <= malformed_rate < 1.0:
        raise ValueError(f"malformed_rate {malformed_rate} must be in [0, 1)")
    history_start = history_start or first
    report = LandingReport(landing_root)
    source_days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    days = [d + dt.timedelta(days=shift_days) for d in source_days]
    con = duckdb.connect()
    corrupt = MalformedLines(malformed_rate, seed)
    try:
        for source, sql in DAILY_SOURCES_SQL.items():
            query = sql.format(tpch=tpch_dir, first=first, last=last, shift=shift_days)
            _land_daily(con, report, source, query, days, corrupt)
        _land_customer_events(
            con, report, tpch_dir, (history_start, last), source_days[0], seed, shift_days, corrupt
        )
        if first == history_start:
            for source, fmt in _SNAPSHOT_SOURCES.items():
                _land_snapshot(con, report, tpch_dir, source, fmt, days[0])
    finally:
        con.close()
    return report


@dataclass(frozen=True)
class MalformedLines:
    """Unparseable lines appended to daily files at ``rate`` (seeded, so re-runs agree)."""

    rate: float
    seed: int

    def append_to(self, path: Path, source: str, day: dt.date, records: int) -> int:
        """Append the malformed lines for ``records`` good ones; return how many."""
        if self.rate <= 0 or records == 0:
            return 0
        count = max(1, round(records * self.rate))
        rng = random.Random(f"{self.seed}:{source}:{day.isoformat()}")
        with path.open("a", encoding="utf-8") as out:
            for n in range(count):
                # Cut JSON: a writer that died mid-record. Never valid, never a real key.
                out.write(f'{{"malformed": {n}, "noise": {rng.randint(0, 10**9)}, "cut": \n')
        return count


def _land_daily(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    source: str,
    query: str,
    days: list[dt.date],
    corrupt: MalformedLines,
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
        records = counts.get(day.isoformat(), 0)
        if staged:
            report.malformed += corrupt.append_to(staged[0], source, day, records)
        _publish(target, staged[0] if staged else None)
        report.files[source] += 1
        report.records[source] += records
    shutil.rmtree(staging, ignore_errors=True)
    _remove_if_empty(root / "_staging")


def _land_customer_events(
    con: duckdb.DuckDBPyConnection,
    report: LandingReport,
    tpch_dir: Path,
    history: tuple[dt.date, dt.date],
    first: dt.date,
    seed: int,
    shift_days: int,
    corrupt: MalformedLines,
) -> None:
    """The change events of ``first..history[1]``, drawn over the whole history so that a
    day landed alone (the live feed) gets the same events as when landed with its past."""
    start, last = history
    days = [start + dt.timedelta(days=n) for n in range((last - start).days + 1)]
    customers = con.execute(
        f"""SELECT c_custkey, c_name, c_address, c_nationkey, c_phone,
                   CAST(round(c_acctbal * 100) AS BIGINT) AS c_acctbal_cents,
                   c_mktsegment, c_comment
            FROM read_parquet('{tpch_dir}/customer.parquet', hive_partitioning = false)"""
    ).df()
    con.register("customer_change_events", customer_change_events(customers, days, seed))
    query = f"""
        SELECT op, sequence_num,
               strftime(event_ts + INTERVAL ({shift_days}) DAY, '%Y-%m-%dT%H:%M:%S') AS event_ts,
               c_custkey, c_name, c_address, c_nationkey, c_phone,
               CAST(c_acctbal_cents / 100 AS DECIMAL(15, 2)) AS c_acctbal,
               c_mktsegment, c_comment,
               strftime(CAST(landing_date AS DATE) + {shift_days}, '%Y-%m-%d') AS landing_date
        FROM customer_change_events
        WHERE CAST(landing_date AS DATE) >= DATE '{first.isoformat()}'
        ORDER BY sequence_num
    """
    landed = [d + dt.timedelta(days=shift_days) for d in days if d >= first]
    _land_daily(con, report, CUSTOMER_EVENTS_SOURCE, query, landed, corrupt)


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
