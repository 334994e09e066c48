"""A local Databricks workspace for tests: REST API + clusters that really run the tasks."""

from lakehouse_assets_tests.databricks_emulator.server import (
    DatabricksEmulator,
    Recorded,
    ServicePrincipal,
)

__all__ = ["DatabricksEmulator", "Recorded", "ServicePrincipal"]
