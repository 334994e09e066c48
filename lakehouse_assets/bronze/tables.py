"""Bronze table specs: append-only source tables, and the dead-letter queue."""

from __future__ import annotations

from lakehouse_assets.bronze.sources import LandingSource
from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage import TableSpec

# Metadata columns every bronze table carries after the source fields.
RESCUED = "_rescued_data"
LANDING_DATE = "_landing_date"
INGESTION_TIMESTAMP = "_ingestion_timestamp"
INGESTION_DATE = "_ingestion_date"
SOURCE_FILE = "_source_file"
SOURCE_SYSTEM = "_source_system"
BATCH_ID = "_batch_id"
DEAD_LETTER_ID = "_dead_letter_id"
BRONZE_METADATA_COLUMNS = (
    RESCUED,
    LANDING_DATE,
    INGESTION_TIMESTAMP,
    INGESTION_DATE,
    SOURCE_FILE,
    SOURCE_SYSTEM,
    BATCH_ID,
    DEAD_LETTER_ID,
)

DEAD_LETTER = TableSpec(
    layer="bronze",
    name="dead_letter",
    partition_by=("source",),
    comment=(
        "Dead-letter queue: landed records that could not be parsed or keyed, kept raw with "
        "the reason, until a replay moves them to bronze (status 'replayed')."
    ),
    # A raw record of any source, customers' included.
    contains_pii=True,
    retention=RowRetention("dead_letters", "ingestion_timestamp"),
)


def bronze_table(source: LandingSource) -> TableSpec:
    return TableSpec(
        layer="bronze",
        name=source.name,
        partition_by=(INGESTION_DATE,),
        comment=(
            f"Raw {source.name} records from {source.source_system}, exactly as landed, plus "
            "ingestion metadata. Append-only."
        ),
        properties=(("delta.appendOnly", "true"),),
        contains_pii=source.contains_pii,
        retention=(
            RowRetention("raw_records", INGESTION_DATE) if source.raw_records_expire else None
        ),
    )
