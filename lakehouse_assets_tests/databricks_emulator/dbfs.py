"""DBFS backed by a local directory, with the DBFS API's streaming upload and block reads."""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from lakehouse_assets_tests.databricks_emulator.validation import (
    ApiError,
    invalid,
    not_found,
)

MAX_BLOCK_BYTES = 1024 * 1024
DEFAULT_READ_BYTES = 512 * 1024


class Dbfs:
    """``dbfs:/<path>`` is ``<root>/<path>``; tasks see the same files under ``/dbfs/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._handles: dict[int, tuple[Path, Path]] = {}
        self._next_handle = itertools.count(1)
        self._lock = threading.Lock()

    def local_path(self, path: str) -> Path:
        if not isinstance(path, str) or not path.startswith("/"):
            raise invalid(f"Path must be absolute: {path}")
        parts = [part for part in path.split("/") if part not in {"", "."}]
        if ".." in parts:
            raise invalid(f"Path must not contain '..': {path}")
        return self.root.joinpath(*parts)

    def create(self, path: str, overwrite: bool = False) -> dict[str, Any]:
        target = self.local_path(path)
        if target.exists() and not overwrite:
            raise ApiError(
                400, "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at {path}."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            handle = next(self._next_handle)
            staging = target.with_name(f".{target.name}.upload-{handle}")
            staging.write_bytes(b"")
            self._handles[handle] = (staging, target)
        return {"handle": handle}

    def add_block(self, handle: int, data: str) -> dict[str, Any]:
        staging, _ = self._open_handle(handle)
        block = _decode(data)
        if len(block) > MAX_BLOCK_BYTES:
            raise ApiError(
                400, "MAX_BLOCK_SIZE_EXCEEDED", "The block of data exceeds the 1 MB limit."
            )
        with staging.open("ab") as out:
            out.write(block)
        return {}

    def close(self, handle: int) -> dict[str, Any]:
        staging, target = self._open_handle(handle)
        # The file appears whole on close, as a DBFS streaming upload does.
        os.replace(staging, target)
        with self._lock:
            del self._handles[handle]
        return {}

    def put(self, path: str, contents: str, overwrite: bool = False) -> dict[str, Any]:
        handle = self.create(path, overwrite)["handle"]
        self.add_block(handle, contents)
        return self.close(handle)

    def read(self, path: str, offset: int = 0, length: int = DEFAULT_READ_BYTES) -> dict[str, Any]:
        source = self._existing(path)
        if source.is_dir():
            raise invalid(f"Cannot read a directory: {path}")
        if length > MAX_BLOCK_BYTES:
            raise ApiError(400, "MAX_READ_SIZE_EXCEEDED", "Cannot read more than 1 MB at once.")
        if offset < 0 or length < 0:
            raise invalid("offset and length must be non-negative.")
        with source.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(length)
        return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}

    def get_status(self, path: str) -> dict[str, Any]:
        return _status(path, self._existing(path))

    def list(self, path: str) -> dict[str, Any]:
        folder = self._existing(path)
        if not folder.is_dir():
            return {"files": [_status(path, folder)]}
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
        return {"files": [_status(f"{path.rstrip('/')}/{p.name}", p) for p in entries]}

    def mkdirs(self, path: str) -> dict[str, Any]:
        self.local_path(path).mkdir(parents=True, exist_ok=True)
        return {}

    def delete(self, path: str, recursive: bool = False) -> dict[str, Any]:
        target = self.local_path(path)
        if not target.exists():
            return {}
        if target.is_dir():
            if any(target.iterdir()) and not recursive:
                raise ApiError(
                    400, "IO_ERROR", f"Cannot delete non-empty directory {path} (recursive=false)."
                )
            shutil.rmtree(target)
        else:
            target.unlink()
        return {}

    def _existing(self, path: str) -> Path:
        target = self.local_path(path)
        if not target.exists():
            raise not_found(f"No file or directory exists on path {path}.")
        return target

    def _open_handle(self, handle: Any) -> tuple[Path, Path]:
        with self._lock:
            found = self._handles.get(handle)
        if found is None:
            raise not_found(f"The handle {handle} does not exist.")
        return found


def _decode(data: Any) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        raise invalid("data must be base64-encoded.") from None


def _status(path: str, local: Path) -> dict[str, Any]:
    stat = local.stat()
    return {
        "path": path,
        "is_dir": local.is_dir(),
        "file_size": 0 if local.is_dir() else stat.st_size,
        "modification_time": int(stat.st_mtime * 1000),
    }
