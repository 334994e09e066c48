"""Column helpers every gold table uses: money and documented columns."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

MONEY = DecimalType(18, 2)


def money(amount: Column) -> Column:
    """Round half-up to the cent and store as decimal(18,2)."""
    return F.round(amount, 2).cast(MONEY)


def commented(column: Column, name: str, comment: str) -> Column:
    """``column`` named ``name`` with a column comment (it travels into the Delta schema)."""
    return column.alias(name, metadata={"comment": comment})
