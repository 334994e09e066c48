"""The data dictionary rendering and the documentation rule (pure, no Spark)."""

from __future__ import annotations

from lakehouse_assets.monitoring.data_dictionary import (
    DictionaryColumn,
    DictionaryTable,
    dictionary_markdown,
)
from lakehouse_assets.observability.assets import undocumented_gold_columns

FACT = DictionaryTable(
    "gold",
    "fact_x",
    "One row per x | y.",
    ("order_date",),
    (
        DictionaryColumn(1, "x_key", "bigint", False, "Key of x."),
        DictionaryColumn(2, "order_date", "date", True, ""),
    ),
)
RAW = DictionaryTable("bronze", "raw", "", (), (DictionaryColumn(1, "a", "string", True, ""),))


def test_markdown_lists_tables_by_layer_with_every_column():
    markdown = dictionary_markdown([RAW, FACT])
    assert markdown.index("## Bronze") < markdown.index("## Gold")
    assert "### `gold.fact_x`" in markdown and "One row per x \\| y." in markdown
    assert "Partitioned by `order_date`." in markdown
    assert "| 1 | `x_key` | `bigint` | no | Key of x. |" in markdown
    assert "| 2 | `order_date` | `date` | yes |  |" in markdown


def test_only_gold_tables_and_columns_must_be_documented():
    assert undocumented_gold_columns([RAW, FACT]) == ["gold.fact_x.order_date"]
