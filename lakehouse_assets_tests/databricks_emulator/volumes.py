"""Unity Catalog volumes backed by a local directory, with the Files API's upload, download,
metadata and directory calls (``/api/2.0/fs/files/...``, ``/api/2.0/fs/directories/...``).

``/Volumes/<catalog>/<schema>/<volume>/<path>`` is ``<root>/<catalog>/<schema>/<volume>/<path>``;
tasks see the same files under ``/Volumes/`` (the cluster's volume mount). Only volumes the
workspace was created with exist, as only volumes an admin created exist in a real one.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lakehouse_assets_tests.databricks_emulator.validation import ApiError, invalid

VOLUMES_MOUNT = "/Volumes/"


def not_found(message: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


class Volumes:
    """The workspace's volumes (``catalog.schema.volume`` names) under ``root``."""

    def __init__(self, root: Path, names: Iterable[str]) -> None:
        self.root = root
        self.names = set(names)
        for name in self.names:
            self.root.joinpath(*name.split(".")).mkdir(parents=True, exist_ok=True)

    def local_path(self, path: str) -> Path:
        """The local file of a volume path, or the Files API's error for it."""
        if not path.startswith(VOLUMES_MOUNT):
            raise invalid(f"Path must be a Unity Catalog volume path /Volumes/...: {path}")
        parts = [part for part in path[len(VOLUMES_MOUNT) :].split("/") if part not in {"", "."}]
        if ".." in parts:
            raise invalid(f"Path must not contain '..': {path}")
        if len(parts) < 3:
            raise invalid(f"Path must name a volume /Volumes/<catalog>/<schema>/<volume>: {path}")
        if ".".join(parts[:3]) not in self.names:
            raise not_found(f"Volume '{'.'.join(parts[:3])}' does not exist.")
        return self.root.joinpath(*parts)

    def upload(self, path: str, data: bytes, overwrite: bool) -> None:
        target = self.local_path(path)
        if target.is_dir():
            raise ApiError(409, "ALREADY_EXISTS", f"A directory already exists at {path}.")
        if target.exists() and not overwrite:
            raise ApiError(409, "ALREADY_EXISTS", f"The file being created already exists: {path}")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.upload")
        staging.write_bytes(data)
        staging.replace(target)  # readers never see a half-written file

    def download(self, path: str) -> tuple[bytes, dict[str, str]]:
        target = self.local_path(path)
        if not target.is_file():
            raise not_found("The file being accessed is not found.")
        data = target.read_bytes()
        return data, self._headers(target, len(data))

    def metadata(self, path: str) -> dict[str, str]:
        target = self.local_path(path)
        if not target.is_file():
            raise not_found("The file being accessed is not found.")
        return self._headers(target, target.stat().st_size)

    def delete(self, path: str) -> None:
        target = self.local_path(path)
        if not target.is_file():
            raise not_found("The file being accessed is not found.")
        target.unlink()

    def create_directory(self, path: str) -> None:
        target = self.local_path(path)
        if target.is_file():
            raise ApiError(409, "ALREADY_EXISTS", f"A file already exists at {path}.")
        target.mkdir(parents=True, exist_ok=True)

    def list_directory(self, path: str) -> dict[str, Any]:
        target = self.local_path(path)
        if not target.is_dir():
            raise not_found("The directory being accessed is not found.")
        contents = []
        for child in sorted(target.iterdir()):
            if child.name.startswith("."):
                continue
            entry: dict[str, Any] = {
                "path": f"{path.rstrip('/')}/{child.name}",
                "is_directory": child.is_dir(),
                "name": child.name,
            }
            if child.is_file():
                entry |= {
                    "file_size": child.stat().st_size,
                    "last_modified": int(child.stat().st_mtime * 1000),
                }
            contents.append(entry)
        return {"contents": contents}

    @staticmethod
    def _headers(target: Path, size: int) -> dict[str, str]:
        return {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
            "Last-Modified": email.utils.formatdate(target.stat().st_mtime, usegmt=True),
        }
