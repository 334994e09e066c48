"""Erased customers stay erased: bronze drops, and counts, the records of a suppressed key.

Erasing a customer (``lakehouse erase-customer``) anonymizes their personal data in every table
and adds their key to ``monitoring.erasure_suppressions``. Landed files are the source's copy and
are not changed, so a file landed again (a re-delivery, a rebuilt checkpoint) or a dead letter
replayed would bring the person back; this is what stops it:

* a parsed record whose key is suppressed is neither written to bronze nor dead-lettered;
* a record that failed to parse is matched on its raw text (``"c_custkey": 42``), so its raw
  bytes never reach the dead-letter queue either.

Both are counted per file (``suppressed`` in the file ledger), so the accounting stays whole:
records = bronze rows + dead letters + suppressed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from lakehouse_assets.bronze.parsing import ERROR_REASON
from lakehouse_assets.bronze.readers import RAW
from lakehouse_assets.bronze.tables import bronze_table
from lakehouse_assets.monitoring.tables import ERASURE_SUPPRESSIONS
from lakehouse_assets.privacy import CUSTOMER_KEY_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import Column

    from lakehouse_assets.bronze.sources import LandingSource
    from lakehouse_assets.storage import DeltaTableStore

SUPPRESSED = "_suppressed"


def subject_key(source: LandingSource) -> str | None:
    """The field of ``source`` holding the key of the customer a record is about, if any."""
    return CUSTOMER_KEY_COLUMNS.get(bronze_table(source).qualified_name)


def suppressed_keys(store: DeltaTableStore, source: LandingSource) -> tuple[int, ...]:
    """The erased customers' keys, when ``source`` holds customers' records."""
    if subject_key(source) is None or not store.exists(ERASURE_SUPPRESSIONS):
        return ()
    rows = store.read(ERASURE_SUPPRESSIONS).select("customer_id").distinct().collect()
    return tuple(sorted(int(row[0]) for row in rows))


def raw_key_pattern(field: str, keys: Sequence[int]) -> str:
    """A regex finding ``"field": <key>`` (quoted or not) in a raw JSON record."""
    alternatives = "|".join(str(int(key)) for key in keys)
    return rf'"{re.escape(field)}"\s*:\s*"?\s*({alternatives})\s*"?\s*[,}}]'


def suppressed_column(source: LandingSource, keys: Sequence[int]) -> Column:
    """True for a parsed record (or a record that failed to parse) of a suppressed key."""
    field = subject_key(source)
    if field is None or not keys:
        return F.lit(False)
    parsed = F.col(f"`{field}`").isin(*keys) & F.col(ERROR_REASON).isNull()
    unparsed = F.col(ERROR_REASON).isNotNull() & F.col(RAW).rlike(raw_key_pattern(field, keys))
    return F.coalesce(parsed | unparsed, F.lit(False))
