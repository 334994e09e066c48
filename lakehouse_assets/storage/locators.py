"""Map a logical table (layer, name) to where it is stored.

Local: ``<root>/<layer>/<table>``. That path layout is a public contract: other engines
(delta-rs, DuckDB, Polars) read the tables straight from there.
Databricks: the Unity Catalog name ``<catalog>.<layer>.<table>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def check_identifier(kind: str, value: str) -> str:
    """Layer, table and catalog names are lower snake_case: safe as paths *and* as SQL names."""
    if not _IDENTIFIER.match(value):
        raise ValueError(f"{kind} must be lower snake_case ([a-z][a-z0-9_]*), got {value!r}")
    return value


class TableLocator(Protocol):
    """Where a table lives, and whether Spark addresses it by path or by catalog name."""

    by_path: bool

    def identifier(self, layer: str, name: str) -> str:
        """A path (``by_path``) or a fully qualified catalog name."""
        ...


@dataclass(frozen=True)
class PathLocator:
    """Tables as Delta directories under a root path (local disk or a cloud URI)."""

    root: str
    by_path: bool = True

    def identifier(self, layer: str, name: str) -> str:
        return f"{self.root.rstrip('/')}/{check_identifier('layer', layer)}/" + check_identifier(
            "table", name
        )


@dataclass(frozen=True)
class UnityCatalogLocator:
    """Tables as Unity Catalog managed tables ``<catalog>.<layer>.<table>``."""

    catalog: str
    by_path: bool = False
    # The group that reads personal data unmasked, and whether the DDL step applies the Unity
    # Catalog column tags and masks (off only where the SQL engine is not Unity Catalog's).
    pii_readers: str = "pii_readers"
    column_policies: bool = True

    def identifier(self, layer: str, name: str) -> str:
        return ".".join(
            (
                check_identifier("catalog", self.catalog),
                check_identifier("layer", layer),
                check_identifier("table", name),
            )
        )
