"""Run the orders bronze stream in its own process (so a test can kill it mid-stream).

python -m lakehouse_assets_tests.stream_worker <lakehouse_root> <landing_root>
"""

from __future__ import annotations

import os
import sys
import traceback

from lakehouse_assets.bronze.sources import ORDERS
from lakehouse_assets.bronze.streaming import StreamLimits, run_bronze_stream
from lakehouse_assets.resources.spark import local_spark_conf, start_local_session
from lakehouse_assets.storage import DeltaTableStore, PathLocator


def run(root: str, landing: str) -> None:
    """One micro-batch per file, so the stream has many commit points to be killed between."""
    spark = start_local_session(
        local_spark_conf(
            master="local[2]",
            app_name="stream_worker",
            shuffle_partitions=2,
            driver_memory="1g",
            ui_enabled=False,
            warehouse_dir=f"{root}/_warehouse",
        )
    )
    run_bronze_stream(
        spark,
        DeltaTableStore(spark, PathLocator(root)),
        ORDERS,
        landing_dir=f"{landing}/orders",
        checkpoint_dir=f"{root}/_checkpoints/bronze/orders",
        limits=StreamLimits(max_files_per_trigger=1),
        evolution_mode="rescue",
    )


def main() -> None:
    """Run, then leave without the interpreter's teardown: a native thread aborting at exit
    ("terminate called without an active exception", seen under load) would turn a finished
    stream into exit code -6, which the tests read as the stream failing."""
    try:
        run(sys.argv[1], sys.argv[2])
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
