"""Databricks-mode wiring, without Spark: settings, cluster specs, launcher config, DDL."""

from __future__ import annotations

import json

import pytest
from dagster import AssetKey
from pyspark.sql.types import DateType, LongType, StringType, StructField, StructType

from lakehouse_assets.definitions import build_definitions
from lakehouse_assets.resources import step_launcher_key
from lakehouse_assets.resources.databricks import (
    DatabricksSettings,
    new_cluster_spec,
    step_launcher_config,
)
from lakehouse_assets.resources.databricks_runtime import (
    DEFAULT_RUNTIME,
    RUNTIMES,
    StepEnvironment,
    require_matching_runtime,
    require_step_environment,
)
from lakehouse_assets.settings import LakehouseSettings, SettingsError
from lakehouse_assets.storage.ddl import create_table_sql

SECRET = "super-secret-client-secret"
ENV = {
    "LAKEHOUSE_ENV": "databricks",
    "LAKEHOUSE_CATALOG": "prod",
    "LAKEHOUSE_ROOT": "/tmp/lakehouse",
    "LAKEHOUSE_LANDING_ROOT": "abfss://landing@account.dfs.core.windows.net/tpch",
    "DATABRICKS_HOST": "https://workspace.example",
    "DATABRICKS_CLIENT_ID": "client-id",
    "DATABRICKS_CLIENT_SECRET": SECRET,
    "SLACK_BOT_TOKEN": "xoxb-not-for-the-cluster",
    "LAKEHOUSE_DATABRICKS_GOLD_NODE_TYPE": "r5d.2xlarge",
    "LAKEHOUSE_DATABRICKS_GOLD_MAX_WORKERS": "12",
}


def test_each_layer_gets_its_own_job_cluster_with_cost_tags_and_spot_fallback():
    settings = DatabricksSettings.from_env(ENV)
    bronze = new_cluster_spec(settings, "bronze", "prod")
    gold = new_cluster_spec(settings, "gold", "prod")
    assert bronze["nodes"]["node_types"]["node_type_id"] == "i3.xlarge"
    assert bronze["size"]["autoscale"] == {"min_workers": 1, "max_workers": 2}
    assert gold["nodes"]["node_types"]["node_type_id"] == "r5d.2xlarge"
    assert gold["size"]["autoscale"] == {"min_workers": 2, "max_workers": 12}
    assert {t["key"]: t["value"] for t in gold["custom_tags"]} == {
        "environment": "prod",
        "project": "lakehouse_assets",
        "owner": "data-platform",
        "layer": "gold",
    }
    assert gold["aws_attributes"] == {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1}
    conf = gold["spark_conf"]
    assert conf["spark.sql.adaptive.enabled"] == "true"
    assert conf["spark.sql.streaming.stateStore.providerClass"].endswith(
        "RocksDBStateStoreProvider"
    )
    assert conf["spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled"] == "true"
    azure = new_cluster_spec(
        DatabricksSettings.from_env({**ENV, "LAKEHOUSE_DATABRICKS_CLOUD": "azure"}), "silver", "dev"
    )
    assert azure["azure_attributes"]["availability"] == "SPOT_WITH_FALLBACK_AZURE"
    assert azure["nodes"]["node_types"]["node_type_id"] == "Standard_DS3_v2"


def test_launcher_config_references_credentials_and_never_contains_them():
    lakehouse = LakehouseSettings.from_env(ENV)
    settings = DatabricksSettings.from_env(lakehouse.environ)
    config = step_launcher_config(
        settings, "silver", environment="prod", remote_env=lakehouse.remote_environment()
    )
    text = json.dumps(config)
    assert SECRET not in text and "xoxb" not in text
    assert config["databricks_host"] == {"env": "DATABRICKS_HOST"}
    assert "databricks_token" not in config  # service principal: the SDK reads the env
    assert config["secrets_to_env_variables"] == [
        {"name": "DATABRICKS_CLIENT_ID", "scope": "lakehouse", "key": "databricks-client-id"},
        {
            "name": "DATABRICKS_CLIENT_SECRET",
            "scope": "lakehouse",
            "key": "databricks-client-secret",
        },
    ]
    remote = config["env_variables"]
    assert remote["LAKEHOUSE_ENV"] == "databricks" and remote["LAKEHOUSE_CATALOG"] == "prod"
    assert remote["LAKEHOUSE_LANDING_ROOT"] == ENV["LAKEHOUSE_LANDING_ROOT"]
    assert set(remote) <= {"DATABRICKS_HOST"} | {k for k in remote if k.startswith("LAKEHOUSE_")}
    pat = DatabricksSettings.from_env({"DATABRICKS_TOKEN": "dapi-x"})
    pat_config = step_launcher_config(pat, "bronze", environment="dev", remote_env={})
    assert pat_config["databricks_token"] == {"env": "DATABRICKS_TOKEN"}
    assert "dapi-x" not in json.dumps(pat_config)


def test_the_default_runtime_is_an_lts_with_this_environments_python_and_spark():
    here = StepEnvironment.of_this_process()
    runtime = require_matching_runtime(DEFAULT_RUNTIME, here)
    assert runtime.name.endswith("LTS") and runtime.scala == "2.13"
    assert DatabricksSettings.from_env({}).spark_version == DEFAULT_RUNTIME
    # Neither pyspark nor delta-spark goes onto a cluster: the runtime ships both.
    config = step_launcher_config(
        DatabricksSettings.from_env(ENV), "gold", environment="dev", remote_env={}
    )
    packages = [lib["pypi"]["package"] for lib in config["run_config"]["libraries"]]
    assert any(p.startswith("pandera==") for p in packages)
    assert not any(p.split("==")[0] in {"pyspark", "delta-spark"} for p in packages)


@pytest.mark.parametrize(
    ("key", "built_for", "message"),
    [
        ("15.4.x-scala2.12", StepEnvironment("3.12", "4.0"), "Python 3.11 on the cluster but 3.12"),
        ("16.4.x-scala2.13", StepEnvironment("3.12", "4.0"), "Spark 3.5 on the cluster but 4.0"),
        ("17.3.x-scala2.13", StepEnvironment("3.11", "4.2"), "Python 3.12 .* Spark 4.0"),
        ("14.3.x-scala2.12", StepEnvironment("3.12", "4.0"), "not a runtime this project knows"),
    ],
)
def test_a_runtime_other_than_the_steps_python_and_spark_is_refused(key, built_for, message):
    assert key == "14.3.x-scala2.12" or key in RUNTIMES
    with pytest.raises(SettingsError, match=message):
        require_matching_runtime(key, built_for)


def test_steps_are_staged_in_the_catalogs_volume_unless_told_otherwise():
    assert DatabricksSettings.from_env({"LAKEHOUSE_CATALOG": "prod"}).staging_prefix == (
        "/Volumes/prod/monitoring/step_staging"
    )
    dbfs = {"LAKEHOUSE_DATABRICKS_STAGING_PREFIX": "/dagster_staging"}
    assert DatabricksSettings.from_env(dbfs).staging_prefix == "/dagster_staging"
    from lakehouse_assets.resources.unity_catalog import grant_statements

    sql = grant_statements("prod", "sp")
    assert "CREATE VOLUME IF NOT EXISTS prod.monitoring.step_staging" in sql
    assert "GRANT READ VOLUME, WRITE VOLUME ON VOLUME prod.monitoring.step_staging TO `sp`" in sql


def test_the_cluster_checks_its_own_python_and_spark_against_the_steps():
    config = step_launcher_config(
        DatabricksSettings.from_env(ENV), "gold", environment="dev", remote_env={}
    )
    remote = config["env_variables"]
    here = StepEnvironment.of_this_process()
    assert (remote["LAKEHOUSE_STEP_PYTHON"], remote["LAKEHOUSE_STEP_SPARK"]) == (
        here.python,
        here.spark,
    )
    require_step_environment(f"{here.spark}.1", remote)  # same minor: runs
    with pytest.raises(RuntimeError, match=r"Spark 3\.5 on the cluster but 4\.0 on the orch"):
        require_step_environment("3.5.2", {**remote, "LAKEHOUSE_STEP_SPARK": "4.0"})


def test_a_mismatched_runtime_fails_when_the_definitions_load():
    env = {**ENV, "LAKEHOUSE_DATABRICKS_SPARK_VERSION": "15.4.x-scala2.12"}
    with pytest.raises(SettingsError, match=r"15\.4 LTS"):
        build_definitions(LakehouseSettings.from_env(env))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAKEHOUSE_DATABRICKS_CLOUD": "oracle"}, "LAKEHOUSE_DATABRICKS_CLOUD"),
        ({"LAKEHOUSE_DATABRICKS_BRONZE_MIN_WORKERS": "5"}, "exceeds"),
        ({"LAKEHOUSE_DATABRICKS_SPARK_CONF": "[1, 2]"}, "JSON object"),
        ({"LAKEHOUSE_DATABRICKS_STAGING_PREFIX": "relative"}, "absolute"),
        ({"LAKEHOUSE_DATABRICKS_STAGING_PREFIX": "/Volumes/prod/staging"}, "must name a volume"),
        ({"LAKEHOUSE_DATABRICKS_TIMEOUT_SECONDS": "soon"}, "not an integer"),
    ],
)
def test_bad_databricks_settings_fail_with_the_variable_named(env, message):
    with pytest.raises(SettingsError, match=message):
        DatabricksSettings.from_env(env)


def test_databricks_definitions_bind_every_spark_asset_to_its_layer_launcher():
    defs = build_definitions(LakehouseSettings.from_env(ENV))
    repo = defs.get_repository_def()
    resources = repo.get_top_level_resources()
    for key, assets_def in repo.assets_defs_by_key.items():
        layer = assets_def.group_names_by_key[key]
        launcher = step_launcher_key(layer)
        if key == AssetKey("pipeline_runs") or "spark" not in assets_def.specs_by_key[key].kinds:
            # Reads the Dagster instance, or needs no Spark: stays on the orchestrator.
            assert launcher not in assets_def.required_resource_keys
            continue
        assert launcher in assets_def.required_resource_keys, key
        assert resources[launcher].resource_fn.__name__ == "lakehouse_step_launcher"


def test_catalog_tables_are_created_with_comments_layout_and_properties():
    schema = StructType(
        [
            StructField("order_key", LongType(), False, {"comment": "Order's key"}),
            StructField("order_date", DateType(), True, {"comment": "Business date"}),
            StructField("status", StringType(), True),
        ]
    )
    sql = create_table_sql(
        "prod.silver.orders",
        schema,
        partition_by=["order_date"],
        comment="Orders, one row per order",
        properties={"delta.checkpointInterval": "10"},
    )
    assert sql.startswith("CREATE TABLE IF NOT EXISTS prod.silver.orders (")
    assert "`order_key` bigint NOT NULL COMMENT 'Order\\'s key'" in sql
    assert "`order_date` date COMMENT 'Business date'" in sql
    assert "`status` string," not in sql and "`status` string\n" in sql
    assert "USING DELTA\nPARTITIONED BY (`order_date`)" in sql
    assert "COMMENT 'Orders, one row per order'" in sql
    assert "TBLPROPERTIES ('delta.checkpointInterval' = '10')" in sql


def test_unity_catalog_grants_give_the_runner_its_catalog_and_readers_only_gold():
    from lakehouse_assets.resources.unity_catalog import grant_statements

    sql = grant_statements("prod", "0a1b-sp-app-id", readers="data-analysts")
    assert "GRANT USE CATALOG, CREATE SCHEMA ON CATALOG prod TO `0a1b-sp-app-id`" in sql
    assert (
        "GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA prod.bronze TO `0a1b-sp-app-id`"
        in sql
    )
    reader_grants = [s for s in sql if "`data-analysts`" in s]
    assert not any("bronze" in s or "silver" in s for s in reader_grants)
    assert "GRANT USE SCHEMA, SELECT ON SCHEMA prod.gold TO `data-analysts`" in reader_grants
    with pytest.raises(ValueError, match="catalog"):
        grant_statements("prod; DROP CATALOG prod", "sp")
