"""The table abstraction's write patterns, on real Delta tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from deltalake import DeltaTable as RustDeltaTable
from pyspark.sql import functions as F

from lakehouse_assets.partitions import DateWindow
from lakehouse_assets.storage import DeltaTableStore, IdempotentWrite, PathLocator, TableSpec
from lakehouse_assets.storage.delta_tables import TableWriteError
from lakehouse_assets.storage.metadata import materialization_metadata

pytestmark = pytest.mark.spark

SALES = TableSpec(layer="gold", name="sales", partition_by=("order_date",), comment="test sales")
D1, D2, D3 = dt.date(1992, 1, 1), dt.date(1992, 1, 2), dt.date(1992, 1, 3)


def _rows(spark, day: dt.date, n: int, amount: str):
    data = [(day, i, Decimal(amount)) for i in range(n)]
    return spark.createDataFrame(data, "order_date date, order_id long, amount decimal(18,2)")


def _snapshot(store, spec, day):
    return sorted(
        tuple(r) for r in store.read_window(spec, DateWindow.single(day), "order_date").collect()
    )


@pytest.fixture
def store(spark, tmp_path):
    return DeltaTableStore(spark, PathLocator(str(tmp_path)))


@pytest.fixture
def three_days(spark, store):
    for day, n in ((D1, 3), (D2, 4), (D3, 5)):
        store.overwrite_window(
            SALES, _rows(spark, day, n, "1.00"), DateWindow.single(day), "order_date"
        )
    return store


def test_overwriting_one_partition_leaves_every_other_partition_intact(spark, three_days):
    store = three_days
    before = {day: _snapshot(store, SALES, day) for day in (D1, D3)}
    files_before = set(RustDeltaTable(store.identifier(SALES)).file_uris())

    result = store.overwrite_window(
        SALES, _rows(spark, D2, 2, "9.99"), DateWindow.single(D2), "order_date"
    )

    assert result.operation == "WRITE" and result.rows_written == 2
    assert {day: _snapshot(store, SALES, day) for day in (D1, D3)} == before
    assert [r[2] for r in _snapshot(store, SALES, D2)] == [Decimal("9.99")] * 2
    # The commit removed only D2's files: the files of D1 and D3 are the very same files.
    files_after = set(RustDeltaTable(store.identifier(SALES)).file_uris())
    untouched = {f for f in files_before if "order_date=1992-01-02" not in f}
    assert untouched <= files_after
    assert store.row_count(SALES) == 3 + 2 + 5


def test_rows_outside_the_window_are_rejected_and_the_table_is_unchanged(spark, three_days):
    store = three_days
    version = store.version(SALES)
    stray = _rows(spark, D2, 1, "1.00").union(_rows(spark, D3, 1, "7.00"))
    with pytest.raises(Exception, match="DELTA_REPLACE_WHERE_MISMATCH"):
        store.overwrite_window(SALES, stray, DateWindow.single(D2), "order_date")
    assert store.version(SALES) == version
    assert store.row_count(SALES) == 12


def test_window_overwrite_on_a_non_partition_column_is_refused(spark, three_days):
    df = _rows(spark, D1, 1, "1.00").withColumn("other_date", F.col("order_date"))
    with pytest.raises(TableWriteError, match="partitioned by"):
        three_days.overwrite_window(SALES, df, DateWindow.single(D1), "other_date")


def test_a_clustered_table_replaces_a_date_window_without_partition_directories(spark, tmp_path):
    store = DeltaTableStore(spark, PathLocator(str(tmp_path)))
    spec = TableSpec(layer="gold", name="clustered", cluster_by=("order_date",))
    two_days = _rows(spark, D1, 3, "1.00").union(_rows(spark, D2, 2, "2.00"))
    store.overwrite_window(spec, two_days, DateWindow(D1, D2), "order_date")
    store.overwrite_window(spec, _rows(spark, D2, 4, "5.00"), DateWindow.single(D2), "order_date")
    totals = store.read(spec).groupBy("order_date").agg(F.count(F.lit(1)), F.sum("amount"))
    assert {r[0]: (r[1], r[2]) for r in totals.collect()} == {
        D1: (3, Decimal("3.00")),
        D2: (4, Decimal("20.00")),
    }
    version = store.version(spec)
    with pytest.raises(Exception, match="DELTA_REPLACE_WHERE_MISMATCH"):
        store.overwrite_window(spec, _rows(spark, D3, 1, "1"), DateWindow.single(D2), "order_date")
    assert store.version(spec) == version
    assert store.detail(spec)["clusteringColumns"] == ["order_date"]
    assert not [p for p in (tmp_path / "gold" / "clustered").iterdir() if "=" in p.name]
    with pytest.raises(TableWriteError, match="neither partitioned nor clustered"):
        store.overwrite_window(
            TableSpec(layer="gold", name="plain"), two_days, DateWindow(D1, D2), "order_date"
        )


def test_idempotent_append_writes_a_micro_batch_once(spark, store):
    spec = TableSpec(layer="bronze", name="events")
    batch = _rows(spark, D1, 3, "1.00")
    first = store.append(spec, batch, idempotent=IdempotentWrite("stream-a", 0))
    retry = store.append(spec, batch, idempotent=IdempotentWrite("stream-a", 0))
    other_stream = store.append(spec, batch, idempotent=IdempotentWrite("stream-b", 0))
    assert (first.skipped, retry.skipped, other_stream.skipped) == (False, True, False)
    assert retry.rows_written == 0
    assert store.row_count(spec) == 6


def test_merge_upserts_on_business_keys(spark, store):
    spec = TableSpec(layer="silver", name="customers")
    schema = "customer_id long, name string, seq long"
    store.merge(spec, spark.createDataFrame([(1, "a", 1), (2, "b", 1)], schema), ["customer_id"])
    result = store.merge(
        spec,
        spark.createDataFrame([(2, "b2", 2), (3, "c", 1)], schema),
        ["customer_id"],
        update_condition="s.seq > t.seq",
    )
    assert result.operation == "MERGE"
    assert result.metrics["numTargetRowsInserted"] == 1
    assert result.metrics["numTargetRowsUpdated"] == 1
    stale = store.merge(
        spec,
        spark.createDataFrame([(2, "stale", 1)], schema),
        ["customer_id"],
        update_condition="s.seq > t.seq",
    )
    assert stale.rows_written == 0
    assert sorted(tuple(r) for r in store.read(spec).collect()) == [
        (1, "a", 1),
        (2, "b2", 2),
        (3, "c", 1),
    ]


def test_materialization_metadata_reports_rows_version_location_schema_partition(spark, three_days):
    store = three_days
    write = store.overwrite_window(
        SALES, _rows(spark, D1, 3, "2.00"), DateWindow.single(D1), "order_date"
    )
    meta = materialization_metadata(
        store, SALES, write=write, window=DateWindow.single(D1), date_column="order_date"
    )
    assert meta["dagster/row_count"] == 12
    assert meta["dagster/partition_row_count"] == 3
    assert meta["delta_version"] == write.version == store.version(SALES)
    assert meta["table_location"] == store.identifier(SALES)
    assert meta["partition"] == "1992-01-01"
    assert [c.name for c in meta["dagster/column_schema"].columns] == [
        "order_date",
        "order_id",
        "amount",
    ]
    assert meta["dagster/column_schema"].columns[2].type == "decimal(18,2)"


def test_tables_are_readable_by_delta_rs_at_the_documented_path(three_days, tmp_path):
    table = RustDeltaTable(str(tmp_path / "gold" / "sales"))
    assert table.to_pyarrow_table().num_rows == 12
    assert table.metadata().partition_columns == ["order_date"]
    assert table.metadata().description == "test sales"


def test_replace_keys_with_named_keys_touches_only_changed_rows_of_a_deletion_vector_table(
    spark, store
):
    """Deletion vectors on: a replace of keys 1 and 2 where only key 2 changed updates one row
    (the change feed shows it), leaves key 3 alone, and every reader counts what Spark sees."""
    from lakehouse_assets.storage.delta_log import LocalDeltaReader
    from lakehouse_assets.storage.delta_tables import ROW_LEVEL_CHANGE_PROPERTIES

    spec = TableSpec(layer="silver", name="keyed", properties=ROW_LEVEL_CHANGE_PROPERTIES)
    schema = "customer_id long, name string, _processing_timestamp timestamp"
    now = "current_timestamp() AS _processing_timestamp"
    first = spark.createDataFrame([(1, "a", None), (2, "b", None), (3, "c", None)], schema)
    store.overwrite(spec, first.selectExpr("customer_id", "name", now))
    before = store.version(spec)
    scope = spark.createDataFrame([(1,), (2,)], "customer_id long")
    rows = spark.createDataFrame([(1, "a", None), (2, "B", None)], schema).selectExpr(
        "customer_id", "name", now
    )
    store.replace_keys(
        spec,
        rows,
        scope=scope,
        scope_keys=["customer_id"],
        row_keys=["customer_id"],
        scope_values=[1, 2],
        volatile_columns=["_processing_timestamp"],
    )
    assert {(r.customer_id, r.name) for r in store.read(spec).collect()} == {
        (1, "a"),
        (2, "B"),
        (3, "c"),
    }
    changes = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", before + 1)
        .load(store.identifier(spec))
    )
    assert {(r.customer_id, r._change_type) for r in changes.collect()} == {
        (2, "update_preimage"),
        (2, "update_postimage"),
    }
    path = store.identifier(spec)
    assert LocalDeltaReader().row_count(path) is None  # statistics alone cannot say
    assert LocalDeltaReader().count_rows(path) == store.row_count(spec) == 3
