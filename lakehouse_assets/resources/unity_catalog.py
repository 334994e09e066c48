"""Unity Catalog grants as code: what the lakehouse's service principal and readers may do.

Print them for an environment and run them once as a metastore or catalog admin (in a SQL
warehouse or a notebook)::

    python -m lakehouse_assets.resources.unity_catalog --catalog prod \\
        --principal <service principal application id> --readers data-analysts

The service principal owns what it creates (schemas and tables of its catalog) and nothing
else; readers can query gold and monitoring, never bronze (raw data may hold PII), and see the
personal columns of gold and features masked unless they are in the ``--pii-readers`` group.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from lakehouse_assets.privacy import (
    MASKED_LAYERS,
    PERSONAL_COLUMNS,
    STAGING_LAYER_SUFFIX,
    column_mask_statements,
)
from lakehouse_assets.storage.locators import check_identifier

# The schemas the runner writes: one per table layer (test_databricks_config holds this against
# the layers of every table in the Definitions).
WRITTEN_SCHEMAS = ("bronze", "silver", "gold", "features", "vector_index", "monitoring")
READABLE_SCHEMAS = ("gold", "features", "monitoring")
# Candidate rows waiting for their checks, and rejected ones (storage/staging.py): the runner's
# alone, never granted to readers (they hold personal columns unmasked).
STAGING_SCHEMAS = tuple(
    f"{s}{STAGING_LAYER_SUFFIX}" for s in ("silver", "gold", "features", "vector_index")
)
# ``<schema>.<volume>`` of the step staging volume (databricks.default_staging_prefix).
STAGING_VOLUME = "monitoring.step_staging"


def _principal(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def grant_statements(
    catalog: str, principal: str, readers: str | None = None, pii_readers: str | None = None
) -> list[str]:
    """SQL that creates the environment's catalog and schemas and grants least privilege.

    ``readers`` read gold, features and monitoring with personal columns masked;
    ``pii_readers`` (the group the column masks let through) read gold and features unmasked.
    """
    catalog = check_identifier("catalog", catalog)
    runner = _principal(principal)
    statements = [
        f"CREATE CATALOG IF NOT EXISTS {catalog}",
        f"GRANT USE CATALOG, CREATE SCHEMA ON CATALOG {catalog} TO {runner}",
    ]
    for schema in WRITTEN_SCHEMAS + STAGING_SCHEMAS:
        statements += [
            f"CREATE SCHEMA IF NOT EXISTS {catalog}.{schema}",
            f"GRANT USE SCHEMA, CREATE TABLE, SELECT, MODIFY ON SCHEMA {catalog}.{schema} "
            f"TO {runner}",
        ]
    # Where the step launcher stages each step's code and events (workspaces without DBFS root).
    staging = f"{catalog}.{STAGING_VOLUME}"
    statements += [
        f"CREATE VOLUME IF NOT EXISTS {staging}",
        f"GRANT READ VOLUME, WRITE VOLUME ON VOLUME {staging} TO {runner}",
    ]
    if readers:
        statements += _read_grants(catalog, readers, READABLE_SCHEMAS)
    if pii_readers:
        statements += _read_grants(catalog, pii_readers, MASKED_LAYERS)
    return statements


def _read_grants(catalog: str, group: str, schemas: Sequence[str]) -> list[str]:
    principal = _principal(group)
    return [f"GRANT USE CATALOG ON CATALOG {catalog} TO {principal}"] + [
        f"GRANT USE SCHEMA, SELECT ON SCHEMA {catalog}.{schema} TO {principal}"
        for schema in schemas
    ]


def personal_data_statements(catalog: str, pii_readers: str) -> list[str]:
    """The column tags of every personal column, and the masks of those in gold and features
    (the DDL step applies the same statements when it creates a table)."""
    catalog = check_identifier("catalog", catalog)
    tables = list(dict.fromkeys(column.table for column in PERSONAL_COLUMNS))
    return column_mask_statements(catalog, tables, pii_readers)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", required=True, help="dev, staging or prod")
    parser.add_argument("--principal", required=True, help="service principal application id")
    parser.add_argument("--readers", help="group that may read gold, features and monitoring")
    parser.add_argument(
        "--pii-readers",
        default="pii_readers",
        help="group that reads personal data unmasked (LAKEHOUSE_PII_READERS)",
    )
    args = parser.parse_args(argv)
    statements = grant_statements(args.catalog, args.principal, args.readers, args.pii_readers)
    statements += personal_data_statements(args.catalog, args.pii_readers)
    for statement in statements:
        print(f"{statement};")


if __name__ == "__main__":
    main()
