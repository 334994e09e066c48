"""File-arrival sensors: one per source, triggering the bronze stream when files land.

A sensor lists its source's landing folder (with ``pyarrow.fs``: local disk, S3, GCS, ADLS -
no Spark, no JVM in the daemon) and keeps, as its cursor, a fingerprint of the files seen per
landing date (count + hash of names). Dates whose fingerprint changed have new files; the sensor
requests one run of the source's bronze asset covering those dates. The ``run_key`` is derived
from the new fingerprints, so a tick that is evaluated twice launches nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dagster import (
    AssetKey,
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

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class LandedPath:
    landing_date: str
    name: str
    # When the file landed (POSIX seconds); used by the bronze freshness SLA, not fingerprints.
    modified_at: float = field(default=0.0, compare=False)


def list_landed(landing_dir: str) -> list[LandedPath] | None:
    """Files under ``<landing_dir>/<YYYY-MM-DD>/``; None if the folder does not exist.

    Every file counts, whatever its name (not hidden ``.``/``_`` ones): a compressed extract is
    data, and a file the source cannot read must still reach a run, which records it as
    rejected in the file ledger instead of leaving it unseen."""
    filesystem, root = pafs.FileSystem.from_uri(_as_uri(landing_dir))
    if filesystem.get_file_info(root).type == pafs.FileType.NotFound:
        return None
    found = []
    for info in filesystem.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type != pafs.FileType.File:
            continue
        parts = info.path[len(root) :].strip("/").split("/")
        if len(parts) != 2 or not _DATE_DIR.match(parts[0]):
            continue
        name = parts[1]
        if not name.startswith((".", "_")):
            modified = info.mtime.timestamp() if info.mtime is not None else 0.0
            found.append(LandedPath(parts[0], name, modified))
    return found


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


def run_request_for(
    source: LandingSource, asset_key: AssetKey, current: Mapping[str, str], dates: list[str]
) -> RunRequest:
    """One run of the source's bronze asset over the changed dates (a single-run range)."""
    digest = hashlib.sha1(
        json.dumps({d: current[d] for d in dates}, sort_keys=True).encode()
    ).hexdigest()[:16]
    return RunRequest(
        run_key=f"{source.name}:{digest}",
        asset_selection=[asset_key],
        tags={
            "dagster/asset_partition_range_start": dates[0],
            "dagster/asset_partition_range_end": dates[-1],
            "lakehouse/trigger": "landing_sensor",
            "lakehouse/source": source.name,
            "lakehouse/new_file_dates": str(len(dates)),
        },
    )


def landing_sensor(
    source: LandingSource,
    asset_key: AssetKey,
    *,
    landing_dir: str,
    job_name: str,
    interval_seconds: int,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> SensorDefinition:
    """The file-arrival sensor of ``source``."""

    @sensor(
        name=f"{source.name}_landing_sensor",
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
        default_status=default_status,
        description=f"Runs bronze_{source.name} when files land under {landing_dir}.",
    )
    def _sensor(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        files = list_landed(landing_dir)
        if files is None:
            return SkipReason(f"landing folder {landing_dir} does not exist yet")
        current = fingerprints(files)
        seen = json.loads(context.cursor) if context.cursor else {}
        dates = changed_dates(current, seen)
        if not dates:
            return SkipReason(
                f"no new {source.name} files: {len(files)} files on {len(current)} landing "
                "dates, all seen before"
            )
        return SensorResult(
            run_requests=[run_request_for(source, asset_key, current, dates)],
            cursor=json.dumps(current, separators=(",", ":")),
        )

    return _sensor


def _as_uri(location: str) -> str:
    return location if "://" in location else f"file://{location}"
