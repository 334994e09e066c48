"""Bronze's definitions: one asset per landed source and the dead-letter replay job; and,
given the whole graph, the landing sensor that starts each source's tables when files land."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    DefaultSensorStatus,
    Definitions,
)

from lakehouse_assets.bronze.assets import bronze_asset_name, bronze_assets
from lakehouse_assets.bronze.replay import replay_dead_letters_job
from lakehouse_assets.bronze.sensors import (
    LandingTarget,
    landing_sensor,
    list_landed,
    oldest_landed_after,
)
from lakehouse_assets.bronze.sources import ALL_SOURCES
from lakehouse_assets.partitions import PARTITION_CALENDAR
from lakehouse_assets.settings import LakehouseSettings


def build_defs() -> Definitions:
    return Definitions(assets=bronze_assets, jobs=[replay_dead_letters_job])


def snapshot_selection() -> AssetSelection:
    """The snapshot sources' assets: they land only on the days they change."""
    return AssetSelection.assets(
        *[bronze_asset_name(s) for s in ALL_SOURCES if not s.daily_extract]
    )


def landing_targets(assets: Sequence[AssetsDefinition]) -> dict[str, LandingTarget]:
    """Per source: its bronze asset and every table built from it (daily dates and whole
    tables), with their own checks, which one landing run materializes: a range run builds
    each whole table once."""
    # Tables only: monitoring (the data dictionary, run history) is the daily job's business.
    tables = {
        key
        for a in assets
        if a.is_executable
        for key in a.keys
        if a.group_names_by_key[key] != "monitoring"
    }
    checks_of = {key: _own_checks(a, {key}) for a in assets for key in a.keys}
    targets = {}
    for source in ALL_SOURCES:
        selection = AssetSelection.assets(bronze_asset_name(source)).downstream()
        keys = sorted(k for k in selection.resolve(assets) if k in tables)
        checks = [c for k in keys for c in checks_of.get(k, [])]
        targets[source.name] = LandingTarget(tuple(keys), tuple(checks))
    return targets


def generated_target(assets: Sequence[AssetsDefinition]) -> LandingTarget:
    """The table assets built from no source (the date dimension), with their own checks."""
    keys = {
        key
        for a in assets
        if a.is_executable
        for key in a.keys
        if not a.asset_deps[key] and a.group_names_by_key[key] in ("silver", "gold")
    }
    checks = [c for a in assets for c in _own_checks(a, keys)]
    return LandingTarget(tuple(sorted(keys)), tuple(checks))


def _own_checks(assets_def: AssetsDefinition, keys: set) -> list[AssetCheckKey]:
    """The checks an asset reports about ``keys`` (its own specs: never another definition's,
    such as the freshness checks judging it)."""
    return [c for c in assets_def.check_keys if c.asset_key in keys]


def landing_defs(
    settings: LakehouseSettings, assets: Sequence[AssetsDefinition], job_name: str
) -> Definitions:
    """The landing sensor of every source, starting ``job_name`` for exactly the sources and
    dates that landed, with the tables built from them in ``assets``. ``LAKEHOUSE_LIVE=true``
    starts it RUNNING."""
    live = DefaultSensorStatus.RUNNING if settings.operations.live else DefaultSensorStatus.STOPPED
    sensor = landing_sensor(
        ALL_SOURCES,
        landing_root=settings.landing_root,
        job_name=job_name,
        interval_seconds=settings.sensor_interval_seconds,
        calendar=PARTITION_CALENDAR,
        targets=landing_targets(assets),
        generated=generated_target(assets),
        default_status=live,
    )
    return Definitions(sensors=[sensor])


def landed_since(
    settings: LakehouseSettings,
) -> dict[AssetKey, Callable[[float | None], float | None]]:
    """Per bronze asset: the landing time of the oldest file of its source that landed after
    an instant (what a freshness SLA of a landed table is measured from)."""

    def oldest_after(landing_dir: str) -> Callable[[float | None], float | None]:
        return lambda after: oldest_landed_after(list_landed(landing_dir) or [], after)

    return {
        AssetKey(bronze_asset_name(source)): oldest_after(f"{settings.landing_root}/{source.name}")
        for source in ALL_SOURCES
    }
