"""Jobs and schedules of the batch path. The streaming path is the landing sensors."""

from __future__ import annotations

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

from lakehouse_assets.bronze.replay import replay_dead_letters_job
from lakehouse_assets.partitions import daily_partitions

lakehouse_daily_job = define_asset_job(
    name="lakehouse_daily_job",
    selection=AssetSelection.groups("bronze", "silver", "gold", "monitoring"),
    partitions_def=daily_partitions,
    description="Bronze -> silver -> gold for one order date (or a range, as one run).",
)

ingest_bronze_job = define_asset_job(
    name="ingest_bronze_job",
    selection=AssetSelection.groups("bronze"),
    partitions_def=daily_partitions,
    description="Run the bronze ingestion streams (every new landed file, exactly once).",
)

# Daily at 05:00 UTC: the previous day's partition, ahead of the 07:00 gold SLA.
lakehouse_daily_schedule = build_schedule_from_partitioned_job(
    lakehouse_daily_job, hour_of_day=5, minute_of_hour=0
)

# For teams that prefer batch ingestion to the file-arrival sensors.
bronze_ingest_schedule = build_schedule_from_partitioned_job(
    ingest_bronze_job, hour_of_day=4, minute_of_hour=0, name="bronze_ingest_schedule"
)

jobs = [lakehouse_daily_job, ingest_bronze_job, replay_dead_letters_job]
schedules = [lakehouse_daily_schedule, bronze_ingest_schedule]
