"""Materialize every table asset for a date range as one run, through Spark Connect.

Run as a script in its own process: a process that builds a Spark Connect session switches
PySpark into Connect mode for good, and a test process owns a classic session. Settings come
from the environment (``LAKEHOUSE_SPARK_REMOTE``, ``LAKEHOUSE_ROOT``, ...). Prints one JSON
line: whether the run succeeded and which session class the assets were given.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from lakehouse_assets.resources.spark import SparkConnectResource
from lakehouse_assets.settings import LakehouseSettings
from lakehouse_assets_tests.lakehouse import TABLE_ASSET_NAMES, local_resources, materialize_range


def main(first: str, last: str) -> None:
    settings = LakehouseSettings.from_env()
    spark = local_resources(settings)["spark"]
    if not isinstance(spark, SparkConnectResource):
        raise SystemExit("LAKEHOUSE_SPARK_REMOTE is not set: this run would not use Spark Connect")
    session = spark.get_session()
    result = materialize_range(
        settings,
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
        selection=TABLE_ASSET_NAMES,
        raise_on_error=False,
    )
    failures = [e.event_specific_data.error.message for e in result.all_events if e.is_step_failure]
    print(
        json.dumps(
            {
                "ok": result.success,
                "session": f"{type(session).__module__}.{type(session).__name__}",
                "failures": [f[:2000] for f in failures],
            }
        )
    )
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main(*sys.argv[1:3])
