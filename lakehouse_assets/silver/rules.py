"""The quality rules of each silver table (see :mod:`lakehouse_assets.quality.rules`).

Expressions are Spark SQL over the silver columns. NULL fails a rule.
"""

from __future__ import annotations

from lakehouse_assets.quality.rules import Rule, RuleAction

ORDER_RULES: tuple[Rule, ...] = (
    Rule(
        "order_customer_present",
        "customer_id IS NOT NULL",
        RuleAction.FAIL,
        "Every order has a customer: gold cannot attribute revenue without one.",
    ),
    Rule(
        "order_total_price_non_negative",
        "total_price >= 0",
        RuleAction.QUARANTINE,
        "A negative or missing order total is a broken record.",
    ),
    Rule(
        "order_status_known",
        "order_status IN ('O', 'F', 'P')",
        RuleAction.QUARANTINE,
        "Order status is one of O (open), F (fulfilled), P (partial).",
    ),
    Rule(
        "order_priority_known",
        "order_priority IN ('1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW')",
        RuleAction.WARN,
        "Unknown priorities are kept but reported.",
        warn_above=0.01,
    ),
)

LINE_ITEM_RULES: tuple[Rule, ...] = (
    Rule(
        "line_part_and_supplier_present",
        "part_id IS NOT NULL AND supplier_id IS NOT NULL",
        RuleAction.FAIL,
        "Every line names its part and supplier (gold's product and supplier keys).",
    ),
    Rule(
        "line_quantity_positive",
        "quantity > 0",
        RuleAction.QUARANTINE,
        "A line sells a positive quantity.",
    ),
    Rule(
        "line_extended_price_positive",
        "extended_price > 0",
        RuleAction.QUARANTINE,
        "A line has a positive extended price.",
    ),
    Rule(
        "line_discount_in_range",
        "discount_rate BETWEEN 0 AND 0.10",
        RuleAction.QUARANTINE,
        "Discounts are between 0 % and 10 %.",
    ),
    Rule(
        "line_tax_in_range",
        "tax_rate BETWEEN 0 AND 0.08",
        RuleAction.QUARANTINE,
        "Tax rates are between 0 % and 8 %.",
    ),
    Rule(
        "line_flags_known",
        "return_flag IN ('R', 'A', 'N') AND line_status IN ('O', 'F')",
        RuleAction.DROP,
        "Lines with unknown flags are test records of the source system: dropped, counted.",
    ),
    Rule(
        "line_ships_after_order",
        "ship_date > order_date",
        RuleAction.WARN,
        "A line ships after its order date; some late corrections are tolerated.",
        warn_above=0.01,
        fail_above=0.05,
    ),
)

# Customers are published per key by CDC, so their rules report (warn) or stop gold (fail);
# they cannot drop or quarantine a current row without corrupting its history.
CUSTOMER_RULES: tuple[Rule, ...] = (
    Rule(
        "customer_name_present",
        "name IS NOT NULL AND name <> ''",
        RuleAction.WARN,
        "A customer without a name is kept but reported.",
    ),
    Rule(
        "customer_segment_known",
        "market_segment IN ('AUTOMOBILE', 'BUILDING', 'FURNITURE', 'HOUSEHOLD', 'MACHINERY')",
        RuleAction.WARN,
        "Market segment is one of the five TPC-H segments (gold aggregates by it).",
        warn_above=0.01,
    ),
    Rule(
        "customer_nation_known",
        "nation_id BETWEEN 0 AND 24",
        RuleAction.WARN,
        "Nation is one of the 25 TPC-H nations (gold resolves geography from it).",
    ),
    Rule(
        "customer_balance_in_range",
        "account_balance BETWEEN -999.99 AND 9999.99",
        RuleAction.WARN,
        "TPC-H account balances lie in [-999.99, 9999.99].",
    ),
)
