"""Each layer owns its definitions; every written table is in the graph; imports run one way.

No Spark: the Definitions are built and read, and the package's imports parsed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from dagster import AssetKey

from lakehouse_assets.catalog import lakehouse_tables
from lakehouse_assets.definitions import build_definitions, layer_definitions
from lakehouse_assets.resources.unity_catalog import WRITTEN_SCHEMAS

from .lakehouse import settings_for

PACKAGE = Path(__file__).resolve().parents[1] / "lakehouse_assets"

# What the lakehouse wrote before the tables came from the graph (the hand-kept catalogue).
TABLES = {
    *(f"bronze.{s}" for s in ("orders", "lineitem", "customer_events", "part", "supplier")),
    *(f"bronze.{s}" for s in ("nation", "region", "dead_letter")),
    *(f"silver.{s}" for s in ("orders", "line_items", "orders_quarantine")),
    *(f"silver.{s}" for s in ("line_items_quarantine", "customers", "customer_history")),
    "silver.customer_events_quarantine",
    "silver.customer_events",
    *(f"gold.{s}" for s in ("dim_date", "dim_geography", "dim_product", "dim_supplier")),
    *(f"gold.{s}" for s in ("dim_customer", "fact_orders", "fact_sales", "agg_daily_sales")),
    "features.customer_features",
    "monitoring.feature_drift",
    "vector_index.documents",
    "vector_index.document_embeddings",
    *(f"monitoring.{s}" for s in ("ingested_files", "ingestion_events", "schema_changes")),
    *(f"monitoring.{s}" for s in ("dq_metrics", "data_dictionary", "sla_metrics")),
    "monitoring.pipeline_runs",
    *(f"monitoring.{s}" for s in ("table_maintenance", "erasure_audit", "erasure_suppressions")),
    "monitoring.table_versions",
}


@pytest.fixture(scope="module")
def defs(tmp_path_factory):
    return build_definitions(settings_for(tmp_path_factory.mktemp("lh")))


def test_the_tables_come_from_the_graph_and_are_all_there(defs):
    assert {t.qualified_name for t in lakehouse_tables(defs)} == TABLES


@pytest.mark.parametrize(
    ("table", "writers"),
    [
        ("bronze/dead_letter", {"bronze_orders", "bronze_lineitem", "bronze_customer_events"}),
        ("monitoring/ingested_files", {"bronze_part", "bronze_supplier"}),
        ("silver/orders_quarantine", {"silver_orders"}),
        ("silver/line_items_quarantine", {"silver_line_items"}),
        ("silver/customer_history", {"silver_customers"}),
        ("silver/customer_events_quarantine", {"silver_customers"}),
        ("monitoring/dq_metrics", {"silver_orders", "silver_line_items", "silver_customers"}),
    ],
)
def test_every_side_table_is_downstream_of_what_writes_it(defs, table, writers):
    graph = defs.resolve_asset_graph()
    node = graph.get(AssetKey.from_user_string(table))
    assert writers <= {k.to_user_string() for k in node.parent_keys}
    assert not node.is_executable  # filled by its writers' steps
    layer, name = table.split("/")
    # Beside its writers in the lineage: in their group, whatever schema the table is in.
    assert {graph.get(k).group_name for k in node.parent_keys} == {node.group_name}
    assert node.tags["lakehouse/layer"] == layer
    assert node.metadata["dagster/table_name"] == f"{layer}.{name}"
    assert node.description and "Written by" in node.description


# Left to right in the lineage: an edge never runs back to an earlier layer.
LINEAGE_ORDER = {"bronze": 0, "silver": 1, "gold": 2, "features": 3, "vector_index": 3}


def test_the_lineage_reads_left_to_right_by_layer(defs):
    """Every edge runs from a layer to itself or a later one, and a side table sits in its
    writers' group; the monitoring tables that describe the whole lakehouse draw no edge at
    all (they read the catalog and refresh on their own condition)."""
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        for parent in node.parent_keys:
            source, target = graph.get(parent).group_name, node.group_name
            assert LINEAGE_ORDER[source] <= LINEAGE_ORDER[target], (parent, key)
    for name in ("data_dictionary", "pipeline_runs"):
        node = graph.get(AssetKey(name))
        assert not node.parent_keys and not node.child_keys, name
        assert "refreshed daily" in (node.automation_condition.get_label() or ""), name
    fan_in = max(len(graph.get(k).parent_keys) for k in graph.get_all_asset_keys())
    assert fan_in <= 8, fan_in  # a node drawing edges from everything shows here first


def test_the_dictionary_refreshes_when_the_table_catalog_changes():
    from lakehouse_assets.monitoring.tables import PIPELINE_RUNS
    from lakehouse_assets.observability.assets import catalog_code_version
    from lakehouse_assets.storage import TableSpec

    catalog = [PIPELINE_RUNS]
    new_table = TableSpec("gold", "dim_store", comment="Stores.")
    assert catalog_code_version(catalog) == catalog_code_version(list(catalog))
    assert catalog_code_version(catalog) != catalog_code_version([*catalog, new_table])


def test_every_table_asset_has_owner_code_version_tags_and_source(defs):
    graph = defs.resolve_asset_graph()
    executable = [graph.get(k) for k in graph.get_all_asset_keys() if graph.get(k).is_executable]
    assert len(executable) == 25
    for node in executable:
        assert node.owners == ["team:data-platform"], node.key
        assert node.code_version, node.key
        assert node.tags["lakehouse/layer"] == node.group_name, node.key
        assert node.tags["lakehouse/contains_pii"] in ("true", "false"), node.key
        (reference,) = node.metadata["dagster/code_references"].code_references
        assert Path(reference.file_path).is_file() and reference.line_number > 0
    pii = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).tags.get("lakehouse/contains_pii") == "true"
    }
    assert pii == {
        "bronze_customer_events",
        "bronze_supplier",
        "bronze/dead_letter",
        "silver_customers",
        "silver/customer_history",
        "silver/customer_events",
        "silver/customer_events_quarantine",
        "dim_supplier",
        "dim_customer",
    }


def test_a_layers_code_version_changes_with_its_source(tmp_path):
    from lakehouse_assets.asset_factory import _package_digest

    (tmp_path / "assets.py").write_text("X = 1\n")
    before = _package_digest(str(tmp_path))
    _package_digest.cache_clear()
    (tmp_path / "transforms.py").write_text("Y = 2\n")
    assert _package_digest(str(tmp_path)) != before


def test_each_layer_hands_up_only_its_own_assets(tmp_path):
    layers = layer_definitions(settings_for(tmp_path)).assets or []
    groups = {group for a in layers for group in a.group_names_by_key.values()}
    assert groups == {"bronze", "silver", "gold", "features", "vector_index"}


def test_the_runner_is_granted_every_schema_a_table_lives_in(defs):
    assert {t.layer for t in lakehouse_tables(defs)} == set(WRITTEN_SCHEMAS)


# What a layer may import: shared foundations and the layers it reads from.
FOUNDATIONS = {
    "settings",
    "partitions",
    "retention",
    "privacy",
    "storage",
    "quality",
    "monitoring",
    "resources",
    "asset_factory",
    "table_checks",
    "table_lineage",
    "windowed",
    "rejection",
    "operations",
    "faults",
}
READS_FROM = {
    "bronze": set(),
    "silver": {"bronze"},
    "gold": {"bronze", "silver"},
    "features": {"gold"},
    "vector_index": {"gold"},
}


def _imported_packages(folder: str) -> set[str]:
    """The top-level ``lakehouse_assets`` modules/packages imported by ``folder``'s modules."""
    found = set()
    for path in (PACKAGE / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            found |= {n.split(".")[1] for n in names if n.startswith("lakehouse_assets.")}
    return found - {folder}


@pytest.mark.parametrize("layer", sorted(READS_FROM))
def test_a_layer_imports_only_foundations_and_the_layers_it_reads_from(layer):
    assert _imported_packages(layer) <= FOUNDATIONS | READS_FROM[layer]


@pytest.mark.parametrize("foundation", sorted(FOUNDATIONS - {"windowed", "table_checks"}))
def test_no_foundation_imports_a_layer_or_the_graph(foundation):
    above = {*READS_FROM, "definitions", "catalog", "jobs", "observability", "lifecycle", "cli"}
    module = foundation if (PACKAGE / foundation).is_dir() else None
    if module is None:
        tree = ast.parse((PACKAGE / f"{foundation}.py").read_text())
        names = {
            (n.module or "").split(".")[1]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("lakehouse_assets.")
        }
    else:
        names = _imported_packages(module)
    assert not names & above


def test_freshness_checks_cover_the_built_tables_of_a_whole_definitions(defs):
    """Given everything a Definitions holds (side-table specs included), the SLA checks are
    the executable tables of the layers with an SLA, one each."""
    from lakehouse_assets.operations.freshness_checks import freshness_check_keys

    keys = {k.asset_key.to_user_string() for k in freshness_check_keys(defs.assets or [])}
    assert "bronze_orders" in keys and "document_index" in keys
    assert not {k for k in keys if "/" in k}  # no side table
    assert "data_dictionary" not in keys


# What a Spark Connect client does not have: the JVM gateway, the SparkContext, RDDs, and
# Delta's Python table API (which drives the JVM; Delta's SQL does the same over Connect).
CLASSIC_ONLY_ATTRIBUTES = {"sparkContext", "_jvm", "_jsc", "_jdf", "_jsparkSession", "rdd"}
CLASSIC_ONLY_MODULES = ("delta.tables", "delta.exceptions", "delta.pip_utils")


def test_the_package_uses_nothing_a_spark_connect_client_lacks():
    """The slice test runs the assets through Spark Connect; this names every module of the
    package (jobs, checks, the CLI's table commands) that a run there may not reach."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in CLASSIC_ONLY_ATTRIBUTES:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} .{node.attr}")
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            found += [
                f"{path.relative_to(PACKAGE)}:{node.lineno} import {m}"
                for m in modules
                if m.startswith(CLASSIC_ONLY_MODULES)
            ]
    assert found == []
