"""Environment-driven settings, read once when the Definitions are built.

Everything configurable about *where* the lakehouse lives comes from environment variables with
safe local defaults, so `dagster dev` works with zero configuration and the same code runs on
Databricks by exporting a handful of variables. Secrets are never read here: resources receive
them as `dagster.EnvVar`s so they are resolved at run time and never printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lakehouse_assets.retention import (
    RETENTION_KINDS,
    VACUUM_RETENTION_FLOOR_HOURS,
    RetentionError,
    VacuumRetention,
)

LakehouseEnv = Literal["local", "databricks"]
SUPPORTED_ENVS: tuple[LakehouseEnv, ...] = ("local", "databricks")

DEFAULT_ROOT = ".lakehouse"
# The project's own docs/ (a source checkout): the knowledge base's documents.
DEFAULT_DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"
# Days of rows kept per kind of record, unless LAKEHOUSE_RETENTION_<KIND>_DAYS says otherwise.
# Raw records have no default: bronze is what every rebuild replays (docs/operations.md).
DEFAULT_RETENTION_DAYS: Mapping[str, int] = {
    "dead_letters": 90,
    "quarantine": 90,
    "monitoring": 400,
}
DEFAULT_UI_URL = "http://localhost:3000"
DEFAULT_SLACK_BASE_URL = "https://slack.com/api/"
DEFAULT_PAGERDUTY_BASE_URL = "https://events.pagerduty.com"


class SettingsError(ValueError):
    """Raised when an environment variable holds a value the lakehouse cannot use."""


@dataclass(frozen=True)
class OperationsSettings:
    """SLAs and alert routing: what on-call is promised and where it hears about misses.

    The Slack token and PagerDuty routing key are secrets: only whether they are set is read
    here; resources receive them as ``EnvVar`` (``SLACK_BOT_TOKEN``, ``PAGERDUTY_ROUTING_KEY``).

    Attributes:
        bronze_sla_minutes: Landed files must be in bronze within this many minutes.
        silver_sla_minutes: Bronze updates must reach silver within this many minutes.
        gold_deadline: ``HH:MM`` (UTC) by which gold must have been refreshed each day.
        features_sla_minutes / vector_index_sla_minutes: Gold updates must reach the feature
            tables (and feature updates the document index) within this many minutes.
        sla_cadence_minutes: The sources land a daily extract, so every table of a lag layer
            changes at least this often (plus its lag): a table older than that is stale
            because a source missed its day.
        snapshot_sla_days: A snapshot source (reference data that lands when it changes) is
            stale when its newest snapshot is older than this.
        live: The live loop is on (``LAKEHOUSE_LIVE``): landing sensor, automation and the
            freshness sensor start RUNNING when the code location loads.
        automation_interval_seconds: How often declarative automation evaluates.
        freshness_interval_seconds: How often the freshness sensor evaluates the SLAs.
        ui_url: Base URL of the Dagster UI, for run links in alerts.
        slack_enabled / slack_channel / slack_base_url: Slack Web API alerts.
        pagerduty_enabled / pagerduty_base_url: PagerDuty Events API v2 pages.
        alert_retry_seconds: The first wait before an alert a service refused is tried again
            (doubling, at most 10 minutes; a ``Retry-After`` the service sends wins).
        alert_give_up_minutes: An alert still refused after this long is undeliverable: kept,
            listed by ``lakehouse alerts``, announced through the other service.
        daily_schedule_cron: When ``lakehouse_daily_schedule`` runs the previous day (in the
            partitions' timezone), once it is turned on.
        refresh_cron: When the whole tables and the catalog tables refresh each day (UTC);
            None: five minutes into gold's refresh window
            (``operations/policies.whole_table_refresh_cron``).
    """

    bronze_sla_minutes: int = 15
    silver_sla_minutes: int = 60
    gold_deadline: str = "07:00"
    features_sla_minutes: int = 120
    vector_index_sla_minutes: int = 120
    sla_cadence_minutes: int = 24 * 60
    snapshot_sla_days: int = 30
    live: bool = False
    automation_interval_seconds: int = 30
    freshness_interval_seconds: int = 300
    ui_url: str = DEFAULT_UI_URL
    slack_enabled: bool = False
    slack_channel: str = "#lakehouse-alerts"
    slack_base_url: str = DEFAULT_SLACK_BASE_URL
    pagerduty_enabled: bool = False
    pagerduty_base_url: str = DEFAULT_PAGERDUTY_BASE_URL
    alert_retry_seconds: int = 30
    alert_give_up_minutes: int = 60
    daily_schedule_cron: str = "0 5 * * *"
    refresh_cron: str | None = None
    # The team that owns every asset (Dagster owner ``team:<owner>``; also the Databricks
    # clusters' owner tag).
    owner: str = "data-platform"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OperationsSettings:
        return cls(
            owner=environ.get("LAKEHOUSE_OWNER") or "data-platform",
            bronze_sla_minutes=_positive_int(environ, "LAKEHOUSE_SLA_BRONZE_MINUTES", 15),
            silver_sla_minutes=_positive_int(environ, "LAKEHOUSE_SLA_SILVER_MINUTES", 60),
            gold_deadline=_clock_time(environ, "LAKEHOUSE_SLA_GOLD_DEADLINE", "07:00"),
            features_sla_minutes=_positive_int(environ, "LAKEHOUSE_SLA_FEATURES_MINUTES", 120),
            vector_index_sla_minutes=_positive_int(
                environ, "LAKEHOUSE_SLA_VECTOR_INDEX_MINUTES", 120
            ),
            sla_cadence_minutes=_positive_int(environ, "LAKEHOUSE_SLA_CADENCE_MINUTES", 24 * 60),
            snapshot_sla_days=_positive_int(environ, "LAKEHOUSE_SLA_SNAPSHOT_DAYS", 30),
            live=_flag(environ, "LAKEHOUSE_LIVE"),
            automation_interval_seconds=_positive_int(
                environ, "LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS", 30
            ),
            freshness_interval_seconds=_positive_int(
                environ, "LAKEHOUSE_FRESHNESS_INTERVAL_SECONDS", 300
            ),
            ui_url=(environ.get("LAKEHOUSE_DAGSTER_UI_URL") or DEFAULT_UI_URL).rstrip("/"),
            slack_enabled=bool(environ.get("SLACK_BOT_TOKEN")),
            slack_channel=environ.get("LAKEHOUSE_SLACK_CHANNEL") or "#lakehouse-alerts",
            slack_base_url=environ.get("LAKEHOUSE_SLACK_BASE_URL") or DEFAULT_SLACK_BASE_URL,
            pagerduty_enabled=bool(environ.get("PAGERDUTY_ROUTING_KEY")),
            pagerduty_base_url=(
                environ.get("LAKEHOUSE_PAGERDUTY_BASE_URL") or DEFAULT_PAGERDUTY_BASE_URL
            ).rstrip("/"),
            alert_retry_seconds=_non_negative_int(environ, "LAKEHOUSE_ALERT_RETRY_SECONDS", 30),
            alert_give_up_minutes=_positive_int(environ, "LAKEHOUSE_ALERT_GIVE_UP_MINUTES", 60),
            daily_schedule_cron=_cron(environ, "LAKEHOUSE_DAILY_SCHEDULE_CRON") or "0 5 * * *",
            refresh_cron=_cron(environ, "LAKEHOUSE_REFRESH_CRON"),
        )


@dataclass(frozen=True)
class KnowledgeBaseSettings:
    """Where the knowledge base (documents, embeddings, vector index) reads and writes.

    Attributes:
        tables_root: Root of its Delta tables (``<root>/vector_index/...``); a cloud URI in
            databricks mode (the external location of the ``vector_index`` schema).
        docs_dir: The docs folder the documents are built from.
        dim_product_uri: Delta location of ``gold.dim_product`` ('' = under the lakehouse root).
        index_root: Folder of the local ANN index builds.
        vector_search_endpoint: Databricks Vector Search endpoint (databricks mode).
    """

    tables_root: str
    docs_dir: str
    dim_product_uri: str
    index_root: str
    vector_search_endpoint: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str], root: str) -> KnowledgeBaseSettings:
        tables_root = environ.get("LAKEHOUSE_KNOWLEDGE_BASE_ROOT") or root
        return cls(
            tables_root=tables_root,
            docs_dir=_absolute(environ.get("LAKEHOUSE_DOCS_DIR") or str(DEFAULT_DOCS_DIR)),
            dim_product_uri=environ.get("LAKEHOUSE_DIM_PRODUCT_URI", ""),
            index_root=environ.get("LAKEHOUSE_VECTOR_INDEX_DIR")
            or f"{root}/vector_index/_index/document_embeddings",
            vector_search_endpoint=environ.get("LAKEHOUSE_VECTOR_SEARCH_ENDPOINT")
            or "lakehouse-knowledge-base",
        )


@dataclass(frozen=True)
class LifecycleSettings:
    """How long tables keep rows and unreferenced files: the one place retention is set.

    Attributes:
        vacuum_retention_hours: VACUUM keeps unreferenced files this long
            (``LAKEHOUSE_VACUUM_RETENTION_HOURS``; never below the floor of 168 hours).
        retention_days: Days of rows kept per kind of record (``LAKEHOUSE_RETENTION_<KIND>_DAYS``,
            e.g. ``LAKEHOUSE_RETENTION_DEAD_LETTERS_DAYS``); a kind without a value is kept
            forever. Raw records are kept forever unless set: bronze is the replay source.
    """

    vacuum_retention_hours: int = VACUUM_RETENTION_FLOOR_HOURS
    retention_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RETENTION_DAYS))

    def __post_init__(self) -> None:
        try:
            VacuumRetention(self.vacuum_retention_hours)
        except RetentionError as error:
            raise SettingsError(f"LAKEHOUSE_VACUUM_RETENTION_HOURS: {error}") from None

    @property
    def vacuum_retention(self) -> VacuumRetention:
        return VacuumRetention(self.vacuum_retention_hours)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> LifecycleSettings:
        days = {}
        for kind in RETENTION_KINDS:
            variable = f"LAKEHOUSE_RETENTION_{kind.upper()}_DAYS"
            if kind in DEFAULT_RETENTION_DAYS or (environ.get(variable) or "").strip():
                days[kind] = _positive_int(environ, variable, DEFAULT_RETENTION_DAYS.get(kind, 0))
        return cls(
            vacuum_retention_hours=_positive_int(
                environ, "LAKEHOUSE_VACUUM_RETENTION_HOURS", VACUUM_RETENTION_FLOOR_HOURS
            ),
            retention_days=days,
        )


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
        spark_master: Local mode's Spark master: ``local[*]``, a standalone cluster
            (``spark://host:7077``) or ``local-cluster[workers,cores,memory]``.
        spark_remote: Local mode through a Spark Connect server instead of an embedded JVM
            (``LAKEHOUSE_SPARK_REMOTE=sc://host:port``; ``lakehouse spark-connect`` starts
            one with Delta). The same code runs either way.
        auto_restore: Start the sensor that restores a gold table whose blocking check failed.
        operations: SLAs and alerting.
        lifecycle: Row and file retention (maintenance and retention jobs).
        pii_readers: The group that reads personal data unmasked (``LAKEHOUSE_PII_READERS``).
        column_policies: Databricks mode applies Unity Catalog column tags and masks when it
            creates a table (``LAKEHOUSE_UC_COLUMN_POLICIES``, default true; false only where
            the SQL engine is not Unity Catalog's, such as the workspace emulator).
        log_format: ``json`` (one object per line, the default) or ``text``.
        environ: The ``LAKEHOUSE_*`` variables this was built from (databricks mode forwards
            them to the remote steps, which rebuild the same Definitions).
    """

    env: LakehouseEnv
    root: str
    landing_root: str
    checkpoint_root: str
    catalog: str
    sensor_interval_seconds: int = 30
    spark_master: str = "local[*]"
    spark_remote: str | None = None
    auto_restore: bool = False
    operations: OperationsSettings = field(default_factory=OperationsSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    pii_readers: str = "pii_readers"
    column_policies: bool = True
    log_format: Literal["json", "text"] = "json"
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def knowledge_base(self) -> KnowledgeBaseSettings:
        """The knowledge base's locations (derived from the root unless overridden)."""
        return KnowledgeBaseSettings.from_env(self.environ, self.root)

    def remote_environment(self) -> dict[str, str]:
        """What a remote step needs to rebuild these settings: resolved paths, same options.

        Only ``LAKEHOUSE_*`` variables and the workspace host; secrets (Slack, PagerDuty,
        Databricks credentials) are never forwarded.
        """
        forwarded = {k: v for k, v in self.environ.items() if k.startswith("LAKEHOUSE_")}
        return forwarded | {
            "LAKEHOUSE_ENV": self.env,
            "LAKEHOUSE_ROOT": self.root,
            "LAKEHOUSE_LANDING_ROOT": self.landing_root,
            "LAKEHOUSE_CHECKPOINT_ROOT": self.checkpoint_root,
            "LAKEHOUSE_CATALOG": self.catalog,
            "LAKEHOUSE_LOG_FORMAT": self.log_format,
            **(
                {"DATABRICKS_HOST": self.environ["DATABRICKS_HOST"]}
                if self.environ.get("DATABRICKS_HOST")
                else {}
            ),
        }

    def require_usable_locations(self) -> None:
        """Fail now, naming the variable, when a local root cannot hold the lakehouse.

        The lakehouse root and the checkpoint root must be directories that exist or can be
        created, and be writable; the landing root must not be a file. Cloud URIs are checked
        by the runtime that owns them. Nothing is created here.
        """
        for variable, location, writable in (
            ("LAKEHOUSE_ROOT", self.root, True),
            ("LAKEHOUSE_CHECKPOINT_ROOT", self.checkpoint_root, True),
            ("LAKEHOUSE_LANDING_ROOT", self.landing_root, False),
        ):
            if not _is_uri(location):
                _require_directory(variable, Path(location), writable=writable)

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
            spark_master=environ.get("LAKEHOUSE_SPARK_MASTER") or "local[*]",
            spark_remote=_spark_remote(environ),
            sensor_interval_seconds=_positive_int(
                environ, "LAKEHOUSE_SENSOR_INTERVAL_SECONDS", default=30
            ),
            auto_restore=_flag(environ, "LAKEHOUSE_AUTO_RESTORE"),
            operations=OperationsSettings.from_env(environ),
            lifecycle=LifecycleSettings.from_env(environ),
            pii_readers=(environ.get("LAKEHOUSE_PII_READERS") or "pii_readers").strip(),
            column_policies=not _flag_off(environ, "LAKEHOUSE_UC_COLUMN_POLICIES"),
            log_format=_log_format(environ),
            environ={
                k: v
                for k, v in environ.items()
                if k.startswith("LAKEHOUSE_") or k in {"DATABRICKS_HOST", "DATABRICKS_CLIENT_ID"}
            },
        )


def _spark_remote(environ: Mapping[str, str]) -> str | None:
    remote = (environ.get("LAKEHOUSE_SPARK_REMOTE") or "").strip()
    if remote and not remote.startswith("sc://"):
        raise SettingsError(
            f"LAKEHOUSE_SPARK_REMOTE={remote!r} is not a Spark Connect URL (sc://host:port)"
        )
    return remote or None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = (environ.get(name) or "false").strip().lower()
    if raw not in {"true", "false", "1", "0", "yes", "no"}:
        raise SettingsError(f"{name}={raw!r} is not a boolean (true/false)")
    return raw in {"true", "1", "yes"}


def _flag_off(environ: Mapping[str, str], name: str) -> bool:
    """A flag that defaults to true: whether it is explicitly set false."""
    return (environ.get(name) or "").strip() != "" and not _flag(environ, name)


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {value}")
    return value


def _non_negative_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 0:
        raise SettingsError(f"{name} must be 0 or more, got {value}")
    return value


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None


def _log_format(environ: Mapping[str, str]) -> Literal["json", "text"]:
    raw = (environ.get("LAKEHOUSE_LOG_FORMAT") or "json").strip().lower()
    if raw not in {"json", "text"}:
        raise SettingsError(f"LAKEHOUSE_LOG_FORMAT={raw!r} is not supported; use json or text")
    return raw  # type: ignore[return-value]


def _clock_time(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = (environ.get(name) or default).strip()
    hours, _, minutes = raw.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise SettingsError(f"{name}={raw!r} is not a UTC time of day (HH:MM)")
    return f"{int(hours):02d}:{int(minutes):02d}"


def _cron(environ: Mapping[str, str], name: str) -> str | None:
    """A five-field cron expression from ``name``, or None when it is unset."""
    from dagster._utils.schedules import is_valid_cron_string

    raw = " ".join((environ.get(name) or "").split())
    if not raw:
        return None
    if len(raw.split()) != 5 or not is_valid_cron_string(raw):
        raise SettingsError(
            f"{name}={raw!r} is not a cron expression (five fields, e.g. '0 5 * * *')"
        )
    return raw


def _is_uri(location: str) -> bool:
    return "://" in location or location.startswith("dbfs:")


def _require_directory(variable: str, path: Path, *, writable: bool) -> None:
    """``path`` is a directory, or the nearest existing ancestor is one it can be made in."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file" if existing == path else f"cannot be created: {existing} is a file"
        raise SettingsError(f"{variable}={path} {what}, not a directory")
    if writable and not _can_write_in(existing):
        what = "is not writable" if existing == path else f"cannot be created in {existing}"
        raise SettingsError(
            f"{variable}={path} {what} (read-only location); point {variable} at a "
            "writable directory"
        )


def _can_write_in(directory: Path) -> bool:
    """Probe by creating a file: permission bits do not tell root or a read-only mount."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory, prefix=".lakehouse-write-probe-"):
            return True
    except OSError:
        return False


def _absolute(location: str) -> str:
    """Resolve local paths against the working directory; leave URIs (s3://, abfss://...) alone."""
    if _is_uri(location):
        return location.rstrip("/")
    return str(Path(location).expanduser().resolve())
