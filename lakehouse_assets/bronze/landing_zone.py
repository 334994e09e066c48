"""Listing the landing zone through Spark's own file index (the ``binaryFile`` reader, contents
not read), so one code path serves local disk, UC volumes, S3 and ADLS, over a classic session
or Spark Connect alike (no JVM gateway)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lakehouse_assets.bronze.decoding import reject_reason
from lakehouse_assets.storage.delta_tables import error_condition

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


class LandingZone:
    """Read-only view of one source's landing folder: ``<dir>/<YYYY-MM-DD>/<files>``.

    Spark's file index leaves out hidden and temporary files and folders (``.``/``_`` names),
    as a reader of the source does.
    """

    def __init__(self, spark: SparkSession, source_dir: str, extension: str) -> None:
        self._spark = spark
        self.source_dir = source_dir.rstrip("/")
        self.extension = extension

    def require_exists(self, source: str) -> None:
        """Fail with a clear message when the source's landing folder does not exist."""
        if list_files(self._spark, self.source_dir) is None:
            raise LandingZoneError(
                f"landing folder for source {source!r} does not exist: {self.source_dir} "
                "(generate sample data with `python -m lakehouse_assets.sample_data`, or point "
                "LAKEHOUSE_LANDING_ROOT at the landing zone)"
            )

    def files_for(self, days: Iterable[dt.date] | None) -> list[LandedFile]:
        """Data files (the source's format, see :mod:`decoding`) in the date folders of the
        given days, or of every day when ``days`` is None.

        A few days are named in one glob (``{d1,d2}``), long ranges matched by the date
        pattern, so a daily run and a full backfill each list the landing zone once.
        """
        wanted = None if days is None else {day.isoformat() for day in days}
        if wanted is not None and not wanted:
            return []
        if wanted is not None and len(wanted) <= _LIST_FOLDERS_UP_TO:
            folders = "{" + ",".join(sorted(wanted)) + "}"
        else:
            folders = LANDING_DATE_GLOB
        listed = list_files(self._spark, f"{self.source_dir}/{folders}/*") or []
        source_name = unquote(self.source_dir).rpartition("/")[2]
        files = []
        for uri in listed:
            parent, _, name = uri.rpartition("/")
            grandparent, _, day = parent.rpartition("/")
            # Only files directly in a date folder: a glob match on a sub-folder lists its files.
            direct = unquote(grandparent).rpartition("/")[2] == source_name
            in_range = wanted is None or day in wanted
            if direct and in_range and _is_data_file(name, self.extension):
                files.append(_landed(uri))
        return sorted(files, key=lambda f: f.path)

    def every_file(self) -> list[LandedFile]:
        """Every file anywhere under the source folder, whatever its name or folder (hidden
        and temporary ``.``/``_`` names excluded): what the ledger must account for."""
        listed = list_files(self._spark, self.source_dir) or []
        return sorted((_landed(uri) for uri in listed), key=lambda f: f.path)

    def days_without_files(self, days: Iterable[dt.date]) -> list[dt.date]:
        """Days in ``days`` whose landing folder holds no data file."""
        days = list(days)
        landed = {f.landing_date for f in self.files_for(days)}
        return [day for day in days if day not in landed]


def list_files(spark: SparkSession, location: str) -> list[str] | None:
    """URIs of every file under ``location`` (a folder, recursively, or a glob); ``None`` when
    nothing exists there.

    Spark's file index names them (``inputFiles``): escaped URIs, the ledger's spelling, empty
    files included, and no file is read (a scan would skip empty files).
    """
    from pyspark.errors import AnalysisException

    try:
        # Classic sessions check the path when the reader loads, Spark Connect when it is used.
        files = spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(location)
        return [normalize_file_uri(uri) for uri in files.inputFiles()]
    except AnalysisException as error:
        if is_path_not_found(error):
            return None
        raise


def is_path_not_found(error: Exception) -> bool:
    """Whether a reader's ``AnalysisException`` says its path does not exist."""
    return error_condition(error) == "PATH_NOT_FOUND" or ("PATH_NOT_FOUND" in str(error))


def _landed(uri: str) -> LandedFile:
    folder = uri.rpartition("/")[0].rpartition("/")[2]
    return LandedFile(uri, _date_or_none(unquote(folder)))


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


def local_path(uri: str) -> Path | None:
    """The local path of a ``file:`` URI or plain path; ``None`` for other schemes."""
    if uri.startswith("file:"):
        return Path("/" + unquote(uri[len("file:") :]).lstrip("/"))
    if re.match(r"^[A-Za-z][\w+.-]*:", uri):
        return None
    return Path(uri)


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
