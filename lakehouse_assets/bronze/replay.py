"""The dead-letter replay job, runnable from the Dagster UI (job config) and the CLI."""

from dagster import AssetMaterialization, Config, OpExecutionContext, job, op
from pydantic import Field

from lakehouse_assets.asset_factory import TABLE_WRITERS_POOL
from lakehouse_assets.bronze.batch import bronze_rows, current_schema
from lakehouse_assets.bronze.dead_letter import ReplayOptions, replay_dead_letters
from lakehouse_assets.bronze.sources import ALL_SOURCES, SOURCES_BY_NAME
from lakehouse_assets.resources.keys import step_launcher_key


class ReplayConfig(Config):
    """Options of a dead-letter replay."""

    source: str | None = Field(default=None, description="Only this source (default: all).")
    dry_run: bool = Field(default=False, description="List what would be replayed; change nothing.")
    limit: int | None = Field(default=None, description="At most this many dead letters.")
    batch_size: int = Field(default=1000, description="Dead letters per chunk.")
    throttle_seconds: float = Field(default=0.0, description="Pause between chunks.")


@op(
    required_resource_keys={"spark", "storage", step_launcher_key("bronze")},
    pool=TABLE_WRITERS_POOL,
)
def replay_dead_letters_op(context: OpExecutionContext, config: ReplayConfig) -> dict:
    """Re-parse pending dead letters with the current schema; move the ones that parse."""
    if config.source is not None and config.source not in SOURCES_BY_NAME:
        raise ValueError(
            f"unknown source {config.source!r}; expected one of {sorted(SOURCES_BY_NAME)}"
        )
    sources = [SOURCES_BY_NAME[config.source]] if config.source else list(ALL_SOURCES)
    session = context.resources.spark.get_session()
    store = context.resources.storage.store(session)
    report = replay_dead_letters(
        session,
        store,
        sources,
        ReplayOptions(
            source=config.source,
            dry_run=config.dry_run,
            limit=config.limit,
            batch_size=config.batch_size,
            throttle_seconds=config.throttle_seconds,
        ),
        replay_id=context.run_id,
        schema_of=lambda source: current_schema(store, source),
        bronze_rows_of=lambda good, source, batch: bronze_rows(
            good, source, batch, current_schema(store, source)
        ),
        log=context.log.info,
    )
    context.log.info(report.summary())
    if not config.dry_run:
        for source_name, dates in report.landing_dates.items():
            for day in sorted(dates):
                context.log_event(
                    AssetMaterialization(
                        asset_key=f"bronze_{source_name}",
                        partition=day.isoformat(),
                        description="dead letters replayed into bronze",
                        metadata={"replay_run": context.run_id},
                    )
                )
    return {
        "dry_run": report.dry_run,
        "examined": report.examined,
        "replayed": report.replayed,
        "bronze_rows": report.bronze_rows,
        "still_failing": report.still_failing,
        "reasons": dict(report.reasons),
        "samples": report.samples,
    }


@job(description="Replay the dead-letter queue into bronze (dry run, limit and throttle options).")
def replay_dead_letters_job() -> None:
    replay_dead_letters_op()
