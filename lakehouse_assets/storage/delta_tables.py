"""The table abstraction: one class owns every read and write pattern of the lakehouse.

Assets never call ``df.write`` themselves. They hand a DataFrame to :class:`DeltaTableStore`,
which knows where the table lives (a :class:`~lakehouse_assets.storage.locators.TableLocator`)
and writes it with one of three patterns:

* :meth:`DeltaTableStore.append` - bronze; optionally idempotent per (app id, version) so a
  retried streaming micro-batch is written exactly once.
* :meth:`DeltaTableStore.overwrite_window` - replace exactly the rows of a date window with
  Delta ``replaceWhere`` on the partition or clustering column; every other date is untouched,
  and rows outside the window are rejected by Delta instead of silently widening the overwrite.
* :meth:`DeltaTableStore.overwrite` - replace a whole unpartitioned table (small dimensions).
* :meth:`DeltaTableStore.merge` - upsert on business keys.

Every write returns a :class:`WriteResult` with the Delta version it produced and the row
metrics Delta recorded for the commit, so materialization metadata is read from the
transaction log rather than recomputed.

Everything goes through the DataFrame API and Delta's SQL (``MERGE INTO`` over a temporary
view, ``DESCRIBE HISTORY``, ``DESCRIBE DETAIL``), never through ``delta.tables.DeltaTable``:
that Python API drives the JVM directly, so it cannot work over Spark Connect (Databricks
serverless, standard access mode, Databricks Connect) without Delta's own Connect plugin on the
server, while the SQL forms work on a classic session and over Connect alike.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakehouse_assets.partitions import DateWindow
from lakehouse_assets.privacy import (
    column_mask_statements,
    personal_columns,
    statistics_columns,
    tag_schema,
)
from lakehouse_assets.retention import RowRetention
from lakehouse_assets.storage.ddl import create_table_sql
from lakehouse_assets.storage.delta_log import LocalDeltaReader, append_rows, is_local_path
from lakehouse_assets.storage.locators import TableLocator, check_identifier

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# Properties every lakehouse table gets. Auto-compaction keeps daily micro-writes from piling
# up small files; the checkpoint interval keeps log replay short on tables written daily.
DEFAULT_TABLE_PROPERTIES: Mapping[str, str] = {
    "delta.autoOptimize.optimizeWrite": "true",
    "delta.autoOptimize.autoCompact": "true",
    "delta.checkpointInterval": "10",
}

# For tables rewritten row by row on every run (MERGE): deletion vectors mark the changed rows
# instead of rewriting every file that holds one, and the change data feed lets a consumer read
# what a commit changed instead of the whole table. Declared per table (TableSpec.properties),
# not everywhere: delta-rs's Arrow readers (Polars, pandas through deltalake) refuse a table
# with deletion vectors, so tables that rarely MERGE and every table BI tools read (gold) stay
# without. Erasure purges the vectors before it vacuums (storage.maintenance.vacuum_erased).
ROW_LEVEL_CHANGE_PROPERTIES: tuple[tuple[str, str], ...] = (
    ("delta.enableDeletionVectors", "true"),
    ("delta.enableChangeDataFeed", "true"),
)


@dataclass(frozen=True)
class TableSpec:
    """A logical lakehouse table: layer + name, physical layout and documentation.

    ``partition_by`` makes Hive-style partition directories (for low-cardinality columns such
    as an ingestion date); ``cluster_by`` declares Delta liquid clustering instead (for a
    high-cardinality column such as an order date: one directory per day would write thousands
    of tiny files). A date window is replaced on either kind of column.
    """

    layer: str
    name: str
    partition_by: tuple[str, ...] = ()
    comment: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    cluster_by: tuple[str, ...] = ()
    # Holds personal data (a person's name, address or phone): tagged on its asset, and kept
    # out of logs, alerts and error messages.
    contains_pii: bool = False
    # Rows expire after the days configured for this kind of record (None: kept forever).
    retention: RowRetention | None = None

    def __post_init__(self) -> None:
        check_identifier("layer", self.layer)
        check_identifier("table", self.name)
        if self.partition_by and self.cluster_by:
            raise ValueError(f"{self.qualified_name}: partition_by or cluster_by, not both")

    @property
    def qualified_name(self) -> str:
        """``layer.table``: the engine-independent name used in logs and metadata."""
        return f"{self.layer}.{self.name}"


@dataclass(frozen=True)
class IdempotentWrite:
    """Delta's idempotent-write token: a commit with (app_id, version) is applied at most once.

    Structured Streaming ``foreachBatch`` sinks pass (stream id, batch id) so a micro-batch that
    is retried after a crash is skipped if its first attempt already committed.
    """

    app_id: str
    version: int


@dataclass(frozen=True)
class WriteResult:
    """What a write did, read back from the Delta log."""

    table: str
    version: int
    operation: str
    rows_written: int
    metrics: Mapping[str, int] = field(default_factory=dict)
    skipped: bool = False


# Commits to look back through for the write that was just made (past auto-compactions).
_HISTORY_LOOKBACK = 5


class TableWriteError(RuntimeError):
    """A write was refused before it could damage a table."""


class DeltaTableStore:
    """Reads and writes lakehouse tables for one Spark session and one locator."""

    def __init__(self, spark: SparkSession, locator: TableLocator) -> None:
        self.spark = spark
        self.locator = locator
        # Tables seen to exist. Every write checks existence; the lakehouse never drops a
        # table, so a positive answer is remembered instead of re-reading the Delta log.
        self._existing: set[str] = set()
        # Local tables' logs are read with delta-rs (milliseconds, no Spark job); cloud paths
        # and catalog tables through Spark.
        local = locator.by_path and is_local_path(locator.identifier("bronze", "probe"))
        self._log = LocalDeltaReader() if local else None

    # -- addressing -------------------------------------------------------------------------

    def identifier(self, spec: TableSpec) -> str:
        """The table's path (local / cloud storage) or Unity Catalog name."""
        return self.locator.identifier(spec.layer, spec.name)

    def exists(self, spec: TableSpec) -> bool:
        ident = self.identifier(spec)
        if ident in self._existing:
            return True
        if self._log is not None:
            found = self._log.exists(ident)
        elif self.locator.by_path:
            found = self._is_delta_path(spec)
        else:
            found = self.spark.catalog.tableExists(ident)
        if found:
            self._existing.add(ident)
        return bool(found)

    def _is_delta_path(self, spec: TableSpec) -> bool:
        from pyspark.errors import AnalysisException

        try:
            self.spark.sql(f"DESCRIBE HISTORY {self.sql_name(spec)} LIMIT 1").collect()
        except AnalysisException as error:
            if error_condition(error) in _NOT_A_TABLE:
                return False
            raise
        return True

    def history(self, spec: TableSpec, limit: int = 10) -> list[dict]:
        """The newest ``limit`` commits, newest first, with ``DESCRIBE HISTORY``'s fields
        (``version``, ``operation``, ``operationMetrics``, ``userMetadata``, ...). Local
        tables' logs are read with delta-rs, without a Spark job."""
        if self._log is not None:
            return [dict(h) for h in self._log.history(self.identifier(spec), limit)]
        rows = self.spark.sql(f"DESCRIBE HISTORY {self.sql_name(spec)} LIMIT {int(limit)}")
        return [row.asDict(recursive=True) for row in rows.collect()]

    def detail(self, spec: TableSpec) -> dict:
        """``DESCRIBE DETAIL``: files, bytes, layout and properties of the current version."""
        return self.spark.sql(f"DESCRIBE DETAIL {self.sql_name(spec)}").first().asDict()

    # -- reads ------------------------------------------------------------------------------

    def read(self, spec: TableSpec, where: str | None = None) -> DataFrame:
        """The table as a DataFrame, optionally filtered (filters on partition and stats
        columns prune files before anything is read)."""
        ident = self.identifier(spec)
        reader = self.spark.read.format("delta")
        df = reader.load(ident) if self.locator.by_path else self.spark.read.table(ident)
        return df.where(where) if where else df

    def columns(self, spec: TableSpec) -> list[str]:
        """The table's column names (local tables: from the Delta log, without Spark)."""
        if self._log is not None:
            return self._log.columns(self.identifier(spec))
        return self.read(spec).columns

    def select(
        self, spec: TableSpec, columns: Sequence[str], equals: Mapping[str, object]
    ) -> list[tuple]:
        """``columns`` of the rows matching ``equals`` (column = value), collected: for small
        lookups such as the file ledger. Local tables are read with delta-rs, without a job."""
        from pyspark.sql import functions as F

        if self._log is not None:
            return self._log.select(self.identifier(spec), columns, equals)
        df = self.read(spec)
        for column, value in equals.items():
            df = df.where(F.col(column) == F.lit(value))
        return [tuple(row) for row in df.select(*columns).collect()]

    def read_version(self, spec: TableSpec, version: int) -> DataFrame:
        """The table as it was at Delta ``version`` (time travel)."""
        reader = self.spark.read.format("delta").option("versionAsOf", version)
        if self.locator.by_path:
            return reader.load(self.identifier(spec))
        return reader.table(self.identifier(spec))

    def last_commit_metadata(self, spec: TableSpec) -> dict[str, str]:
        """The ``userMetadata`` JSON of the newest write that is not an OPTIMIZE ({} if none)."""
        if not self.exists(spec):
            return {}
        history = self._history(spec)
        writes = [h for h in history if h["operation"] != "OPTIMIZE"]
        if not writes:
            return {}
        latest = max(writes, key=lambda h: int(h["version"]))
        try:
            return dict(json.loads(latest.get("userMetadata") or "{}"))
        except (TypeError, ValueError):
            return {}

    @contextmanager
    def commit_metadata(self, metadata: Mapping[str, str]) -> Iterator[None]:
        """Attach ``metadata`` (as JSON ``userMetadata``) to the commits made inside the block:
        how one table records which version of another it was written against."""
        key = "spark.databricks.delta.commitInfo.userMetadata"
        self.spark.conf.set(key, json.dumps(dict(metadata), sort_keys=True))
        try:
            yield
        finally:
            self.spark.conf.unset(key)

    def read_window(self, spec: TableSpec, window: DateWindow, column: str) -> DataFrame:
        """Rows whose ``column`` (a DATE) falls in ``window``."""
        return self.read(spec, window.sql_predicate(column))

    def version(self, spec: TableSpec) -> int:
        """Current Delta version, or -1 when the table does not exist yet."""
        if not self.exists(spec):
            return -1
        if self._log is not None:
            return self._log.version(self.identifier(spec))
        return int(self.history(spec, 1)[0]["version"])

    def row_count(self, spec: TableSpec, where: str | None = None) -> int:
        """Row count. Without a filter it comes from the log's file statistics: read with
        delta-rs for local tables when they answer exactly, else by Spark."""
        if where is None and self._log is not None:
            counted = self._log.row_count(self.identifier(spec))
            if counted is not None:
                return counted
        return self.read(spec, where).count()

    def sql_name(self, spec: TableSpec) -> str:
        """The table as SQL names it: ``delta.`<path>``` or the Unity Catalog name."""
        ident = self.identifier(spec)
        if self.locator.by_path:
            return "delta.`" + ident.replace("`", "``") + "`"
        return ident

    def properties(self, spec: TableSpec) -> dict[str, str]:
        """The table's properties (TBLPROPERTIES) as they are now: from the log with delta-rs
        for local tables (read before every silver window, it must not cost a Spark job)."""
        if self._log is not None:
            return self._log.properties(self.identifier(spec))
        return dict(self.detail(spec)["properties"] or {})

    def set_properties(self, spec: TableSpec, properties: Mapping[str, str]) -> None:
        """Set table properties (one metadata commit). Keys and values are quoted literals."""
        assignments = ", ".join(
            f"'{_sql_literal(k)}' = '{_sql_literal(v)}'" for k, v in properties.items()
        )
        self.spark.sql(f"ALTER TABLE {self.sql_name(spec)} SET TBLPROPERTIES ({assignments})")

    @contextmanager
    def removing_rows(self, spec: TableSpec) -> Iterator[None]:
        """Allow the block to delete or rewrite rows of an append-only table (bronze): the
        lifecycle operations (retention, erasure) are the only ones that may. The guard is put
        back afterwards, also when the block fails."""
        append_only = self.properties(spec).get("delta.appendOnly") == "true"
        if append_only:
            self.set_properties(spec, {"delta.appendOnly": "false"})
        try:
            yield
        finally:
            if append_only:
                self.set_properties(spec, {"delta.appendOnly": "true"})

    # -- DDL --------------------------------------------------------------------------------

    def ensure_table(self, spec: TableSpec, schema: StructType) -> bool:
        """Create the table with ``schema`` if it does not exist. Returns True if created.

        Column comments travel in each field's ``comment`` metadata, so the table carries its
        own documentation (what ``DESCRIBE TABLE`` and the data dictionary show).
        """
        if self.exists(spec):
            return False
        ident = self.identifier(spec)
        schema = tag_schema(schema, spec.qualified_name)
        properties = {**DEFAULT_TABLE_PROPERTIES, **dict(spec.properties)}
        stats_columns = statistics_columns(schema, spec.qualified_name, spec.partition_by)
        if stats_columns is not None:
            properties["delta.dataSkippingStatsColumns"] = ",".join(f"`{c}`" for c in stats_columns)
        if not self.locator.by_path:
            self._create_catalog_table(spec, ident, schema, properties)
            return True
        # CREATE ... AS SELECT from an empty view of the schema: plain CREATE TABLE cannot carry
        # the fields' metadata (the personal-data tags), a CTAS of the view's columns does.
        empty = self.spark.createDataFrame([], schema)
        with self._as_view(empty) as view:
            self.spark.sql(
                create_table_sql(
                    self.sql_name(spec),
                    None,
                    partition_by=spec.partition_by,
                    cluster_by=spec.cluster_by,
                    comment=spec.comment,
                    properties=properties,
                    as_select=view,
                )
            )
        return True

    def _create_catalog_table(
        self, spec: TableSpec, ident: str, schema: StructType, properties: Mapping[str, str]
    ) -> None:
        # <catalog>.<layer> is the Unity Catalog schema; the principal needs CREATE SCHEMA on
        # its catalog (see docs/deploy.md). Names are validated identifiers.
        self.spark.sql(f"CREATE SCHEMA IF NOT EXISTS {ident.rsplit('.', 1)[0]}")
        self.spark.sql(
            create_table_sql(
                ident,
                schema,
                partition_by=spec.partition_by,
                cluster_by=spec.cluster_by,
                comment=spec.comment,
                properties=properties,
            )
        )
        locator = self.locator
        if getattr(locator, "column_policies", False) and personal_columns(spec.qualified_name):
            # Tags (and, on gold and features, masks) exist from the table's first commit on.
            catalog, readers = locator.catalog, locator.pii_readers  # type: ignore[attr-defined]
            for statement in column_mask_statements(catalog, [spec.qualified_name], readers):
                self.spark.sql(statement)

    # -- writes -----------------------------------------------------------------------------

    def append(
        self,
        spec: TableSpec,
        df: DataFrame,
        *,
        idempotent: IdempotentWrite | None = None,
        merge_schema: bool = False,
    ) -> WriteResult:
        """Append rows. With ``idempotent``, a repeat of the same (app_id, version) is a no-op."""
        self.ensure_table(spec, df.schema)
        # Only an idempotent write can be skipped; knowing the version before tells us if it was.
        before = self.version(spec) if idempotent is not None else None
        options: dict[str, str] = {}
        if idempotent is not None:
            options |= {"txnAppId": idempotent.app_id, "txnVersion": str(idempotent.version)}
        if merge_schema:
            options["mergeSchema"] = "true"
        self._save(spec, df, mode="append", options=options)
        return self._result_since(spec, before)

    def append_rows(self, spec: TableSpec, rows: Sequence[tuple], schema: str) -> None:
        """Append a few rows (tuples in ``schema``'s column order, a Spark DDL string) as one
        commit: the monitoring tables' one row per run. Local tables take delta-rs (see
        :func:`~lakehouse_assets.storage.delta_log.append_rows`), others a Spark append."""
        if self._log is None:
            self.append(spec, self.spark.createDataFrame(list(rows), schema))
            return
        from pyspark.sql.types import StructType

        struct = StructType.fromDDL(schema)
        self.ensure_table(spec, struct)
        append_rows(self.identifier(spec), rows, struct)

    def overwrite_window(
        self, spec: TableSpec, df: DataFrame, window: DateWindow, column: str
    ) -> WriteResult:
        """Atomically replace the rows of ``window`` (on DATE ``column``) with ``df``.

        Only rows matching the window predicate are replaced. If ``df`` holds a row outside
        the window, Delta rejects the whole write (``DELTA_REPLACE_WHERE_MISMATCH``) and the
        table is unchanged - the write can never turn into a full-table overwrite.
        """
        if column not in df.columns:
            raise TableWriteError(
                f"cannot overwrite {spec.qualified_name} by {column!r}: column not in the data"
            )
        if column not in spec.partition_by + spec.cluster_by:
            if spec.partition_by:
                layout = f"partitioned by {spec.partition_by}"
            elif spec.cluster_by:
                layout = f"clustered by {spec.cluster_by}"
            else:
                layout = "neither partitioned nor clustered"
            raise TableWriteError(
                f"{spec.qualified_name} is {layout}; a window overwrite on {column!r} would "
                "rewrite files across the table"
            )
        self.ensure_table(spec, df.schema)
        self._save(
            spec,
            df,
            mode="overwrite",
            options={"replaceWhere": window.sql_predicate(column)},
        )
        return self._result_since(spec)

    def overwrite(self, spec: TableSpec, df: DataFrame) -> WriteResult:
        """Atomically replace the whole table (small tables rebuilt from scratch each run).

        Readers see the old or the new version, never a mix; the old one stays restorable
        through time travel.
        """
        if spec.partition_by:
            raise TableWriteError(
                f"{spec.qualified_name} is partitioned; replace a window with overwrite_window"
            )
        self.ensure_table(spec, df.schema)
        self._save(spec, df, mode="overwrite", options={})
        return self._result_since(spec)

    def merge(
        self,
        spec: TableSpec,
        source: DataFrame,
        keys: Sequence[str],
        *,
        target_filter: str | None = None,
        update_condition: str | None = None,
    ) -> WriteResult:
        """Upsert ``source`` into the table on ``keys``.

        Args:
            keys: Business key columns; matched with null-safe equality.
            target_filter: Extra predicate on the target (``t.``) side, e.g. a partition window,
                so the merge prunes files instead of scanning the whole table.
            update_condition: Only update a matched row when this holds (e.g. newer sequence).
        """
        self.ensure_table(spec, source.schema)
        matched = f"WHEN MATCHED AND ({update_condition})" if update_condition else "WHEN MATCHED"
        self._merge(
            spec,
            source,
            self._key_condition(keys, target_filter),
            f"{matched} THEN UPDATE SET *",
            "WHEN NOT MATCHED THEN INSERT *",
        )
        return self._result_since(spec)

    def insert_missing(
        self,
        spec: TableSpec,
        source: DataFrame,
        keys: Sequence[str],
        *,
        target_filter: str | None = None,
    ) -> WriteResult:
        """Insert the rows of ``source`` whose key is not in the table yet (insert-only MERGE).

        Re-running it with the same rows inserts nothing, which makes a multi-table operation
        that crashed half-way safe to re-run. Allowed on append-only tables.
        """
        self.ensure_table(spec, source.schema)
        condition = self._key_condition(keys, target_filter)
        self._merge(spec, source, condition, "WHEN NOT MATCHED THEN INSERT *")
        return self._result_since(spec)

    def update_matched(
        self,
        spec: TableSpec,
        source: DataFrame,
        keys: Sequence[str],
        assignments: Mapping[str, str],
        *,
        target_filter: str | None = None,
    ) -> WriteResult:
        """Update rows matching ``source`` on ``keys`` with SQL ``assignments`` (``t``/``s``)."""
        condition = self._key_condition(keys, target_filter)
        self._merge(spec, source, condition, f"WHEN MATCHED THEN UPDATE SET {_set(assignments)}")
        return self._result_since(spec)

    def update(
        self,
        spec: TableSpec,
        assignments: Mapping[str, str],
        condition: str,
        args: Mapping[str, object] | None = None,
    ) -> WriteResult:
        """``UPDATE`` the rows matching SQL ``condition`` with SQL ``assignments`` (column ->
        expression); ``args`` binds the statements' ``:name`` parameters."""
        sets = ", ".join(f"{column} = {value}" for column, value in assignments.items())
        statement = f"UPDATE {self.sql_name(spec)} SET {sets} WHERE {condition}"
        self.spark.sql(statement, args=dict(args or {})).collect()
        return self._result_since(spec)

    def replace_keys(
        self,
        spec: TableSpec,
        rows: DataFrame,
        *,
        scope: DataFrame,
        scope_keys: Sequence[str],
        row_keys: Sequence[str],
        scope_values: Sequence[int] | None = None,
        volatile_columns: Sequence[str] = (),
    ) -> WriteResult:
        """Make the table's rows for the keys in ``scope`` exactly ``rows``, in one MERGE.

        Rows of in-scope keys that ``rows`` no longer holds are deleted, the others updated or
        inserted; keys outside ``scope`` are untouched. This is how derived-per-key tables
        (SCD1 current state, SCD2 history) are re-published after their keys are recomputed.

        Args:
            scope: Distinct ``scope_keys`` whose rows are replaced (may include keys with no rows
                left, e.g. deleted customers).
            row_keys: Columns that identify a row in the table (``scope_keys`` plus e.g. a
                version start); unique in ``rows``.
            scope_values: The scope's values of its one key column, when there are few: named
                literally (:func:`key_in_predicate`), so the read of the existing rows and the
                MERGE skip the files whose statistics rule them out, and a small scope costs
                the same however large the table grows.
            volatile_columns: Columns that change on every recomputation (a processing
                timestamp): a row equal to the table's in every other column is left as it
                is, so the change data feed records only the rows that really changed.
        """
        from pyspark.sql import functions as F

        missing = set(scope_keys) - set(row_keys)
        if missing:
            raise TableWriteError(f"row_keys {row_keys} must include the scope keys {missing}")
        self.ensure_table(spec, rows.schema)
        action = "_merge_action"
        scope_filter = target_filter = None
        if scope_values is not None:
            if len(scope_keys) != 1:
                raise TableWriteError("scope_values needs exactly one scope key column")
            scope_filter = key_in_predicate(scope_keys[0], scope_values)
            target_filter = key_in_predicate(scope_keys[0], scope_values, alias="t")
        existing = self.read(spec, scope_filter).join(scope, list(scope_keys), "left_semi")
        stale = existing.select(*row_keys).join(rows.select(*row_keys), list(row_keys), "left_anti")
        source = rows.withColumn(action, F.lit("upsert")).unionByName(
            stale.withColumn(action, F.lit("delete")), allowMissingColumns=True
        )
        values = {f"`{c}`": f"s.`{c}`" for c in rows.columns}
        compared = [c for c in rows.columns if c not in set(row_keys) | set(volatile_columns)]
        same = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in compared) or "TRUE"
        columns = ", ".join(values)
        self._merge(
            spec,
            source,
            self._key_condition(row_keys, target_filter),
            f"WHEN MATCHED AND s.{action} = 'delete' THEN DELETE",
            f"WHEN MATCHED AND NOT ({same}) THEN UPDATE SET {_set(values)}",
            f"WHEN NOT MATCHED AND s.{action} = 'upsert' THEN INSERT ({columns}) "
            f"VALUES ({', '.join(values.values())})",
        )
        return self._result_since(spec)

    def delete_keys_outside_window(
        self,
        spec: TableSpec,
        keys: DataFrame,
        window: DateWindow,
        column: str,
    ) -> list[dt.date]:
        """Delete the rows whose key is in ``keys`` and whose DATE ``column`` lies outside
        ``window``: the older versions of keys whose newest version the window now holds.
        Returns the dates that lost rows (nothing is written when there are none).

        One MERGE; the window itself is never touched, so this cannot undo the window's write.
        """
        from pyspark.sql import functions as F

        if not self.exists(spec):
            return []
        outside = self.read(spec).where(~F.expr(window.sql_predicate(column)))
        stale = outside.join(keys, list(keys.columns), "left_semi").select(column).distinct()
        dates = sorted(row[0] for row in stale.collect() if row[0] is not None)
        if not dates:
            return []
        condition = f"NOT ({window.sql_predicate('t.' + column)})"
        self._merge(
            spec, keys, self._key_condition(keys.columns, condition), "WHEN MATCHED THEN DELETE"
        )
        return dates

    # -- internals --------------------------------------------------------------------------

    def _merge(self, spec: TableSpec, source: DataFrame, condition: str, *clauses: str) -> None:
        """``MERGE INTO`` the table (alias ``t``) from ``source`` (alias ``s``)."""
        with self._as_view(source) as view:
            self.spark.sql(merge_sql(self.sql_name(spec), view, condition, clauses)).collect()

    @contextmanager
    def _as_view(self, df: DataFrame) -> Iterator[str]:
        """``df`` as a temporary view of a unique name for the block (SQL reads it by name;
        the name is unique so concurrent steps of one session never see each other's)."""
        name = f"_lakehouse_source_{uuid.uuid4().hex}"
        df.createOrReplaceTempView(name)
        try:
            yield name
        finally:
            self.spark.catalog.dropTempView(name)

    @staticmethod
    def _key_condition(keys: Sequence[str], target_filter: str | None) -> str:
        if not keys:
            raise TableWriteError("a merge needs at least one key column")
        condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
        return f"({condition}) AND ({target_filter})" if target_filter else condition

    def _save(self, spec: TableSpec, df: DataFrame, *, mode: str, options: dict[str, str]) -> None:
        ident = self.identifier(spec)
        if self.locator.by_path:
            df.write.format("delta").mode(mode).options(**options).save(ident)
            return
        # Catalog tables take the DataFrameWriterV2: the v1 saveAsTable overwrite replaces the
        # table through a nested plan that drops the DataFrame's observed metrics (the quality
        # counts), and v2 expresses replaceWhere as an overwrite predicate.
        from pyspark.sql import functions as F

        predicate = options.get("replaceWhere")
        writer = df.writeTo(ident).options(
            **{k: v for k, v in options.items() if k != "replaceWhere"}
        )
        if mode == "append":
            writer.append()
        else:
            writer.overwrite(F.expr(predicate) if predicate else F.lit(True))

    def unchanged(self, spec: TableSpec) -> WriteResult:
        """The result of a write that was not needed (nothing to change): no commit made, the
        table's current version reported."""
        return WriteResult(self.identifier(spec), self.version(spec), "NONE", 0, {}, skipped=True)

    def _history(self, spec: TableSpec) -> list[Mapping]:
        """The newest commits (Spark's history fields), from delta-rs where it can read them."""
        return self.history(spec, _HISTORY_LOOKBACK)

    def _result_since(self, spec: TableSpec, before: int | None = None) -> WriteResult:
        """Describe the write just made; with ``before``, report a skip if none was committed.

        Auto-compaction may add an OPTIMIZE commit right after a write, so the write is the
        newest commit that is not an OPTIMIZE (the lakehouse has one writer per table).
        """
        history = self._history(spec)
        latest = max(int(h["version"]) for h in history)
        writes = [
            h
            for h in history
            if h["operation"] != "OPTIMIZE" and (before is None or int(h["version"]) > before)
        ]
        if not writes:
            return WriteResult(self.identifier(spec), latest, "NONE", 0, {}, skipped=True)
        write = max(writes, key=lambda h: int(h["version"]))
        recorded = write.get("operationMetrics") or {}
        metrics = {k: int(v) for k, v in recorded.items() if str(v).isdigit()}
        return WriteResult(
            table=self.identifier(spec),
            version=latest,
            operation=str(write["operation"]),
            rows_written=_rows_written(metrics),
            metrics=metrics,
        )


def key_in_predicate(column: str, values: Sequence[int], alias: str | None = None) -> str:
    """``column IN (v1, v2, ...)`` for integer keys (``alias``: a MERGE's ``t``): a predicate
    Delta's data skipping answers from each file's min/max statistics, which it cannot do for
    a join with the keys (open-source Delta has no dynamic file pruning)."""
    check_identifier("column", column)
    name = f"{alias}.`{column}`" if alias else f"`{column}`"
    if not values:
        return "FALSE"
    return f"{name} IN ({', '.join(str(int(v)) for v in sorted(set(values)))})"


def merge_sql(target: str, source_view: str, condition: str, clauses: Sequence[str]) -> str:
    """``MERGE INTO target t USING source_view s ON condition <clauses>`` (clauses in order:
    Delta applies the first matching ``WHEN`` of each kind)."""
    if not clauses:
        raise TableWriteError("a MERGE needs at least one WHEN clause")
    return f"MERGE INTO {target} t USING `{source_view}` s ON {condition}\n" + "\n".join(clauses)


def _set(assignments: Mapping[str, str]) -> str:
    return ", ".join(f"t.{column} = {value}" for column, value in assignments.items())


# Error conditions that mean "no Delta table at this path" (anything else is re-raised).
_NOT_A_TABLE = frozenset(
    {
        "DELTA_MISSING_DELTA_TABLE",
        "DELTA_TABLE_NOT_FOUND",
        "PATH_NOT_FOUND",
        "DELTA_PATH_DOES_NOT_EXIST",
    }
)


def error_condition(error: Exception) -> str | None:
    """A Spark error's condition (``DELTA_MISSING_DELTA_TABLE``, ...), the same on a classic
    session and over Spark Connect; ``None`` for other errors."""
    condition = getattr(error, "getCondition", None)
    return condition() if condition else None


def _sql_literal(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _rows_written(metrics: Mapping[str, int]) -> int:
    """Rows a commit produced: output rows of a write, or inserted + updated rows of a MERGE."""
    if "numOutputRows" in metrics and "numTargetRowsInserted" not in metrics:
        return metrics["numOutputRows"]
    return metrics.get("numTargetRowsInserted", 0) + metrics.get("numTargetRowsUpdated", 0)
