"""Read which files a Structured Streaming file-source micro-batch consumed.

Spark records them in ``<checkpoint>/sources/0/<batchId>`` (``<batchId>.compact`` every
``spark.sql.streaming.fileSource.log.compactInterval`` batches) as ``v1`` followed by one JSON
entry per file. The data rows of a batch cannot tell us about empty files; this log can, so the
file ledger and the accounting count every file exactly as the stream saw it.

The log is read with Spark's own readers (``text``, ``binaryFile`` for listings), so it works over
a classic session and Spark Connect alike; setting a corrupt checkpoint aside is a rename on the
driver's file system (local disk, or a UC volume through its ``/Volumes`` mount).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from lakehouse_assets.bronze.landing_zone import (
    is_path_not_found,
    list_files,
    local_path,
    normalize_file_uri,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def batch_files(spark: SparkSession, checkpoint_dir: str, batch_id: int) -> list[str]:
    """Paths (normalized) of the files the file source put into micro-batch ``batch_id``."""
    log_dir = f"{checkpoint_dir.rstrip('/')}/sources/0"
    for name in (str(batch_id), f"{batch_id}.compact"):
        texts = read_texts(spark, [f"{log_dir}/{name}"])
        if texts:
            return _entries_of_batch(next(iter(texts.values())), batch_id)
    raise FileNotFoundError(f"no file-source log entry for batch {batch_id} in {log_dir}")


def committed_batches(spark: SparkSession, checkpoint_dir: str) -> list[int]:
    """Ids of the micro-batches the stream has committed (``commits/<id>``), in order."""
    root = checkpoint_dir.rstrip("/")
    listed = list_files(spark, f"{root}/commits")
    if not listed:
        return []
    names = [_relative(uri, root) for uri in listed]
    return [int(name.split(".", 1)[0]) for name in _log_entries(names, "commits")]


def stream_id(spark: SparkSession, checkpoint_dir: str) -> str:
    """The stream's id (``metadata``): the same for every run of one checkpoint, so a
    micro-batch re-run after a crash carries the idempotent-write token of its first attempt."""
    path = f"{checkpoint_dir.rstrip('/')}/metadata"
    texts = read_texts(spark, [path])
    if not texts:
        raise FileNotFoundError(f"stream checkpoint {checkpoint_dir} has no metadata yet")
    return str(json.loads(next(iter(texts.values())))["id"])


def read_texts(spark: SparkSession, paths: list[str]) -> dict[str, str]:
    """``{normalized uri (unescaped): whole text}`` of ``paths``, read in one Spark job;
    ``{}`` when one of them does not exist. An empty file reads as ``""``."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    if not paths:
        return {}
    try:
        # Classic sessions check the paths when the reader loads, Spark Connect when it runs.
        rows = (
            spark.read.text(paths, wholetext=True)
            .select("value", F.col("_metadata.file_path").alias("path"))
            .collect()
        )
    except AnalysisException as error:
        if is_path_not_found(error):
            return {}
        raise
    texts = {unquote(normalize_file_uri(p)): "" for p in paths}
    texts.update({unquote(normalize_file_uri(row["path"])): row["value"] for row in rows})
    return texts


def parse_source_log(text: str) -> list[dict]:
    """Entries of one file-source log file (pure; the first line is the format version)."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("v"):
        raise ValueError("not a Spark file-source log: missing version header")
    return [json.loads(line) for line in lines[1:] if line.strip()]


def _entries_of_batch(text: str, batch_id: int) -> list[str]:
    return sorted(
        normalize_file_uri(entry["path"])
        for entry in parse_source_log(text)
        if int(entry["batchId"]) == batch_id
    )


# Spark reads these parts of a checkpoint when a query restarts; a torn write in any of them
# (a file cut mid-line) stops the query from starting at all.
_CHECKPOINT_LOGS = ("offsets", "commits")
_SOURCE_LOG = "sources/0"


def checkpoint_problem(spark: SparkSession, checkpoint_dir: str) -> str | None:
    """What is corrupt in a stream checkpoint that Spark would read on restart, or ``None``.

    Checked: ``metadata``, the newest ``offsets`` and ``commits`` entries, and the file-source
    log from its newest compaction on. Every line after the version header must be JSON.
    """
    root = checkpoint_dir.rstrip("/")
    listed = list_files(spark, root)
    if listed is None:
        return None
    names = [_relative(uri, root) for uri in listed]
    wanted = ["metadata"] if "metadata" in names else []
    for log in _CHECKPOINT_LOGS:
        entries = _log_entries(names, log)
        if entries:
            wanted.append(f"{log}/{entries[-1]}")
    entries = _log_entries(names, _SOURCE_LOG)
    compacted = [i for i, name in enumerate(entries) if name.endswith(".compact")]
    wanted += [f"{_SOURCE_LOG}/{name}" for name in entries[compacted[-1] if compacted else 0 :]]
    try:
        by_uri = read_texts(spark, [f"{root}/{name}" for name in wanted])
    except Exception as error:  # a file whose checksum no longer matches (cut mid-write)
        unreadable = _unreadable_file(error)
        if unreadable is None:
            raise
        return f"{_relative(unreadable, root)}: unreadable (checksum mismatch: cut mid-write)"
    texts = {_relative(uri, root): text for uri, text in by_uri.items()}
    if "metadata" in texts:
        texts["metadata"] = "v1\n" + texts["metadata"]
    texts = {name: texts[name] for name in wanted if name in texts}
    for name, text in texts.items():
        problem = log_text_problem(text)
        if problem:
            return f"{name}: {problem}"
    return None


def log_text_problem(text: str) -> str | None:
    """Why a checkpoint log file's text is not a version header plus JSON lines (pure)."""
    lines = text.split("\n")
    if not lines[0].startswith("v"):
        return "missing version header"
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            json.loads(line)
        except json.JSONDecodeError:
            return f"line {number} is not JSON (the file was cut mid-write)"
    if len(lines) < 2 or not any(line.strip() for line in lines[1:]):
        return "no entry after the version header"
    return None


def set_checkpoint_aside(checkpoint_dir: str, suffix: str) -> str:
    """Rename a corrupt checkpoint to ``<dir>.corrupt-<suffix>`` (kept for inspection).

    A rename of the driver's file system: local disk or a UC volume's ``/Volumes`` path. Object
    storage has no directory rename; there the runbook's manual move applies.
    """
    source = local_path(checkpoint_dir.rstrip("/"))
    if source is None:
        raise OSError(
            f"cannot move the corrupt checkpoint {checkpoint_dir} aside: not a local or "
            "/Volumes path (docs/runbooks/stream_checkpoint.md has the manual steps)"
        )
    target = f"{source}.corrupt-{suffix}"
    source.rename(target)
    return target


def _unreadable_file(error: Exception) -> str | None:
    """The file a read failed on because its checksum no longer matches, if that is why."""
    match = re.search(r"ChecksumException: Checksum error: (\S+)", str(error))
    return normalize_file_uri(match.group(1)) if match else None


def _relative(uri: str, root: str) -> str:
    """``uri`` below ``root`` (both spellings normalized), e.g. ``offsets/3``."""
    prefix = unquote(normalize_file_uri(root)).rstrip("/") + "/"
    return unquote(uri).removeprefix(prefix)


def _log_entries(names: list[str], directory: str) -> list[str]:
    """A metadata log's batch files under ``directory``, in batch order (temp files skipped)."""
    entries = []
    for relative in names:
        folder, _, name = relative.rpartition("/")
        number = name.split(".", 1)[0]
        if folder == directory and number.isdigit():
            entries.append((int(number), name))
    return [name for _, name in sorted(entries)]
