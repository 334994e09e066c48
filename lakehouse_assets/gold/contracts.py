"""Schema contracts (pandera models) of the gold tables; see ``quality.contracts``."""

import pyspark.sql.types as T
from pandera.pyspark import DataFrameModel, Field

from lakehouse_assets.silver.contracts import FIRST_DATE, LAST_DATE, MONEY, RATE


def _date_key(day) -> int:  # type: ignore[no-untyped-def]
    return day.year * 10_000 + day.month * 100 + day.day


DATE_KEYS = {"min_value": _date_key(FIRST_DATE), "max_value": _date_key(LAST_DATE)}
ORDER_DATES = {"min_value": FIRST_DATE, "max_value": LAST_DATE}
YEARS = {"min_value": FIRST_DATE.year, "max_value": LAST_DATE.year}
FISCAL_YEARS = {"min_value": FIRST_DATE.year, "max_value": LAST_DATE.year + 1}


_KEY = {"nullable": False}
_OPTIONAL_DATE_KEY = {
    "nullable": True,
    "in_range": {
        "min_value": _date_key(FIRST_DATE),
        "max_value": (LAST_DATE.year + 1) * 10_000 + 1231,
    },
}


class _SalesMeasures(DataFrameModel):
    """The measures fact_sales and agg_daily_sales share (a line, or a sum of lines)."""

    quantity: MONEY = Field(gt=0)
    gross_amount: MONEY = Field(gt=0)
    discount_amount: MONEY = Field(ge=0)
    net_amount: MONEY = Field(ge=0)
    tax_amount: MONEY = Field(ge=0)
    total_amount: MONEY = Field(ge=0)
    order_date: T.DateType() = Field(in_range=ORDER_DATES)


class FactOrders(DataFrameModel):
    date_key: T.IntegerType() = Field(in_range=DATE_KEYS)
    order_id: T.LongType() = Field(gt=0)
    customer_key: T.LongType() = Field(**_KEY)
    order_status: T.StringType() = Field(isin=["O", "F", "P"])
    order_priority: T.StringType() = Field(nullable=True)
    ship_priority: T.IntegerType() = Field(nullable=True, ge=0)
    clerk: T.StringType() = Field(nullable=True)
    total_price: MONEY = Field(ge=0)
    line_count: T.IntegerType() = Field(in_range={"min_value": 0, "max_value": 7})
    net_amount: MONEY = Field(ge=0)
    order_date: T.DateType() = Field(in_range=ORDER_DATES)


class FactSales(_SalesMeasures):
    date_key: T.IntegerType() = Field(in_range=DATE_KEYS)
    order_id: T.LongType() = Field(gt=0)
    line_number: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 7})
    customer_key: T.LongType() = Field(**_KEY)
    product_key: T.LongType() = Field(**_KEY)
    supplier_key: T.LongType() = Field(**_KEY)
    ship_date_key: T.IntegerType() = Field(**_OPTIONAL_DATE_KEY)
    commit_date_key: T.IntegerType() = Field(**_OPTIONAL_DATE_KEY)
    receipt_date_key: T.IntegerType() = Field(**_OPTIONAL_DATE_KEY)
    return_flag: T.StringType() = Field(isin=["R", "A", "N"])
    line_status: T.StringType() = Field(isin=["O", "F"])
    ship_mode: T.StringType() = Field(nullable=True)
    discount_rate: RATE = Field(in_range={"min_value": 0, "max_value": 0.1})
    tax_rate: RATE = Field(in_range={"min_value": 0, "max_value": 0.08})


class AggDailySales(_SalesMeasures):
    date_key: T.IntegerType() = Field(in_range=DATE_KEYS)
    geography_key: T.LongType() = Field(nullable=True)
    nation_name: T.StringType() = Field(nullable=True)
    region_name: T.StringType() = Field(nullable=True)
    market_segment: T.StringType() = Field()
    order_count: T.LongType() = Field(gt=0)
    line_count: T.LongType() = Field(gt=0)


class DimDate(DataFrameModel):
    date_key: T.IntegerType() = Field(in_range=DATE_KEYS)
    date: T.DateType() = Field(in_range=ORDER_DATES)
    year: T.IntegerType() = Field(in_range=YEARS)
    quarter: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 4})
    month: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 12})
    month_name: T.StringType() = Field()
    day_of_month: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 31})
    day_of_year: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 366})
    iso_week: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 53})
    day_of_week: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 7})
    day_name: T.StringType() = Field()
    is_weekend: T.BooleanType() = Field()
    fiscal_year: T.IntegerType() = Field(in_range=FISCAL_YEARS)
    fiscal_quarter: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 4})
    fiscal_month: T.IntegerType() = Field(in_range={"min_value": 1, "max_value": 12})
    is_holiday: T.BooleanType() = Field()
    holiday_name: T.StringType() = Field(nullable=True)


class _Dimension(DataFrameModel):
    is_unknown: T.BooleanType() = Field()


class DimGeography(_Dimension):
    geography_key: T.LongType() = Field()
    nation_id: T.LongType() = Field(nullable=True, in_range={"min_value": 0, "max_value": 24})
    nation_name: T.StringType() = Field()
    region_id: T.LongType() = Field(nullable=True, in_range={"min_value": 0, "max_value": 4})
    region_name: T.StringType() = Field(nullable=True)


class DimProduct(_Dimension):
    product_key: T.LongType() = Field()
    part_id: T.LongType() = Field(nullable=True, gt=0)
    product_name: T.StringType() = Field()
    manufacturer: T.StringType() = Field(nullable=True, str_startswith="Manufacturer#")
    brand: T.StringType() = Field(nullable=True, str_startswith="Brand#")
    product_type: T.StringType() = Field(nullable=True)
    size: T.IntegerType() = Field(nullable=True, in_range={"min_value": 1, "max_value": 50})
    container: T.StringType() = Field(nullable=True)
    retail_price: MONEY = Field(nullable=True, gt=0)


class DimSupplier(_Dimension):
    supplier_key: T.LongType() = Field()
    supplier_id: T.LongType() = Field(nullable=True, gt=0)
    supplier_name: T.StringType() = Field()
    address: T.StringType() = Field(nullable=True)
    phone: T.StringType() = Field(nullable=True)
    account_balance: MONEY = Field(nullable=True)
    geography_key: T.LongType() = Field()


class DimCustomer(_Dimension):
    customer_key: T.LongType() = Field()
    customer_id: T.LongType() = Field(nullable=True, gt=0)
    customer_name: T.StringType() = Field()
    address: T.StringType() = Field(nullable=True)
    phone: T.StringType() = Field(nullable=True)
    market_segment: T.StringType() = Field(nullable=True)
    account_balance: MONEY = Field(nullable=True)
    comment: T.StringType() = Field(nullable=True)
    geography_key: T.LongType() = Field()
    effective_start_date: T.DateType() = Field()
    effective_end_date: T.DateType() = Field()
    is_current: T.BooleanType() = Field()
