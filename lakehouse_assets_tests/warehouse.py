"""Read managed tables of a Spark session catalog by path (an emulator's or a server's)."""

from __future__ import annotations

from pathlib import Path


class WarehouseLocator:
    """``<catalog>.<schema>.<table>`` of Spark's session catalog is stored at
    ``<warehouse>/<schema>.db/<table>``; this locator names those paths."""

    by_path = True

    def __init__(self, warehouse: Path) -> None:
        self.warehouse = warehouse

    def identifier(self, layer: str, name: str) -> str:
        return str(self.warehouse / f"{layer}.db" / name)
