"""Which tables each asset writes, recorded on the asset itself, and every table in the graph.

An asset declares the tables it writes (``writes=`` of the asset factory): its own table first,
then the tables it writes on the side (a dead-letter queue, a quarantine table, the file
ledger, quality metrics). That declaration is the one source for

* the lakehouse's list of tables (:func:`tables_written`: the data dictionary, restores,
  ``lakehouse tables``), so a new table is added where its asset is written, nowhere else;
* the side tables' place in the asset graph (:func:`side_table_specs`): each is an asset of
  its own, keyed ``layer/table``, downstream of every asset that writes it, so the UI's lineage
  shows where rejected rows and operational records go. They are not executable: the writers
  fill them as part of their own step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dagster import AssetKey, AssetsDefinition, AssetSpec, MetadataValue

from lakehouse_assets.privacy import personal_columns
from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage import TableSpec

TABLES_METADATA_KEY = "lakehouse/tables"
# Side tables carry it: policies (SLAs, automation) are for the tables assets build.
TABLE_ROLE_TAG = "lakehouse/table_role"
SIDE_TABLE = "side"
# Snapshot tables whose partitions are kept as first known (features/snapshots.py): automation
# builds a date's snapshot once, never again because its inputs changed later.
SNAPSHOT_SEMANTICS_TAG = "lakehouse/snapshot_semantics"
AS_KNOWN = "as_known"


LAYER_TAG = "lakehouse/layer"
PERSONAL_COLUMNS_METADATA_KEY = "lakehouse/personal_columns"
PII_TAG = "lakehouse/contains_pii"


def table_tags(layer: str, table: TableSpec | None) -> dict[str, str]:
    """An asset's layer, and whether its table holds personal data."""
    pii = table is not None and table.contains_pii
    return {LAYER_TAG: layer, PII_TAG: "true" if pii else "false"}


def writes_metadata(tables: Sequence[TableSpec]) -> dict[str, Any]:
    """An asset's metadata naming the tables it writes (its own first)."""
    if not tables:
        return {}
    metadata: dict[str, Any] = {
        "dagster/table_name": tables[0].qualified_name,
        TABLES_METADATA_KEY: MetadataValue.json([_spec_json(t) for t in tables]),
    }
    # Column -> category of each table's personal data (privacy.PERSONAL_COLUMNS).
    personal = {t.qualified_name: personal_columns(t.qualified_name) for t in tables}
    if any(personal.values()):
        metadata[PERSONAL_COLUMNS_METADATA_KEY] = MetadataValue.json(
            {table: columns for table, columns in personal.items() if columns}
        )
    return metadata


def _spec_json(spec: TableSpec) -> dict[str, Any]:
    return {
        "layer": spec.layer,
        "name": spec.name,
        "partition_by": list(spec.partition_by),
        "cluster_by": list(spec.cluster_by),
        "comment": spec.comment,
        "properties": [list(p) for p in spec.properties],
        "contains_pii": spec.contains_pii,
        "retention": [spec.retention.kind, spec.retention.column] if spec.retention else None,
    }


def _spec_from_json(raw: dict[str, Any]) -> TableSpec:
    return TableSpec(
        layer=raw["layer"],
        name=raw["name"],
        partition_by=tuple(raw["partition_by"]),
        cluster_by=tuple(raw["cluster_by"]),
        comment=raw["comment"],
        properties=tuple((k, v) for k, v in raw["properties"]),
        contains_pii=raw["contains_pii"],
        retention=RowRetention(*raw["retention"]) if raw.get("retention") else None,
    )


def declared_tables(
    assets_def: AssetsDefinition | AssetSpec,
) -> dict[AssetKey, tuple[TableSpec, ...]]:
    """Per asset key of ``assets_def``: the tables it declares it writes (own table first)."""
    declared = {}
    specs = [assets_def] if isinstance(assets_def, AssetSpec) else assets_def.specs
    for spec in specs:
        key = spec.key
        raw = spec.metadata.get(TABLES_METADATA_KEY)
        if raw is not None:
            data = raw.data if isinstance(raw, MetadataValue) else raw
            declared[key] = tuple(_spec_from_json(t) for t in data)
    return declared


def tables_written(assets_defs: Iterable[AssetsDefinition | AssetSpec]) -> tuple[TableSpec, ...]:
    """Every table the assets write, once each, layer by layer in lineage order: within a
    layer the assets' own tables in asset order, then the side tables."""
    declared = [t for a in assets_defs for t in declared_tables(a).values()]
    seen: dict[str, TableSpec] = {}
    for table in [t[0] for t in declared] + [s for t in declared for s in t[1:]]:
        seen.setdefault(table.qualified_name, table)
    layers = list(dict.fromkeys(t.layer for t in seen.values()))
    return tuple(sorted(seen.values(), key=lambda t: layers.index(t.layer)))


def side_table_key(table: TableSpec) -> AssetKey:
    """A side table's asset key: its qualified name as a path (``bronze/dead_letter``)."""
    return AssetKey([table.layer, table.name])


def side_table_specs(assets_defs: Iterable[AssetsDefinition]) -> list[AssetSpec]:
    """One non-executable asset per table that assets write besides their own, downstream of
    every asset that writes it, beside its writers (:func:`side_table_group`)."""
    writers: dict[str, list[AssetKey]] = {}
    groups: dict[str, set[str]] = {}
    tables: dict[str, TableSpec] = {}
    for assets_def in assets_defs:
        for key, declared in declared_tables(assets_def).items():
            for table in declared[1:]:
                tables.setdefault(table.qualified_name, table)
                writers.setdefault(table.qualified_name, []).append(key)
                groups.setdefault(table.qualified_name, set()).add(
                    assets_def.group_names_by_key[key]
                )

    return [
        side_table_spec(
            table, writers[name], _names(writers[name]), side_table_group(table, groups[name])
        )
        for name, table in tables.items()
    ]


def side_table_group(table: TableSpec, writer_groups: Iterable[str]) -> str:
    """The lineage group of a side table: its writers' group when they share one (the file
    ledger beside bronze, ``monitoring.dq_metrics`` beside silver), so that its edges stay
    inside that group instead of crossing the main flow; else its own layer's. The table's
    schema stays what its name and ``lakehouse/layer`` tag say."""
    shared = set(writer_groups)
    return shared.pop() if len(shared) == 1 else table.layer


def side_table_spec(
    table: TableSpec,
    writers: Sequence[AssetKey],
    written_by: str,
    group: str | None = None,
) -> AssetSpec:
    """``table`` as a non-executable asset downstream of ``writers``, in ``group`` (default:
    its layer's)."""
    return AssetSpec(
        key=side_table_key(table),
        group_name=group or table.layer,
        description=f"{table.comment} Written by {written_by}.",
        deps=writers,
        kinds={"delta"},
        metadata=writes_metadata([table]),
        tags={TABLE_ROLE_TAG: SIDE_TABLE, **table_tags(table.layer, table)},
    )


def _names(keys: Sequence[AssetKey]) -> str:
    names = [k.to_user_string() for k in keys]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
