"""Local tables read with delta-rs (versions, history, row counts, small lookups) and small
monitoring rows appended with it: no Spark job for either.

Every step reads a table's log several times: the version it produced, the commit's metrics,
the table's row count for the materialization. Through Spark each of those is a snapshot
rebuild plus a job (0.1 to 0.6 s on a laptop); delta-rs reads the same JSON and checkpoint
files in milliseconds. Only local tables are read this way: cloud paths would need delta-rs's
own credentials, and Unity Catalog tables are answered by the catalog (``DeltaTableStore``
keeps Spark for both).

The answers are the log's, not a reimplementation: the version and history are the commits
Spark wrote, and a row count is the sum of the ``numRecords`` statistics Spark writes for every
file. When a count cannot be exact from the log (a file without statistics, or a table that
may carry deletion vectors, whose rows the statistics still count), :meth:`row_count` says so
by returning ``None`` and the caller counts with Spark. :meth:`select` reads a few columns of
a small table (the file ledger) straight from its Parquet files, as Spark would, minus the job.

:func:`append_rows` writes a handful of rows (one monitoring row per run and source) as one
Delta commit: a Spark append of one row costs 0.2 to 1 s (a job, a snapshot, a commit and the
auto-compaction hook), delta-rs about 10 ms. The commit is an ordinary Delta append: Spark reads
it, and a concurrent writer of the same table is detected by the log's put-if-absent commit and
retried by delta-rs, as between two Spark writers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse


def is_local_path(identifier: str) -> bool:
    """A table identifier that names a directory on this machine (no cloud scheme)."""
    return urlparse(identifier).scheme in ("", "file")


class LocalDeltaReader:
    """Reads the Delta log of local tables. Stateless: every call sees the newest commit."""

    @staticmethod
    def _table(path: str):  # type: ignore[no-untyped-def]
        from deltalake import DeltaTable

        return DeltaTable(path)

    def exists(self, path: str) -> bool:
        """Whether ``path`` holds a Delta table (a ``_delta_log`` with a commit)."""
        from deltalake import DeltaTable

        return bool(DeltaTable.is_deltatable(path))

    def version(self, path: str) -> int:
        """The newest committed version."""
        return int(self._table(path).version())

    def columns(self, path: str) -> list[str]:
        """The column names of the newest version's schema."""
        return [field.name for field in self._table(path).schema().fields]

    def properties(self, path: str) -> dict[str, str]:
        """The table's properties (the metadata's configuration)."""
        return dict(self._table(path).metadata().configuration)

    def history(self, path: str, limit: int) -> list[Mapping[str, Any]]:
        """The newest ``limit`` commits, newest first, with Spark's field names
        (``version``, ``operation``, ``operationMetrics`` as strings, ``userMetadata``)."""
        commits = self._table(path).history(limit)
        return sorted(commits, key=lambda c: int(c["version"]), reverse=True)

    def row_count(self, path: str) -> int | None:
        """Rows in the table from its files' statistics, or ``None`` if the log alone cannot
        answer exactly (a file without ``numRecords``, or deletion vectors possible)."""
        import pyarrow as pa

        table = self._table(path)
        if "deletionVectors" in (table.protocol().reader_features or []):
            return None
        files = pa.table(table.get_add_actions(flatten=True))
        if files.num_rows == 0:
            return 0
        counts = files.column("num_records")
        if counts.null_count:
            return None
        return int(pa.compute.sum(counts).as_py())

    def count_rows(self, path: str) -> int:
        """Exact rows of the current version: from the statistics when they answer, else a
        ``count(*)`` through delta-rs's query engine (which applies deletion vectors, where
        its Arrow dataset refuses the table)."""
        counted = self.row_count(path)
        if counted is not None:
            return counted
        import pyarrow as pa
        from deltalake import QueryBuilder

        query = QueryBuilder().register("t", self._table(path))
        result = pa.table(query.execute("SELECT count(*) AS n FROM t").read_all())
        return int(result.column("n")[0].as_py())

    def select(
        self, path: str, columns: Sequence[str], equals: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """``columns`` of the rows where every ``equals`` column has its value (the table's
        current version; partition and statistics filters prune files first)."""
        import pyarrow.compute as pc

        condition = None
        for column, value in equals.items():
            term = pc.field(column) == value
            condition = term if condition is None else condition & term
        dataset = self._table(path).to_pyarrow_dataset()
        table = dataset.to_table(columns=list(columns), filter=condition)
        return list(zip(*(table.column(c).to_pylist() for c in columns), strict=True))


def append_rows(path: str, rows: Sequence[tuple[Any, ...]], schema: Any) -> None:
    """Append ``rows`` (tuples in the order of the Spark ``schema``'s fields) to the local
    table at ``path`` as one commit. Naive datetimes are UTC. The table must exist and have
    exactly this schema: delta-rs refuses a mismatch instead of evolving the table."""
    import pyarrow as pa
    from deltalake import write_deltalake
    from pyspark.sql.pandas.types import to_arrow_schema

    arrow_schema = to_arrow_schema(schema, timestamp_utc=True)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in arrow_schema]
    table = pa.Table.from_arrays(
        [
            pa.array(list(values), type=f.type)
            for values, f in zip(columns, arrow_schema, strict=True)
        ],
        schema=arrow_schema,
    )
    write_deltalake(path, table, mode="append")
