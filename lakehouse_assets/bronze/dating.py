"""Records dated outside their landing folder.

A source's folder date is when its extract was cut; a record's business date is what silver
partitions it by (``LandingSource.business_date_field``: an order's ``o_orderdate``). They
differ for a correction sent months later in today's extract. Bronze keeps the record under its
folder, but silver and gold build the record's *business* date, which no landing of that
folder would touch. So bronze reports every business date the run's records carry:

* the ``records_in_folder_date`` check (WARN) names the dates outside the folders and how many
  records each holds, and
* the bronze asset records a materialization of each such date's partition (``late records``
  in its description, tagged ``lakehouse/late_records``), so the UI shows which dates changed
  and the landing sensor runs those dates' tables (``bronze/sensors.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue
from pyspark.sql import functions as F

from lakehouse_assets.bronze.tables import BATCH_ID, LANDING_DATE, bronze_table

if TYPE_CHECKING:
    from lakehouse_assets.bronze.sources import LandingSource
    from lakehouse_assets.storage import DeltaTableStore

RECORDS_IN_FOLDER_DATE = "records_in_folder_date"
MAX_DATES_SHOWN = 20


@dataclass(frozen=True, order=True)
class OffFolderDates:
    """Records of one business date that landed in another date's folder."""

    business_date: dt.date
    folder_date: dt.date
    records: int


def records_outside_folders(
    store: DeltaTableStore,
    source: LandingSource,
    batch_ids: Sequence[str],
    folder_dates: Sequence[dt.date],
) -> list[OffFolderDates]:
    """The run's bronze records (``batch_ids``, in ``folder_dates``' partitions) whose business
    date is not their folder's, counted per business date and folder (one aggregation)."""
    field = source.business_date_field
    if field is None or not batch_ids or not folder_dates:
        return []
    rows = (
        store.read(bronze_table(source))
        .where(F.col(LANDING_DATE).isin(sorted(set(folder_dates))))
        .where(F.col(BATCH_ID).isin(list(batch_ids)))
        .where(F.col(field).isNotNull() & (F.col(field) != F.col(LANDING_DATE)))
        .groupBy(F.col(field).alias("business_date"), F.col(LANDING_DATE).alias("folder_date"))
        .count()
        .collect()
    )
    return sorted(
        OffFolderDates(r["business_date"], r["folder_date"], int(r["count"])) for r in rows
    )


def business_dates_outside(dated: Sequence[OffFolderDates]) -> list[dt.date]:
    """The distinct business dates of ``dated``, oldest first."""
    return sorted({d.business_date for d in dated})


def records_in_folder_date_check(
    source: LandingSource, dated: Sequence[OffFolderDates]
) -> AssetCheckResult:
    """WARN when the run's records carry business dates other than their folders' (kept in
    bronze; their own dates are reported as changed, see the module docstring)."""
    records = sum(d.records for d in dated)
    dates = business_dates_outside(dated)
    shown = ", ".join(d.isoformat() for d in dates[:MAX_DATES_SHOWN])
    more = f" and {len(dates) - MAX_DATES_SHOWN} more" if len(dates) > MAX_DATES_SHOWN else ""
    return AssetCheckResult(
        check_name=RECORDS_IN_FOLDER_DATE,
        passed=not dated,
        severity=AssetCheckSeverity.WARN,
        description=(
            f"{records} records dated outside their landing folder ({source.business_date_field}"
            f" {shown}{more}); their dates are reported as changed"
            if dated
            else "every record's business date is its landing folder's"
        ),
        metadata={
            "records_outside_folder_date": records,
            "business_dates": len(dates),
            "off_folder_dates": MetadataValue.json(
                [
                    {
                        "business_date": d.business_date.isoformat(),
                        "folder_date": d.folder_date.isoformat(),
                        "records": d.records,
                    }
                    for d in dated[:MAX_DATES_SHOWN]
                ]
            ),
        },
    )
