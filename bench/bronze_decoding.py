"""What strict decoding costs: bronze's reader (bytes decoded in Python) vs Spark's text reader.

    python bench/bronze_decoding.py [--scale-factor 0.1] [--days 365] [--repeat 3]

Lands TPC-H at the scale factor (cached in the workdir) and, in ONE Spark session, reads the
orders and line-item files of the first ``--days`` dates into parsed records three ways:

* ``spark_text``: Spark's text reader + ``from_json``, what bronze did before (invalid UTF-8
  replaced, a second JSON value on a line ignored, gzip only by extension) - the baseline;
* ``decoded``: ``readers.read_records`` (binaryFile + Python decoding in ``mapInArrow``: gzip by
  content, strict UTF-8, one JSON object per line, no duplicate keys) + the typed parse;
* ``independent_count``: the accounting's own count of the same files from their bytes.

Each is timed as a full ``count()`` of the parsed records (best of ``--repeat``) and the record
counts are compared. Writes ``bench/results/bronze_decoding.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from functools import partial
from pathlib import Path


def _best_of(repeat: int, run) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, result = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def spark_text_records(spark, source, paths: list[str]) -> int:  # type: ignore[no-untyped-def]
    """The baseline: Spark's text reader, then the same JSON parse and typing."""
    from pyspark.sql import functions as F

    from lakehouse_assets.bronze import readers
    from lakehouse_assets.bronze.parsing import parse_records

    lines = spark.read.text(paths).select(
        F.col("_metadata.file_path").alias(readers.SOURCE_FILE),
        F.col("value").alias(readers.RAW),
        (F.trim(F.col("value")) == "").alias(readers.BLANK),
    )
    records = readers.json_records(lines, source.schema)
    parsed = parse_records(records, source.schema, source.required_keys)
    return parsed.where(~F.col(readers.BLANK)).count()


def decoded_records(spark, source, files: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Bronze's reader: bytes decoded in Python, then the same parse and typing."""
    from pyspark.sql import functions as F

    from lakehouse_assets.bronze import readers
    from lakehouse_assets.bronze.parsing import parse_records

    records = readers.read_records(spark, source, files, source.schema)
    parsed = parse_records(records, source.schema, source.required_keys)
    return parsed.where(~F.col(readers.BLANK)).count()


def counted_records(spark, source, files: list[str]) -> int:  # type: ignore[no-untyped-def]
    """The accounting's independent count of the same files."""
    from lakehouse_assets.bronze.batch import independent_counts

    return sum(independent_counts(spark, files, source.file_format).values())


def main() -> int:
    from results_file import write_results

    from lakehouse_assets.bronze.landing_zone import normalize_file_uri, reader_path
    from lakehouse_assets.bronze.sources import LINEITEM, ORDERS
    from lakehouse_assets.partitions import TPCH_FIRST_ORDER_DATE
    from lakehouse_assets.resources import build_resources
    from lakehouse_assets.sample_data import generate_tpch, land_tpch
    from lakehouse_assets.settings import LakehouseSettings

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-factor", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path.home() / ".cache" / "lakehouse_bench")
    args = parser.parse_args()

    data = args.workdir / f"sf{args.scale_factor}"
    last = TPCH_FIRST_ORDER_DATE + dt.timedelta(days=args.days - 1)
    landing = data / f"decoding_landing_{args.days}"
    land_tpch(generate_tpch(args.scale_factor, data / "tpch"), landing, TPCH_FIRST_ORDER_DATE, last)
    settings = LakehouseSettings("local", str(data / "decoding_runs"), str(landing), "", "dev")
    spark = build_resources(settings)["spark"].get_session()

    report: dict = {
        "scale_factor": args.scale_factor,
        "days": args.days,
        "repeat": args.repeat,
        "sources": {},
    }
    for source in (ORDERS, LINEITEM):
        landed = sorted((landing / source.name).rglob("*.jsonl"))
        files = [normalize_file_uri(p.resolve().as_uri()) for p in landed]
        paths = [reader_path(f) for f in files]
        landed_bytes = sum(p.stat().st_size for p in landed)
        spark_text_records(spark, source, paths)  # warm-up: JIT, Python workers
        decoded_records(spark, source, files)
        baseline_s, baseline_rows = _best_of(
            args.repeat, partial(spark_text_records, spark, source, paths)
        )
        decoded_s, decoded_rows = _best_of(
            args.repeat, partial(decoded_records, spark, source, files)
        )
        count_s, counted = _best_of(args.repeat, partial(counted_records, spark, source, files))
        report["sources"][source.name] = {
            "files": len(files),
            "landed_mib": round(landed_bytes / 2**20, 1),
            "records": decoded_rows,
            "same_records": baseline_rows == decoded_rows == counted,
            "spark_text_s": round(baseline_s, 2),
            "decoded_s": round(decoded_s, 2),
            "independent_count_s": round(count_s, 2),
            "decoded_ratio": round(decoded_s / baseline_s, 2),
            "decoded_plus_count_ratio": round((decoded_s + count_s) / baseline_s, 2),
            "decoded_records_per_s": round(decoded_rows / decoded_s),
        }
        print(source.name, report["sources"][source.name])
    write_results("bronze_decoding.json", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
