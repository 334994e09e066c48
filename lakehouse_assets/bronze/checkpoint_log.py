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
