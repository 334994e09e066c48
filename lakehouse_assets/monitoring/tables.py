"""Specs of the monitoring tables."""

from __future__ import annotations

from lakehouse_assets.storage import TableSpec

INGESTED_FILES = TableSpec(
    layer="monitoring",
    name="ingested_files",
    comment=(
        "File ledger of bronze ingestion: one row per landed file a stream consumed, with its "
        "record accounting (records = bronze rows + rejected records)."
    ),
)
