"""Bronze assets: the raw, append-only record of everything that landed."""

from dagster import AssetCheckSpec, AssetExecutionContext, AssetsDefinition, MaterializeResult

from lakehouse_assets.asset_factory import spark_asset
from lakehouse_assets.bronze.ingest import LANDED_FILES_INGESTED, materialize_bronze_source
from lakehouse_assets.bronze.sources import LINEITEM, ORDERS, LandingSource


def bronze_source_asset(source: LandingSource) -> AssetsDefinition:
    """The bronze asset of one landed source (partition = landing date)."""
    name = f"bronze_{source.name}"

    @spark_asset(
        name=name,
        layer="bronze",
        description=(
            f"Raw {source.name} as landed under landing/{source.name}/<date>/, ingested by an "
            "availableNow stream (exactly once per file), plus ingestion metadata."
        ),
        check_specs=[
            AssetCheckSpec(
                LANDED_FILES_INGESTED,
                asset=name,
                blocking=True,
                description="Every file landed for the partition is in bronze (file ledger).",
            )
        ],
    )
    def _bronze(context: AssetExecutionContext) -> MaterializeResult:
        return materialize_bronze_source(context, source)

    return _bronze


bronze_orders = bronze_source_asset(ORDERS)
bronze_lineitem = bronze_source_asset(LINEITEM)

bronze_assets = [bronze_orders, bronze_lineitem]
