"""Environment-driven settings, read once when the Definitions are built.

Everything configurable about *where* the lakehouse lives comes from environment variables with
safe local defaults, so `dagster dev` works with zero configuration and the same code runs on
Databricks by exporting a handful of variables. Secrets are never read here: resources receive
them as `dagster.EnvVar`s so they are resolved at run time and never printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LakehouseEnv = Literal["local", "databricks"]
SUPPORTED_ENVS: tuple[LakehouseEnv, ...] = ("local", "databricks")

DEFAULT_ROOT = ".lakehouse"


class SettingsError(ValueError):
    """Raised when an environment variable holds a value the lakehouse cannot use."""


@dataclass(frozen=True)
class LakehouseSettings:
    """Where the lakehouse lives and which runtime executes it.

    Attributes:
        env: ``local`` (embedded PySpark + Delta under ``root``) or ``databricks``.
        root: Local root of the lakehouse; tables live at ``<root>/<layer>/<table>``.
        landing_root: Where source files land (a local path or a cloud URI).
        checkpoint_root: Where streaming checkpoints live.
        catalog: Unity Catalog catalog name used in ``databricks`` mode.
        sensor_interval_seconds: How often the file-arrival sensors look for new files.
        auto_restore: Start the sensor that restores a gold table whose blocking check failed.
    """

    env: LakehouseEnv
    root: str
    landing_root: str
    checkpoint_root: str
    catalog: str
    sensor_interval_seconds: int = 60
    auto_restore: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LakehouseSettings:
        """Build settings from environment variables (``os.environ`` by default)."""
        environ = os.environ if environ is None else environ
        env = environ.get("LAKEHOUSE_ENV", "local").strip().lower() or "local"
        if env not in SUPPORTED_ENVS:
            raise SettingsError(
                f"LAKEHOUSE_ENV={env!r} is not supported; use one of {', '.join(SUPPORTED_ENVS)}"
            )
        root = _absolute(environ.get("LAKEHOUSE_ROOT") or DEFAULT_ROOT)
        landing = environ.get("LAKEHOUSE_LANDING_ROOT") or f"{root}/landing"
        checkpoints = environ.get("LAKEHOUSE_CHECKPOINT_ROOT") or f"{root}/_checkpoints"
        return cls(
            env=env,  # type: ignore[arg-type]
            root=root,
            landing_root=_absolute(landing),
            checkpoint_root=_absolute(checkpoints),
            catalog=environ.get("LAKEHOUSE_CATALOG", "dev"),
            sensor_interval_seconds=_positive_int(
                environ, "LAKEHOUSE_SENSOR_INTERVAL_SECONDS", default=60
            ),
            auto_restore=_flag(environ, "LAKEHOUSE_AUTO_RESTORE"),
        )


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "false").strip().lower()
    if raw not in {"true", "false", "1", "0", "yes", "no"}:
        raise SettingsError(f"{name}={raw!r} is not a boolean (true/false)")
    return raw in {"true", "1", "yes"}


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _absolute(location: str) -> str:
    """Resolve local paths against the working directory; leave URIs (s3://, abfss://...) alone."""
    if "://" in location or location.startswith("dbfs:"):
        return location.rstrip("/")
    return str(Path(location).expanduser().resolve())
