"""The latest version of a business key wins across dates, whatever order the dates run in.

A record can land again on a later date with new content (a late correction), and its date
column can change with it (``o_orderdate`` moved, or a line item re-sent in a later extract).
A silver table is published one date window at a time, so per window it must know, for every
key the window holds:

* **superseded**: the key's newest version lies *outside* the window; the window's older
  copies are left out of it (counted, not lost: they are still in bronze);
* **moved**: the key's newest version is in the window and older versions exist outside it;
  after the window is written, the older copies elsewhere in silver (and its quarantine) are
  deleted.

"Newest" is the bronze order silver deduplicates by: ingestion time, then source file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

_IN_WINDOW = "_in_window"


@dataclass(frozen=True)
class KeyVersions:
    """Keys (as tuples of bronze key values) of one window, by where their newest version is."""

    key_columns: tuple[str, ...]
    key_schema: StructType
    superseded: tuple[tuple, ...]
    moved: tuple[tuple, ...]
    superseded_rows: int

    def superseded_keys(self, spark: SparkSession) -> DataFrame:
        return spark.createDataFrame(list(self.superseded), self.key_schema)

    def moved_keys(self, spark: SparkSession, names: Sequence[str]) -> DataFrame:
        """The moved keys under the target table's column ``names``."""
        keys = spark.createDataFrame(list(self.moved), self.key_schema)
        return keys.toDF(*names)


def key_versions(all_bronze: DataFrame, in_window: Column, keys: Sequence[str]) -> KeyVersions:
    """Classify the keys of the window (``in_window`` over ``all_bronze``) in one aggregation
    over the bronze versions of those keys; only the few exceptional keys reach the driver."""
    versions = all_bronze.select(
        *keys, "_ingestion_timestamp", "_source_file", in_window.alias(_IN_WINDOW)
    )
    window_keys = versions.where(F.col(_IN_WINDOW)).select(*keys).distinct()
    newest = F.struct(F.col("_ingestion_timestamp"), F.col("_source_file"))
    stats = (
        versions.join(window_keys, list(keys), "left_semi")
        .groupBy(*keys)
        .agg(
            F.max_by(F.col(_IN_WINDOW), newest).alias("newest_in_window"),
            F.max(~F.col(_IN_WINDOW)).alias("elsewhere"),
            F.count(F.when(F.col(_IN_WINDOW), 1)).alias("window_rows"),
        )
        .where(~F.col("newest_in_window") | F.col("elsewhere"))
        .collect()
    )
    superseded = [r for r in stats if not r["newest_in_window"]]
    return KeyVersions(
        key_columns=tuple(keys),
        key_schema=all_bronze.select(*keys).schema,
        superseded=tuple(tuple(r[k] for k in keys) for r in superseded),
        moved=tuple(tuple(r[k] for k in keys) for r in stats if r["newest_in_window"]),
        superseded_rows=sum(int(r["window_rows"]) for r in superseded),
    )
