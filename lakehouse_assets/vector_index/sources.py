"""The knowledge base's documents: the project's own docs and a product catalogue from gold.

Docs are read from ``docs/`` (runbooks, data dictionary, architecture, guides). The catalogue
has one page per brand, written from ``gold.dim_product``: which part types the brand makes,
in which sizes and containers, at what prices. A page per brand (not per part) keeps the
catalogue a readable, bounded document set at any scale factor: 25 brands, always.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lakehouse_assets.vector_index.chunking import SourceDocument

CATEGORY_BY_FOLDER = {"runbooks": "runbook"}
CATEGORY_BY_NAME = {
    "architecture": "architecture",
    "data_dictionary": "data_dictionary",
}


def default_docs_dir() -> Path:
    """``docs/`` of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "docs"


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def docs_documents(docs_dir: Path) -> list[SourceDocument]:
    """One document per Markdown file under ``docs_dir``, in path order."""
    if not docs_dir.is_dir():
        raise FileNotFoundError(
            f"docs folder {docs_dir} not found: set LAKEHOUSE_DOCS_DIR to the project's docs/"
        )
    documents = []
    for path in sorted(docs_dir.rglob("*.md")):
        relative = path.relative_to(docs_dir)
        text = path.read_text(encoding="utf-8")
        category = CATEGORY_BY_FOLDER.get(relative.parts[0]) if len(relative.parts) > 1 else None
        documents.append(
            SourceDocument(
                document_id=f"docs/{relative.as_posix()}",
                title=_title(text, relative.stem.replace("_", " ")),
                category=category or CATEGORY_BY_NAME.get(relative.stem, "guide"),
                source=f"docs/{relative.as_posix()}",
                text=text,
            )
        )
    return documents


def _money(value: float) -> str:
    return f"${value:,.2f}"


def _family_line(family: str, parts: pd.DataFrame) -> str:
    materials = ", ".join(sorted(parts["product_type"].str.split(n=1).str[1].dropna().unique()))
    containers = ", ".join(sorted(parts["container"].unique()))
    return (
        f"{family} line: {len(parts)} parts in {materials}. Sizes {parts['size'].min()} to "
        f"{parts['size'].max()}; containers {containers}; retail prices "
        f"{_money(parts['retail_price'].min())} to {_money(parts['retail_price'].max())}."
    )


def catalogue_documents(products: pd.DataFrame) -> list[SourceDocument]:
    """One catalogue page per brand from dim_product rows (the unknown member excluded)."""
    known = products[~products["is_unknown"]].copy()
    known["retail_price"] = known["retail_price"].astype(float)
    known["family"] = known["product_type"].str.split(n=1).str[0]
    documents = []
    for brand, parts in known.groupby("brand", sort=True):
        manufacturer = parts["manufacturer"].iloc[0]
        lines = [
            f"# {brand} product catalogue",
            "",
            f"{brand} is made by {manufacturer}. The catalogue lists {len(parts)} parts with "
            f"retail prices from {_money(parts['retail_price'].min())} to "
            f"{_money(parts['retail_price'].max())}.",
        ]
        for family, family_parts in parts.groupby("family", sort=True):
            lines += ["", f"## {brand} {family} parts", "", _family_line(family, family_parts)]
        documents.append(
            SourceDocument(
                document_id=f"catalogue/{brand}",
                title=f"{brand} product catalogue",
                category="product_catalogue",
                source="gold.dim_product",
                text="\n".join(lines),
            )
        )
    return documents
