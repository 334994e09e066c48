"""Bronze table specs: append-only, partitioned by ingestion date."""

from __future__ import annotations

from lakehouse_assets.bronze.sources import LandingSource
from lakehouse_assets.storage import TableSpec


def bronze_table(source: LandingSource) -> TableSpec:
    return TableSpec(
        layer="bronze",
        name=source.name,
        partition_by=("_ingestion_date",),
        comment=(
            f"Raw {source.name} records from {source.source_system}, exactly as landed, plus "
            "ingestion metadata. Append-only."
        ),
        properties=(("delta.appendOnly", "true"),),
    )
