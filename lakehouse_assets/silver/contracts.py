"""Schema contracts (pandera models) of the silver tables; see ``quality.contracts``.

Ranges are those of the TPC-H specification; the quality rules decide what happens to a bad
row before it is written, the contract verifies what was written.
"""

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel, Field

from lakehouse_assets.partitions import BUSINESS_DATES

# The dates the partition calendar allows (TPC-H's 1992-1998 by default, today's with a live
# start), so a shifted or live landing is judged by the same rule as the historic one.
FIRST_DATE, LAST_DATE = BUSINESS_DATES
MONEY = T.DecimalType(18, 2)
RATE = T.DecimalType(4, 2)
SEGMENTS = ["AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"]


class SilverLineage(DataFrameModel):
    """Every silver row names the bronze file and batch it came from."""

    _source_file: T.StringType() = Field(nullable=False)
    _batch_id: T.LongType() = Field(nullable=False)
    _ingestion_timestamp: T.TimestampType() = Field(nullable=False)
    _processing_timestamp: T.TimestampType() = Field(nullable=False)


class SilverOrder(SilverLineage):
    order_id: T.LongType() = Field(nullable=False, gt=0)
    customer_id: T.LongType() = Field(nullable=True, gt=0)
    order_status: T.StringType() = Field(isin=["O", "F", "P"])
    total_price: MONEY = Field(ge=0)
    order_date: T.DateType() = Field(in_range={"min_value": FIRST_DATE, "max_value": LAST_DATE})
    order_priority: T.StringType() = Field(nullable=True)
    clerk: T.StringType() = Field(nullable=True, str_startswith="Clerk#")
    ship_priority: T.IntegerType() = Field(nullable=True, ge=0)
    comment: T.StringType() = Field(nullable=True)


class SilverLineItem(SilverLineage):
    order_id: T.LongType() = Field(nullable=False, gt=0)
    line_number: T.IntegerType() = Field(nullable=False, in_range={"min_value": 1, "max_value": 7})
    part_id: T.LongType() = Field(gt=0)
    supplier_id: T.LongType() = Field(gt=0)
    quantity: MONEY = Field(gt=0)
    extended_price: MONEY = Field(gt=0)
    discount_rate: RATE = Field(in_range={"min_value": 0, "max_value": 0.1})
    tax_rate: RATE = Field(in_range={"min_value": 0, "max_value": 0.08})
    return_flag: T.StringType() = Field(isin=["R", "A", "N"])
    line_status: T.StringType() = Field(isin=["O", "F"])
    ship_date: T.DateType() = Field(nullable=True)
    commit_date: T.DateType() = Field(nullable=True)
    receipt_date: T.DateType() = Field(nullable=True)
    ship_instruct: T.StringType() = Field(nullable=True)
    ship_mode: T.StringType() = Field(nullable=True)
    comment: T.StringType() = Field(nullable=True)
    order_date: T.DateType() = Field(in_range={"min_value": FIRST_DATE, "max_value": LAST_DATE})


class _CustomerAttributes(DataFrameModel):
    customer_id: T.LongType() = Field(nullable=False, gt=0)
    name: T.StringType() = Field(nullable=True)
    address: T.StringType() = Field(nullable=True)
    nation_id: T.LongType() = Field(nullable=True, ge=0)
    phone: T.StringType() = Field(nullable=True)
    market_segment: T.StringType() = Field(nullable=True)
    account_balance: MONEY = Field(nullable=True)
    comment: T.StringType() = Field(nullable=True)
    _source_file: T.StringType() = Field(nullable=False)
    _batch_id: T.LongType() = Field(nullable=False)
    _ingestion_timestamp: T.TimestampType() = Field(nullable=False)
    _processing_timestamp: T.TimestampType() = Field(nullable=False)


class SilverCustomer(_CustomerAttributes):
    """SCD1. Attribute values are the quality rules' business (warn), not the contract's."""

    updated_at: T.TimestampType() = Field(nullable=False)
    sequence_num: T.LongType() = Field(nullable=False, gt=0)


class SilverCustomerHistory(_CustomerAttributes):
    """SCD2 versions."""

    valid_from: T.TimestampType() = Field(nullable=False)
    valid_to: T.TimestampType() = Field(nullable=True)
    is_current: T.BooleanType() = Field(nullable=False)
    _start_sequence: T.LongType() = Field(nullable=False, gt=0)
    _end_sequence: T.LongType() = Field(nullable=True, gt=0)
    _last_sequence: T.LongType() = Field(nullable=False, gt=0)
    _last_event_ts: T.TimestampType() = Field(nullable=False)
