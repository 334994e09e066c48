"""Read which files a Structured Streaming file-source micro-batch consumed.

Spark records them in ``<checkpoint>/sources/0/<batchId>`` (``<batchId>.compact`` every
``spark.sql.streaming.fileSource.log.compactInterval`` batches) as ``v1`` followed by one JSON
entry per file. The data rows of a batch cannot tell us about empty files; this log can, so the
file ledger and the accounting count every file exactly as the stream saw it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lakehouse_assets.bronze.landing_zone import normalize_file_uri

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def batch_files(spark: SparkSession, checkpoint_dir: str, batch_id: int) -> list[str]:
    """Paths (normalized) of the files the file source put into micro-batch ``batch_id``."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    log_dir = f"{checkpoint_dir.rstrip('/')}/sources/0"
    for name in (str(batch_id), f"{batch_id}.compact"):
        path = jvm.org.apache.hadoop.fs.Path(f"{log_dir}/{name}")
        fs = path.getFileSystem(conf)
        if fs.exists(path):
            return _entries_of_batch(_read_text(jvm, fs, path), batch_id)
    raise FileNotFoundError(f"no file-source log entry for batch {batch_id} in {log_dir}")


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


def _read_text(jvm, fs, path) -> str:  # type: ignore[no-untyped-def]
    stream = fs.open(path)
    try:
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


# Spark reads these parts of a checkpoint when a query restarts; a torn write in any of them
# (a file cut mid-line) stops the query from starting at all.
_CHECKPOINT_LOGS = ("offsets", "commits")
_SOURCE_LOG = "sources/0"


def checkpoint_problem(spark: SparkSession, checkpoint_dir: str) -> str | None:
    """What is corrupt in a stream checkpoint that Spark would read on restart, or ``None``.

    Checked: ``metadata``, the newest ``offsets`` and ``commits`` entries, and the file-source
    log from its newest compaction on. Every line after the version header must be JSON.
    """
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    root = jvm.org.apache.hadoop.fs.Path(checkpoint_dir)
    fs = root.getFileSystem(conf)
    if not fs.exists(root):
        return None
    texts: dict[str, str] = {}
    metadata = jvm.org.apache.hadoop.fs.Path(f"{checkpoint_dir.rstrip('/')}/metadata")
    if fs.exists(metadata):
        texts["metadata"] = "v1\n" + _read_text(jvm, fs, metadata)
    for log in _CHECKPOINT_LOGS:
        entries = _log_entries(jvm, fs, f"{checkpoint_dir.rstrip('/')}/{log}")
        if entries:
            name, path = entries[-1]
            texts[f"{log}/{name}"] = _read_text(jvm, fs, path)
    entries = _log_entries(jvm, fs, f"{checkpoint_dir.rstrip('/')}/{_SOURCE_LOG}")
    compacted = [i for i, (name, _) in enumerate(entries) if name.endswith(".compact")]
    for name, path in entries[compacted[-1] if compacted else 0 :]:
        texts[f"{_SOURCE_LOG}/{name}"] = _read_text(jvm, fs, path)
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


def set_checkpoint_aside(spark: SparkSession, checkpoint_dir: str, suffix: str) -> str:
    """Rename a corrupt checkpoint to ``<dir>.corrupt-<suffix>`` (kept for inspection)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    source = jvm.org.apache.hadoop.fs.Path(checkpoint_dir)
    target = f"{checkpoint_dir.rstrip('/')}.corrupt-{suffix}"
    if not source.getFileSystem(conf).rename(source, jvm.org.apache.hadoop.fs.Path(target)):
        raise OSError(f"could not move the corrupt checkpoint {checkpoint_dir} to {target}")
    return target


def _log_entries(jvm, fs, directory: str) -> list:  # type: ignore[no-untyped-def]
    """(name, path) of a metadata log's batch files, in batch order (temp files skipped)."""
    path = jvm.org.apache.hadoop.fs.Path(directory)
    if not fs.exists(path):
        return []
    entries = []
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        number = name.split(".", 1)[0]
        if status.isFile() and number.isdigit():
            entries.append((int(number), name, status.getPath()))
    return [(name, p) for _, name, p in sorted(entries, key=lambda e: e[0])]
