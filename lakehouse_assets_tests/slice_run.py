"""Materialize the Databricks slice for one day in local mode, from the environment.

Run as a script in its own process (a test process already owns a Spark JVM), e.g. with
``LAKEHOUSE_SPARK_MASTER=local-cluster[2,1,1024]`` to run the assets on separate executor
processes. Prints one JSON line: the master and how many executors did the work.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets_tests.databricks_job import SLICE
from lakehouse_assets_tests.lakehouse import materialize_day


def main(day: str) -> None:
    settings = LakehouseSettings.from_env()
    result = materialize_day(settings, dt.date.fromisoformat(day), selection=SLICE)
    from pyspark.sql import SparkSession

    context = SparkSession.builder.getOrCreate().sparkContext
    # Block managers: the driver's plus one per executor process.
    executors = context._jsc.sc().getExecutorMemoryStatus().size() - 1
    print(json.dumps({"master": context.master, "executors": executors, "ok": result.success}))
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main(sys.argv[1])
