"""The file-arrival sensor: one for every source, requesting exactly the dates that changed.

The sensor lists each source's landing folder (with ``pyarrow.fs``: local disk, S3, GCS, ADLS -
no Spark, no JVM in the daemon) and keeps, as its cursor, a fingerprint of the files seen per
source and landing date (count + hash of names). Dates whose fingerprint changed have new files.

Each *contiguous run of changed dates* of a source becomes one partition range, and sources
whose ranges coincide share a run: a late file for D-30 plus today's file is two runs of one
day each, never a 31-day range. A run covers the changed sources' bronze assets **and every
asset built from them** (``LandingTarget``), for exactly those dates: one run from landing to
the last table, instead of a run per layer, each paying a process and a JVM. Declarative
automation carries every other change (a bronze run launched by hand, a replay, a day's new
partitions) and leaves alone what such a run is already building. Every run writes shared
tables (file ledger, dead letters, dq_metrics); the assets' concurrency pool lets only one
such run go at a time (see ``operations/instance.py``).

Files that cannot run are named in the tick's skip reason or log, never dropped:

* a date before the partition start: an error that names the path (change the start or move
  the file); it stays out of the cursor, so it is reported until it is dealt with;
* a date after the newest partition: waits, out of the cursor, until its partition opens;
* a folder whose name is not a date: named; the bronze run records it as rejected.

**Late records** (records dated outside their folder's date, ``bronze/dating.py``): bronze
reports each business date they carry as an *observation* of that date's partition, tagged
``LATE_RECORDS_TAG`` (not a materialization: the partition itself was not written, and
automation, which reads materializations only, would otherwise request the date beside this
sensor's run, once per late date). The sensor reads those reports (after a storage id kept in
its cursor) and requests a run of the source's downstream tables, without bronze, for exactly
those dates: a correction for a date months back, sent in today's extract, reaches silver and
gold of its own date, whichever run landed it (a landing run, a bronze run by hand). A date
the reporting run built downstream itself (inside its own partition range) is not run again.

The ``run_key`` is derived from the new fingerprints (late runs: from the reports' storage
ids), so a tick evaluated twice launches nothing twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetRecordsFilter,
    DefaultSensorStatus,
    RunRequest,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from pyarrow import fs as pafs

from lakehouse_assets.bronze.sources import LandingSource
from lakehouse_assets.partitions import PartitionCalendar

LANDING_SENSOR_NAME = "landing_sensor"
# Tag of bronze's report of a business date that late records carry (bronze/ingest.py).
LATE_RECORDS_TAG = "lakehouse/late_records"
# The cursor's key for the storage id of the last observation the late-records scan read.
LATE_RECORDS_CURSOR = "_late_records_after"
LATE_RECORDS_TRIGGER = "late_records"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LandedPath:
    landing_date: str
    name: str
    # When the file landed (POSIX seconds); used by the bronze freshness SLA, not fingerprints.
    modified_at: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class LandingScan:
    """One listing of a source's folder: files in date folders, and paths that are not."""

    files: list[LandedPath]
    misplaced: list[str]


def scan_landing(landing_dir: str) -> LandingScan | None:
    """Files under ``<landing_dir>/<YYYY-MM-DD>/``; None if the folder does not exist.

    Every file counts, whatever its name (not hidden ``.``/``_`` ones): a compressed extract is
    data, and a file the source cannot read must still reach a run, which records it as
    rejected in the file ledger instead of leaving it unseen. Files elsewhere (a folder that
    is not a date, nested folders, straight in the source folder) are ``misplaced``."""
    filesystem, root = pafs.FileSystem.from_uri(_as_uri(landing_dir))
    if filesystem.get_file_info(root).type == pafs.FileType.NotFound:
        return None
    found, misplaced = [], []
    for info in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type != pafs.FileType.File:
            continue
        parts = info.path[len(root) :].strip("/").split("/")
        if any(part.startswith((".", "_")) for part in parts):
            continue
        if len(parts) != 2 or not _is_date(parts[0]):
            misplaced.append(f"{landing_dir}/{'/'.join(parts)}")
            continue
        modified = info.mtime.timestamp() if info.mtime is not None else 0.0
        found.append(LandedPath(parts[0], parts[1], modified))
    return LandingScan(found, misplaced)


def list_landed(landing_dir: str) -> list[LandedPath] | None:
    """The files in date folders under ``landing_dir`` (None if it does not exist)."""
    scan = scan_landing(landing_dir)
    return scan.files if scan is not None else None


def oldest_landed_after(files: Iterable[LandedPath], after: float | None) -> float | None:
    """Landing time of the oldest file that landed after ``after`` (None: no such file)."""
    times = [f.modified_at for f in files if after is None or f.modified_at > after]
    return min(times, default=None)


def fingerprints(files: Iterable[LandedPath]) -> dict[str, str]:
    """Per landing date: ``<count>:<hash of sorted file names>``."""
    names: dict[str, list[str]] = defaultdict(list)
    for f in files:
        names[f.landing_date].append(f.name)
    return {
        day: f"{len(n)}:{hashlib.sha1('/'.join(sorted(n)).encode()).hexdigest()[:12]}"
        for day, n in sorted(names.items())
    }


def changed_dates(current: Mapping[str, str], seen: Mapping[str, str]) -> list[str]:
    """Landing dates whose files differ from what the cursor saw."""
    return sorted(day for day, fp in current.items() if seen.get(day) != fp)


def contiguous_ranges(dates: Iterable[str]) -> list[tuple[str, str]]:
    """Sorted ``YYYY-MM-DD`` dates as inclusive ranges of consecutive days."""
    days = sorted({dt.date.fromisoformat(d) for d in dates})
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if ranges and day == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return [(first.isoformat(), last.isoformat()) for first, last in ranges]


@dataclass(frozen=True)
class LandingPlan:
    """What one tick does: the runs, the cursor to store, and what it could not run."""

    runs: dict[tuple[str, str], list[str]]  # (first, last) -> source names
    cursor: dict[str, dict[str, str]]
    errors: list[str]
    waiting: list[str]
    misplaced: list[str]


def plan_landing_runs(
    scans: Mapping[str, LandingScan | None],
    seen: Mapping[str, Mapping[str, str]],
    calendar: PartitionCalendar,
    now: dt.datetime,
) -> LandingPlan:
    """Pure: which partition ranges of which sources to run for what changed since ``seen``."""
    runs: dict[tuple[str, str], list[str]] = defaultdict(list)
    cursor: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    waiting: list[str] = []
    misplaced: list[str] = []
    for source, scan in sorted(scans.items()):
        previous = dict(seen.get(source, {}))
        if scan is None:
            cursor[source] = previous
            continue
        misplaced.extend(scan.misplaced)
        current = fingerprints(scan.files)
        runnable = []
        for day in changed_dates(current, previous):
            placement = calendar.placement(dt.date.fromisoformat(day), now)
            path = f"{source}/{day}/"
            if placement == "before_start":
                errors.append(
                    f"{path} is dated before the partition start {calendar.start} "
                    "(LAKEHOUSE_PARTITION_START): it has no partition; move the file or set "
                    "an earlier start"
                )
            elif placement == "after_end":
                waiting.append(
                    f"{path} is dated after the newest partition {calendar.last_date(now)}; "
                    "it runs when that day's partition opens"
                )
            else:
                runnable.append(day)
                previous[day] = current[day]
        cursor[source] = previous
        for first_last in contiguous_ranges(runnable):
            runs[first_last].append(source)
    return LandingPlan(merge_overlapping(runs), cursor, errors, waiting, misplaced)


def merge_overlapping(
    runs: Mapping[tuple[str, str], Sequence[str]],
) -> dict[tuple[str, str], list[str]]:
    """Ranges of different sources that overlap become one run over their union.

    Two overlapping runs could each need a table the other builds (a first landing: the
    snapshot day builds the dimensions the daily range's facts read, and the daily range
    builds the customer history a dimension reads), and the pool lets only one go at a time.
    Disjoint ranges - a late file for an old date and today's - stay separate runs.
    """
    merged: list[tuple[str, str, set[str]]] = []
    for (first, last), sources in sorted(runs.items()):
        if merged and first <= merged[-1][1]:
            start, end, names = merged[-1]
            merged[-1] = (start, max(end, last), names | set(sources))
        else:
            merged.append((first, last, set(sources)))
    return {(first, last): sorted(names) for first, last, names in merged}


def plan_late_runs(
    late: Mapping[str, Iterable[str]],
    landing_runs: Mapping[tuple[str, str], Sequence[str]],
) -> dict[tuple[str, str], list[str]]:
    """Pure: the runs of ``late`` (source -> business dates reported late) that this tick's
    landing runs do not already cover, one per contiguous range, overlapping ranges merged."""
    covered = {
        (source, day)
        for (first, last), names in landing_runs.items()
        for source in names
        for day in _days(first, last)
    }
    runs: dict[tuple[str, str], list[str]] = defaultdict(list)
    for source, days in sorted(late.items()):
        open_days = [d for d in days if (source, d) not in covered]
        for first_last in contiguous_ranges(open_days):
            runs[first_last].append(source)
    return merge_overlapping(runs)


def _days(first: str, last: str) -> list[str]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [(start + dt.timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


@dataclass(frozen=True)
class LandingTarget:
    """What a source's new files start: its bronze asset and everything built from it, with
    their own checks (not the freshness checks, which judge runs from outside)."""

    assets: tuple[AssetKey, ...]
    checks: tuple[AssetCheckKey, ...] = ()


def run_request_for(
    first: str,
    last: str,
    sources: Sequence[str],
    cursor: Mapping[str, Mapping[str, str]],
    targets: Mapping[str, LandingTarget],
) -> RunRequest:
    """One run over ``first..last`` (a single-run range) of what ``sources`` start."""
    fingerprint = {
        s: {d: fp for d, fp in cursor[s].items() if first <= d <= last} for s in sorted(sources)
    }
    digest = hashlib.sha1(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    return RunRequest(
        run_key=f"landing:{first}:{last}:{digest}",
        asset_selection=sorted(
            {key for s in sources for key in _target(targets, s).assets}, key=str
        ),
        asset_check_keys=sorted(
            {key for s in sources for key in _target(targets, s).checks}, key=str
        ),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
            "lakehouse/trigger": "landing_sensor",
            "lakehouse/sources": ",".join(sorted(sources)),
        },
    )


def late_run_request_for(
    first: str,
    last: str,
    sources: Sequence[str],
    targets: Mapping[str, LandingTarget],
    reported_up_to: int,
) -> RunRequest:
    """One run over ``first..last`` of what ``sources`` start, except their bronze assets (the
    records are in bronze already): their late records' own dates through every layer."""
    bronze = {_bronze_key(s) for s in sources}
    assets = {k for s in sources for k in _target(targets, s).assets} - bronze
    checks = {c for s in sources for c in _target(targets, s).checks if c.asset_key not in bronze}
    return RunRequest(
        run_key=f"late:{first}:{last}:{','.join(sorted(sources))}:{reported_up_to}",
        asset_selection=sorted(assets, key=str),
        asset_check_keys=sorted(checks, key=str),
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
            # A correction of an old date must not hold today's data back in the queue.
            "dagster/priority": "-1",
            "lakehouse/trigger": LATE_RECORDS_TRIGGER,
            "lakehouse/sources": ",".join(sorted(sources)),
        },
    )


@dataclass(frozen=True)
class LateReports:
    """What one scan of bronze's late-record reports found."""

    dates: dict[str, set[str]]  # source -> business dates the sensor must run
    read_up_to: int | None  # the newest storage id read (the cursor's next start)


def read_late_reports(
    context: SensorEvaluationContext,
    sources: Sequence[LandingSource],
    targets: Mapping[str, LandingTarget],
    after: int | None,
) -> LateReports:
    """Bronze's late-record reports after storage id ``after``, of the sources that date their
    records, except the dates their reporting run built downstream itself."""
    dates: dict[str, set[str]] = defaultdict(set)
    newest = after
    built: dict[str, RunTarget] = {}
    for source in sources:
        if source.business_date_field is None:
            continue
        downstream = set(_target(targets, source.name).assets) - {_bronze_key(source.name)}
        for record in _observations_after(context, _bronze_key(source.name), after):
            newest = max(newest or 0, record.storage_id)
            event = record.asset_observation
            if event is None or not event.partition or LATE_RECORDS_TAG not in event.tags:
                continue
            if record.run_id not in built:
                built[record.run_id] = _run_target(context, record.run_id)
            if not built[record.run_id].built(downstream, event.partition):
                dates[source.name].add(event.partition)
    return LateReports(dict(dates), newest)


def _observations_after(
    context: SensorEvaluationContext, key: AssetKey, after: int | None
) -> Iterable:
    cursor = None
    while True:
        page = context.instance.fetch_observations(
            AssetRecordsFilter(asset_key=key, after_storage_id=after),
            limit=1000,
            cursor=cursor,
            ascending=True,
        )
        yield from page.records
        if not page.has_more:
            return
        cursor = page.cursor


@dataclass(frozen=True)
class RunTarget:
    """The assets a run targeted and its partition range (both empty for a runless report)."""

    assets: frozenset[AssetKey] = frozenset()
    first: str | None = None
    last: str | None = None

    def built(self, downstream: set[AssetKey], day: str) -> bool:
        """Whether the run also built ``day`` of every ``downstream`` table: its bronze step
        finished before them, so they read the late records already."""
        if not downstream <= self.assets or self.first is None or self.last is None:
            return False
        return self.first <= day <= self.last


def _run_target(context: SensorEvaluationContext, run_id: str) -> RunTarget:
    run = context.instance.get_run_by_id(run_id) if run_id else None
    if run is None:
        return RunTarget()
    tags = run.tags
    single = tags.get("dagster/partition")
    return RunTarget(
        frozenset(run.asset_selection or ()),
        tags.get("dagster/asset_partition_range_start") or single,
        tags.get("dagster/asset_partition_range_end") or single,
    )


def landing_sensor(
    sources: Sequence[LandingSource],
    *,
    landing_root: str,
    job_name: str,
    interval_seconds: int,
    calendar: PartitionCalendar,
    targets: Mapping[str, LandingTarget] | None = None,
    generated: LandingTarget | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    """The file-arrival sensor of every source under ``landing_root``; ``targets``: what each
    source's new files start (default: its bronze asset); ``generated``: tables built from no
    source (the date dimension) that the targets read, added to a run while they have never
    been materialized."""
    targets = targets or {}
    clock = clock or (lambda: dt.datetime.now(dt.UTC))

    @sensor(
        name=LANDING_SENSOR_NAME,
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
        default_status=default_status,
        description=(
            f"Runs the bronze assets of the sources whose files landed under {landing_root}, "
            "one run per contiguous range of changed dates."
        ),
    )
    def _sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        scans = {s.name: scan_landing(f"{landing_root}/{s.name}") for s in sources}
        seen = json.loads(context.cursor) if context.cursor else {}
        late_after = seen.pop(LATE_RECORDS_CURSOR, None)
        plan = plan_landing_runs(scans, seen, calendar, clock())
        late = read_late_reports(context, sources, targets, late_after)
        for message in plan.errors:
            context.log.error(message)
        for message in plan.waiting + [
            f"{path}: not in a <YYYY-MM-DD> folder; the bronze run records it as rejected"
            for path in plan.misplaced
        ]:
            context.log.warning(message)
        missing = _never_materialized(context, generated)
        requests = prioritized(
            [
                _with_target(run_request_for(first, last, names, plan.cursor, targets), missing)
                for (first, last), names in sorted(plan.runs.items())
            ]
        )
        late_runs = plan_late_runs(late.dates, plan.runs)
        for (first, last), names in sorted(late_runs.items()):
            context.log.info(
                f"late records of {', '.join(names)} dated {first}..{last}: running their "
                "tables for those dates"
            )
        requests += [
            late_run_request_for(first, last, names, targets, late.read_up_to or 0)
            for (first, last), names in sorted(late_runs.items())
        ]
        cursor = {**plan.cursor}
        if late.read_up_to is not None:
            cursor[LATE_RECORDS_CURSOR] = late.read_up_to
        encoded = json.dumps(cursor, separators=(",", ":"))
        if requests:
            return SensorResult(run_requests=requests, cursor=encoded)
        if late.read_up_to != late_after:  # reports read, none for the sensor: move past them
            return SensorResult(skip_reason=_idle_reason(scans, plan), cursor=encoded)
        return SkipReason(_idle_reason(scans, plan))

    return _sensor


def _idle_reason(scans: Mapping[str, LandingScan | None], plan: LandingPlan) -> str:
    problems = plan.errors + plan.waiting + [f"{p}: not in a date folder" for p in plan.misplaced]
    if problems:
        return "nothing to run; " + "; ".join(problems)
    if all(scan is None for scan in scans.values()):
        return "no landing folder exists yet: " + ", ".join(sorted(scans))
    files = sum(len(scan.files) for scan in scans.values() if scan is not None)
    return f"no new files: {files} files landed, all seen before"


def prioritized(requests: list[RunRequest]) -> list[RunRequest]:
    """Late ranges after the rest, at a lower queue priority: a late correction for an old
    date must not hold today's data back in the run queue.

    A range is late when it ends before the newest range begins. Overlapping ranges keep
    their calendar order (earliest first), so a first landing's snapshot day (which builds
    the dimensions) runs before the daily range that reads them.
    """
    if not requests:
        return []

    def bounds(request: RunRequest) -> tuple[str, str]:
        tags = request.tags
        return tags["dagster/asset_partition_range_start"], tags[
            "dagster/asset_partition_range_end"
        ]

    newest_start = max(bounds(r) for r in requests)[0]
    current = [r for r in requests if bounds(r)[1] >= newest_start]
    late = [r for r in requests if bounds(r)[1] < newest_start]
    return sorted(current, key=bounds) + [
        r.with_replaced_attrs(tags={**r.tags, "dagster/priority": "-1"})
        for r in sorted(late, key=bounds, reverse=True)
    ]


def _never_materialized(
    context: SensorEvaluationContext, generated: LandingTarget | None
) -> LandingTarget | None:
    if generated is None:
        return None
    keys = tuple(
        k for k in generated.assets if context.instance.get_latest_materialization_event(k) is None
    )
    checks = tuple(c for c in generated.checks if c.asset_key in keys)
    return LandingTarget(keys, checks) if keys else None


def _with_target(request: RunRequest, extra: LandingTarget | None) -> RunRequest:
    if extra is None:
        return request
    return request.with_replaced_attrs(
        asset_selection=[*request.asset_selection, *extra.assets],
        asset_check_keys=[*request.asset_check_keys, *extra.checks],
    )


def _target(targets: Mapping[str, LandingTarget], source: str) -> LandingTarget:
    return targets.get(source) or LandingTarget((_bronze_key(source),))


def _bronze_key(source: str) -> AssetKey:
    return AssetKey(f"bronze_{source}")


def _is_date(name: str) -> bool:
    if not _DATE_DIR.match(name):
        return False
    try:
        dt.date.fromisoformat(name)
    except ValueError:
        return False
    return True


def _as_uri(location: str) -> str:
    return location if "://" in location else f"file://{location}"
