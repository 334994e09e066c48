"""Listing the landing zone through Hadoop's FileSystem API, so one code path serves local disk,
DBFS, UC volumes, S3 and ADLS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lakehouse_assets.bronze.decoding import reject_reason

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


LANDING_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_LIST_FOLDERS_UP_TO = 31


class LandingZoneError(RuntimeError):
    """The landing zone is missing something the run needs (a folder, a day's files)."""


@dataclass(frozen=True)
class LandedFile:
    """A file under a source's landing folder; ``landing_date`` is None outside a date folder."""

    path: str
    landing_date: dt.date | None
    size: int


class LandingZone:
    """Read-only view of one source's landing folder: ``<dir>/<YYYY-MM-DD>/<files>``."""

    def __init__(self, spark: SparkSession, source_dir: str, extension: str) -> None:
        self._spark = spark
        self.source_dir = source_dir.rstrip("/")
        self.extension = extension
        jvm = spark.sparkContext._jvm
        self._jpath = jvm.org.apache.hadoop.fs.Path
        self._fs = self._jpath(self.source_dir).getFileSystem(
            spark.sparkContext._jsc.hadoopConfiguration()
        )

    def require_exists(self, source: str) -> None:
        """Fail with a clear message when the source's landing folder does not exist."""
        if not self._fs.exists(self._jpath(self.source_dir)):
            raise LandingZoneError(
                f"landing folder for source {source!r} does not exist: {self.source_dir} "
                "(generate sample data with `python -m lakehouse_assets.sample_data`, or point "
                "LAKEHOUSE_LANDING_ROOT at the landing zone)"
            )

    def files_for(self, days: Iterable[dt.date] | None) -> list[LandedFile]:
        """Data files (the source's format, see :mod:`decoding`) in the date folders of the
        given days, or of every day when ``days`` is None; hidden and temporary files
        (``.``/``_`` names) excluded.

        A few days are listed folder by folder; long ranges with one glob, so the number of
        storage calls stays small both for a daily run and for a full backfill.
        """
        wanted = None if days is None else {day.isoformat() for day in days}
        if wanted is not None and len(wanted) <= _LIST_FOLDERS_UP_TO:
            statuses = []
            for key in sorted(wanted):
                folder = self._jpath(f"{self.source_dir}/{key}")
                if self._fs.exists(folder):
                    statuses.extend(self._fs.listStatus(folder))
        else:
            pattern = self._jpath(f"{self.source_dir}/{LANDING_DATE_GLOB}/*")
            statuses = list(self._fs.globStatus(pattern) or [])
        files = []
        for status in statuses:
            path = status.getPath()
            day = path.getParent().getName()
            in_range = wanted is None or day in wanted
            if in_range and status.isFile() and _is_data_file(path.getName(), self.extension):
                files.append(self._landed(status))
        return sorted(files, key=lambda f: f.path)

    def every_file(self) -> list[LandedFile]:
        """Every file anywhere under the source folder, whatever its name or folder (hidden
        and temporary ``.``/``_`` names excluded): what the ledger must account for."""
        if not self._fs.exists(self._jpath(self.source_dir)):
            return []
        files, listing = [], self._fs.listFiles(self._jpath(self.source_dir), True)
        prefix = len(self._jpath(self.source_dir).toUri().getPath().rstrip("/")) + 1
        while listing.hasNext():
            status = listing.next()
            relative = status.getPath().toUri().getPath()[prefix:]
            if not any(part.startswith((".", "_")) for part in relative.split("/")):
                files.append(self._landed(status))
        return sorted(files, key=lambda f: f.path)

    def _landed(self, status) -> LandedFile:  # type: ignore[no-untyped-def]
        path = status.getPath()
        return LandedFile(
            normalize_file_uri(path.toUri().toString()),
            _date_or_none(path.getParent().getName()),
            int(status.getLen()),
        )

    def days_without_files(self, days: Iterable[dt.date]) -> list[dt.date]:
        """Days in ``days`` whose landing folder holds no data file."""
        days = list(days)
        landed = {f.landing_date for f in self.files_for(days)}
        return [day for day in days if day not in landed]


def normalize_file_uri(uri: str) -> str:
    """One spelling per file: Spark writes ``file:/x``, ``file:///x`` or ``/x`` for the same path.

    The lakehouse records files as URIs the way ``_metadata.file_path`` reports them:
    ``file:/x`` with percent-escapes (a space is ``%20``).
    """
    if uri.startswith("file:///"):
        return "file:/" + uri[len("file:///") :]
    if uri.startswith("/"):
        return "file:" + uri
    return uri


def reader_path(uri: str) -> str:
    """The path string Spark's readers and Hadoop's FileSystem expect for a recorded URI."""
    return unquote(uri)


def _is_data_file(name: str, file_format: str) -> bool:
    return reject_reason(unquote(name), file_format) is None and not name.startswith((".", "_"))


def _date_or_none(folder: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(folder) if len(folder) == 10 else None
    except ValueError:
        return None
