"""Bronze assets: the raw, append-only record of everything that landed, one per source."""

from dagster import AssetCheckSpec, AssetExecutionContext, AssetsDefinition, MaterializeResult

from lakehouse_assets.asset_factory import spark_asset
from lakehouse_assets.bronze.dating import RECORDS_IN_FOLDER_DATE
from lakehouse_assets.bronze.ingest import (
    INGESTION_ACCOUNTING,
    LANDED_FILES_INGESTED,
    NO_NEW_DEAD_LETTERS,
    NO_REJECTED_FILES,
    BronzeIngestConfig,
    materialize_bronze_source,
)
from lakehouse_assets.bronze.sources import ALL_SOURCES, LandingSource
from lakehouse_assets.bronze.tables import DEAD_LETTER, bronze_table
from lakehouse_assets.monitoring.tables import INGESTED_FILES, INGESTION_EVENTS, SCHEMA_CHANGES
from lakehouse_assets.operations.alerts import SCHEMA_DRIFT_CHECK


def bronze_asset_name(source: LandingSource) -> str:
    return f"bronze_{source.name}"


def bronze_source_asset(source: LandingSource) -> AssetsDefinition:
    """The bronze asset of one landed source (partition = landing date)."""
    name = bronze_asset_name(source)

    @spark_asset(
        name=name,
        layer="bronze",
        # Rejected records go to the dead-letter queue; every file to the ledger, every run
        # to the ingestion events, every new, mistyped or added field to the schema changes.
        writes=(
            bronze_table(source),
            DEAD_LETTER,
            INGESTED_FILES,
            INGESTION_EVENTS,
            SCHEMA_CHANGES,
        ),
        description=(
            f"Raw {source.name} ({source.file_format}) as landed under "
            f"landing/{source.name}/<date>/, ingested by an availableNow stream exactly once "
            "per file; unparseable records go to the dead-letter queue."
        ),
        check_specs=[
            AssetCheckSpec(
                LANDED_FILES_INGESTED,
                asset=name,
                blocking=True,
                description=(
                    "Every file landed for the partition is in the file ledger "
                    "(ingested, or rejected with a reason)."
                ),
            ),
            AssetCheckSpec(
                INGESTION_ACCOUNTING,
                asset=name,
                blocking=True,
                description=(
                    "Per file: records counted from its bytes = bronze rows + dead letters."
                ),
            ),
            AssetCheckSpec(
                NO_NEW_DEAD_LETTERS,
                asset=name,
                description="Warns when the run dead-lettered records (files and counts).",
            ),
            AssetCheckSpec(
                RECORDS_IN_FOLDER_DATE,
                asset=name,
                description=(
                    "Warns when records carry a business date other than their landing "
                    "folder's (how many, which dates); those dates are reported as changed."
                ),
            ),
            AssetCheckSpec(
                SCHEMA_DRIFT_CHECK,
                asset=name,
                description=(
                    "Warns when the run saw a field new or mistyped for the first time (kept "
                    "in _rescued_data, recorded in monitoring.schema_changes), naming it."
                ),
            ),
            AssetCheckSpec(
                NO_REJECTED_FILES,
                asset=name,
                description=(
                    "Warns when landed files were rejected (not the source's format, or not "
                    "in a date folder); each is in the file ledger with its reason."
                ),
            ),
        ],
    )
    def _bronze(context: AssetExecutionContext, config: BronzeIngestConfig) -> MaterializeResult:
        return materialize_bronze_source(context, source, config)

    return _bronze


bronze_assets = [bronze_source_asset(source) for source in ALL_SOURCES]
