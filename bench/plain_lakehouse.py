"""Bronze -> silver -> gold as a hand-written PySpark + Delta script: the end-to-end baseline.

It runs the project's own transformation functions (cleansing, customer CDC into SCD2, the
dimension and fact builders), so the comparison isolates what the framework adds: no streams,
checkpoints or file ledger, no dead-letter split, no rules, checks, contracts or quarantine
accounting, no metadata, no Dagster. Each table is one plain ``write.format("delta")`` of the
whole date range.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

PLAIN_RUN_ID = "plain-script"


def read_landed(spark: SparkSession, landing: Path, source, folder: str = "*") -> DataFrame:  # type: ignore[no-untyped-def]
    """The landed files of ``source`` (every date folder, or ``folder``) read with its schema,
    plus the bronze metadata columns."""
    pattern = f"{landing}/{source.name}/{folder}/*.{source.file_format}"
    reader = spark.read.schema(source.schema)
    if source.file_format == "jsonl":
        rows = reader.json(pattern)
    elif source.file_format == "csv":
        rows = reader.option("header", True).csv(pattern)
    else:
        rows = reader.parquet(pattern)
    return (
        rows.withColumn("_source_file", F.col("_metadata.file_path"))
        .withColumn(
            "_landing_date",
            F.to_date(F.regexp_extract("_source_file", r"/(\d{4}-\d{2}-\d{2})/[^/]+$", 1)),
        )
        .withColumn("_ingestion_timestamp", F.current_timestamp())
        .withColumn("_ingestion_date", F.current_date())
        .withColumn("_batch_id", F.lit(PLAIN_RUN_ID))
    )


def run_plain_lakehouse(
    spark: SparkSession, landing: Path, out: Path, first: dt.date, last: dt.date
) -> dict[str, int]:
    """Build every bronze, silver and gold table from ``landing`` into ``out``; rows per table."""
    from lakehouse_assets.bronze.sources import ALL_SOURCES
    from lakehouse_assets.bronze.tables import bronze_table
    from lakehouse_assets.gold import tables as gold
    from lakehouse_assets.gold.calendar import CalendarConfig
    from lakehouse_assets.gold.dim_date import build_dim_date
    from lakehouse_assets.gold.dimensions import (
        build_dim_customer,
        build_dim_geography,
        build_dim_product,
        build_dim_supplier,
    )
    from lakehouse_assets.gold.facts import (
        build_daily_sales,
        build_fact_orders,
        build_fact_sales,
        resolve_customer_keys,
    )
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.silver import tables as silver
    from lakehouse_assets.silver.customers import apply_customer_changes
    from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    # The CDC apply MERGEs into existing tables; the store gives it the same paths and DDL.
    store = DeltaTableStore(spark, PathLocator(str(out)))

    def save(spec, rows: DataFrame, partition: str | None = None) -> DataFrame:  # type: ignore[no-untyped-def]
        path = store.identifier(spec)
        if partition:
            # What a competent script does (and the project's optimized writes do): one shuffle
            # by date, so each of the 2,406 partitions gets one file, not one per task.
            rows.repartition(partition).write.format("delta").mode("overwrite").partitionBy(
                partition
            ).save(path)
        else:
            rows.write.format("delta").mode("overwrite").save(path)
        return spark.read.format("delta").load(path)

    bronze = {
        source.name: save(bronze_table(source), read_landed(spark, landing, source))
        for source in ALL_SOURCES
    }
    orders = save(silver.ORDERS, cleanse_orders(bronze["orders"]), "order_date")
    lines = save(silver.LINE_ITEMS, cleanse_line_items(bronze["lineitem"]), "order_date")
    apply_customer_changes(
        store, bronze["customer_events"], DateWindow(first, last), PLAIN_RUN_ID
    ).release()

    save(gold.DIM_DATE, build_dim_date(spark, CalendarConfig()))
    geography = save(gold.DIM_GEOGRAPHY, build_dim_geography(bronze["nation"], bronze["region"]))
    products = save(gold.DIM_PRODUCT, build_dim_product(bronze["part"]))
    suppliers = save(gold.DIM_SUPPLIER, build_dim_supplier(bronze["supplier"], geography))
    customers = save(
        gold.DIM_CUSTOMER, build_dim_customer(store.read(silver.CUSTOMER_HISTORY), geography)
    )
    fact_orders = save(
        gold.FACT_ORDERS,
        build_fact_orders(orders, lines, resolve_customer_keys(orders, customers)),
        "order_date",
    )
    fact_sales = save(
        gold.FACT_SALES, build_fact_sales(lines, fact_orders, products, suppliers), "order_date"
    )
    save(gold.AGG_DAILY_SALES, build_daily_sales(fact_sales, customers, geography), "order_date")
    written = [
        *(bronze_table(s) for s in ALL_SOURCES),
        silver.ORDERS,
        silver.LINE_ITEMS,
        silver.CUSTOMER_HISTORY,
        gold.FACT_ORDERS,
        gold.FACT_SALES,
        gold.AGG_DAILY_SALES,
    ]
    return {spec.qualified_name: store.read(spec).count() for spec in written}


def run_plain_day(spark: SparkSession, landing: Path, out: Path, day: dt.date) -> None:
    """One newly landed day on the tables :func:`run_plain_lakehouse` built, the way a plain
    incremental script would: append the day's files to bronze, replace the day in silver and
    the facts (``replaceWhere``), apply the day's customer changes, rebuild the dimensions."""
    from lakehouse_assets.bronze.sources import ALL_SOURCES
    from lakehouse_assets.bronze.tables import bronze_table
    from lakehouse_assets.gold import tables as gold
    from lakehouse_assets.gold.dimensions import build_dim_customer
    from lakehouse_assets.gold.facts import (
        build_daily_sales,
        build_fact_orders,
        build_fact_sales,
        resolve_customer_keys,
    )
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.silver import tables as silver
    from lakehouse_assets.silver.customers import apply_customer_changes
    from lakehouse_assets.silver.transforms import cleanse_line_items, cleanse_orders
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    store = DeltaTableStore(spark, PathLocator(str(out)))
    window = DateWindow(day, day)

    def read(spec) -> DataFrame:  # type: ignore[no-untyped-def]
        return spark.read.format("delta").load(store.identifier(spec))

    def replace_day(spec, rows: DataFrame) -> DataFrame:  # type: ignore[no-untyped-def]
        rows.write.format("delta").mode("overwrite").option(
            "replaceWhere", window.sql_predicate("order_date")
        ).save(store.identifier(spec))
        return read(spec).where(window.sql_predicate("order_date"))

    new = {}
    for source in ALL_SOURCES:
        if not source.daily_extract:
            continue
        rows = read_landed(spark, landing, source, day.isoformat())
        rows.write.format("delta").mode("append").save(store.identifier(bronze_table(source)))
        new[source.name] = read(bronze_table(source)).where(
            F.col("_source_file").contains(f"/{day.isoformat()}/")
        )
    orders = replace_day(silver.ORDERS, cleanse_orders(new["orders"]))
    lines = replace_day(silver.LINE_ITEMS, cleanse_line_items(new["lineitem"]))
    apply_customer_changes(store, new["customer_events"], window, PLAIN_RUN_ID).release()
    geography, products = read(gold.DIM_GEOGRAPHY), read(gold.DIM_PRODUCT)
    suppliers = read(gold.DIM_SUPPLIER)
    build_dim_customer(store.read(silver.CUSTOMER_HISTORY), geography).write.format("delta").mode(
        "overwrite"
    ).save(store.identifier(gold.DIM_CUSTOMER))
    customers = read(gold.DIM_CUSTOMER)
    fact_orders = replace_day(
        gold.FACT_ORDERS, build_fact_orders(orders, lines, resolve_customer_keys(orders, customers))
    )
    fact_sales = replace_day(
        gold.FACT_SALES, build_fact_sales(lines, fact_orders, products, suppliers)
    )
    replace_day(gold.AGG_DAILY_SALES, build_daily_sales(fact_sales, customers, geography))


def run_plain_downstream(
    spark: SparkSession, out: Path, docs_dir: Path, first: dt.date, last: dt.date
) -> None:
    """What the project's run writes beyond gold, as plain code on the tables
    :func:`run_plain_lakehouse` built in ``out``: customer features and their drift, the
    knowledge base (chunks, embeddings by the same model, the ANN index) and the data
    dictionary. Same builders and model, one write each, no checks, no metadata, no Dagster.

    Embedding is the same work on either side (every chunk of a new knowledge base), so the
    week's ratio compares the framework's cost, not a model the plain side never runs.
    """
    from deltalake import write_deltalake

    from lakehouse_assets.catalog import lakehouse_tables
    from lakehouse_assets.features.assets import DRIFT_SCHEMA, drift_rows
    from lakehouse_assets.features.customer_features import build_customer_features
    from lakehouse_assets.features.tables import CUSTOMER_FEATURES, FEATURE_DRIFT
    from lakehouse_assets.gold import tables as gold
    from lakehouse_assets.monitoring.data_dictionary import (
        describe_lakehouse,
        dictionary_dataframe,
    )
    from lakehouse_assets.monitoring.tables import DATA_DICTIONARY
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, PathLocator
    from lakehouse_assets.vector_index.assets import ChunkingConfig
    from lakehouse_assets.vector_index.chunking import chunk_document
    from lakehouse_assets.vector_index.embeddings import embed_documents
    from lakehouse_assets.vector_index.encoder import MODEL_NAME, shared_encoder
    from lakehouse_assets.vector_index.publish import publish_local_index
    from lakehouse_assets.vector_index.sources import catalogue_documents, docs_documents
    from lakehouse_assets.vector_index.tables import document_rows

    store = DeltaTableStore(spark, PathLocator(str(out)))
    window = DateWindow(first, last)

    def save(spec, rows, partition: str) -> None:  # type: ignore[no-untyped-def]
        rows.repartition(partition).write.format("delta").mode("overwrite").partitionBy(
            partition
        ).save(store.identifier(spec))

    features = build_customer_features(
        store.read(gold.FACT_ORDERS),
        store.read(gold.DIM_CUSTOMER),
        store.read(gold.DIM_GEOGRAPHY),
        window,
    )
    save(CUSTOMER_FEATURES, features, "as_of_date")
    drift = [(day, ref, *d.as_row().values()) for day, ref, d in drift_rows(store, window)]
    save(FEATURE_DRIFT, spark.createDataFrame(drift, DRIFT_SCHEMA), "as_of_date")

    products = store.read(gold.DIM_PRODUCT).toPandas()
    sources = [*docs_documents(docs_dir), *catalogue_documents(products)]
    config = ChunkingConfig()
    chunks = [
        c for d in sources for c in chunk_document(d, config.chunk_size, config.chunk_overlap)
    ]
    documents = document_rows(chunks)
    kb = out / "vector_index"
    write_deltalake(str(kb / "documents"), documents, mode="overwrite")
    embedded = embed_documents(
        documents.to_pandas(),
        None,
        lambda texts: shared_encoder().encode(texts),
        MODEL_NAME,
        dt.datetime.now(dt.UTC),
    )
    write_deltalake(str(kb / "document_embeddings"), embedded.rows, mode="overwrite")
    publish_local_index(kb / "index", str(kb / "document_embeddings"), MODEL_NAME)

    entries = describe_lakehouse(store, [s for s in lakehouse_tables() if s != DATA_DICTIONARY])
    dictionary_dataframe(store, entries).write.format("delta").mode("overwrite").save(
        store.identifier(DATA_DICTIONARY)
    )


def run_plain_day_downstream(spark: SparkSession, out: Path, day: dt.date) -> None:
    """The new day's customer features and drift on the tables the plain script keeps.

    The project's daily run rewrites nothing else downstream on such a day (no snapshot landed,
    so the knowledge base and the data dictionary stand), so neither does the plain day.
    """
    from lakehouse_assets.features.assets import DRIFT_SCHEMA, drift_rows
    from lakehouse_assets.features.customer_features import build_customer_features
    from lakehouse_assets.features.tables import CUSTOMER_FEATURES, FEATURE_DRIFT
    from lakehouse_assets.gold import tables as gold
    from lakehouse_assets.partitions import DateWindow
    from lakehouse_assets.storage import DeltaTableStore, PathLocator

    store = DeltaTableStore(spark, PathLocator(str(out)))
    window = DateWindow(day, day)

    def replace_day(spec, rows) -> None:  # type: ignore[no-untyped-def]
        rows.write.format("delta").mode("overwrite").option(
            "replaceWhere", window.sql_predicate("as_of_date")
        ).save(store.identifier(spec))

    orders = store.read(gold.FACT_ORDERS, where=f"order_date <= DATE'{day.isoformat()}'")
    replace_day(
        CUSTOMER_FEATURES,
        build_customer_features(
            orders, store.read(gold.DIM_CUSTOMER), store.read(gold.DIM_GEOGRAPHY), window
        ),
    )
    drift = [(d, ref, *x.as_row().values()) for d, ref, x in drift_rows(store, window)]
    replace_day(FEATURE_DRIFT, spark.createDataFrame(drift, DRIFT_SCHEMA))
