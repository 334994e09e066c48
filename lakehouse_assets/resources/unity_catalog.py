"""Unity Catalog grants as code: what the lakehouse's service principal and readers may do.

Print them for an environment and run them once as a metastore or catalog admin (in a SQL
warehouse or a notebook)::

    python -m lakehouse_assets.resources.unity_catalog --catalog prod \\
        --principal <service principal application id> --readers data-analysts

The service principal owns what it creates (schemas and tables of its catalog) and nothing
else; readers can query gold and monitoring, never bronze (raw data may hold PII).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from lakehouse_assets.storage.locators import check_identifier

# The schemas the runner writes: one per table layer (test_databricks_config holds this against
# the layers of every table in the Definitions).
WRITTEN_SCHEMAS = ("bronze", "silver", "gold", "features", "vector_index", "monitoring")
READABLE_SCHEMAS = ("gold", "features", "monitoring")


def _principal(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def grant_statements(catalog: str, principal: str, readers: str | None = None) -> list[str]:
    """SQL that creates the environment's catalog and schemas and grants least privilege."""
    catalog = check_identifier("catalog", catalog)
    runner = _principal(principal)
    statements = [
        f"CREATE CATALOG IF NOT EXISTS {catalog}",
        f"GRANT USE CATALOG, CREATE SCHEMA ON CATALOG {catalog} TO {runner}",
    ]
    for schema in WRITTEN_SCHEMAS:
        statements += [
            f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}",
            f"GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA {catalog}.{schema} "
            f"TO {runner}",
        ]
    if readers:
        group = _principal(readers)
        statements.append(f"GRANT USE CATALOG ON CATALOG {catalog} TO {group}")
        statements += [
            f"GRANT USE SCHEMA, SELECT ON SCHEMA {catalog}.{schema} TO {group}"
            for schema in READABLE_SCHEMAS
        ]
    return statements


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True, help="dev, staging or prod")
    parser.add_argument("--principal", required=True, help="service principal application id")
    parser.add_argument("--readers", help="group that may read gold, features and monitoring")
    args = parser.parse_args(argv)
    for statement in grant_statements(args.catalog, args.principal, args.readers):
        print(f"{statement};")


if __name__ == "__main__":
    main()
