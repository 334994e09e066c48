"""Step staging in a Unity Catalog volume, for workspaces without a DBFS root.

dagster-databricks' step launcher stages each step's code, pickled context and events on DBFS:
it uploads with the DBFS API and the step reads them on the cluster under ``/dbfs/``. Accounts
created since DBFS root was retired have neither. Volumes take that role: the orchestrator
moves the files with the Files API (``/api/2.0/fs/files/Volumes/...``) and the step reads and
writes them under the cluster's ``/Volumes/...`` mount, so the same launcher runs unchanged
with a staging prefix of ``/Volumes/<catalog>/<schema>/<volume>/...``.

The launcher has no seam for its file transport, so :class:`VolumeStagedStepLauncher` replaces
its two path helpers and its client's two file calls; everything else (submission, polling,
events, cancellation) is the launcher's own.
"""

from __future__ import annotations

import io
import os
from typing import IO, Any

from dagster import InitResourceContext, resource
from dagster_databricks import databricks_pyspark_step_launcher
from dagster_databricks.databricks_pyspark_step_launcher import DatabricksPySparkStepLauncher

from lakehouse_assets.resources.databricks import VOLUMES_ROOT, is_volume_path


class VolumeFiles:
    """The launcher's Databricks client with its file calls taken by the Files API."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_file(self, file_obj: IO, path: str, overwrite: bool = False, **_: Any) -> None:
        """Upload ``file_obj`` to ``path`` in one request (step files are small)."""
        self._client.workspace_client.files.upload(
            path, io.BytesIO(file_obj.read()), overwrite=overwrite
        )

    def read_file(self, path: str, **_: Any) -> bytes:
        """The file's bytes; empty when it does not exist yet (the step has not written its
        events file), which the launcher reads as "no events yet"."""
        from databricks.sdk.errors import NotFound

        try:
            response = self._client.workspace_client.files.download(path)
        except NotFound:
            return b""
        contents = response.contents
        return contents.read() if contents is not None else b""


class VolumeStagedStepLauncher(DatabricksPySparkStepLauncher):
    """The DBFS step launcher, staging in a Unity Catalog volume instead."""

    def __init__(self, **config: Any) -> None:
        super().__init__(**config)
        if not is_volume_path(self.staging_prefix + "/"):
            raise ValueError(
                f"staging_prefix {self.staging_prefix} is not a volume path "
                "(/Volumes/<catalog>/<schema>/<volume>/...)"
            )
        # The runner exposes its client read-only; the file calls are all that changes.
        self.databricks_runner._client = VolumeFiles(self.databricks_runner.client)

    def _dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        # The orchestrator's and the cluster's name of a staged file are the same path.
        return self._internal_dbfs_path(run_id, step_key, filename)

    def _internal_dbfs_path(self, run_id: str, step_key: str, filename: str) -> str:
        key = self._sanitize_step_key(step_key)
        return "/".join([self.staging_prefix, run_id, key, os.path.basename(filename)])


@resource(
    config_schema=databricks_pyspark_step_launcher.config_schema,
    description="databricks_pyspark_step_launcher; a /Volumes/ staging_prefix stages in a "
    "Unity Catalog volume (Files API) instead of DBFS.",
)
def lakehouse_step_launcher(context: InitResourceContext) -> DatabricksPySparkStepLauncher:
    """dagster-databricks' step launcher, staging on DBFS or in a UC volume by its prefix."""
    config = dict(context.resource_config)
    if str(config.get("staging_prefix", "")).startswith(VOLUMES_ROOT):
        return VolumeStagedStepLauncher(**config)
    return DatabricksPySparkStepLauncher(**config)
