"""The Databricks workspace emulator: an HTTP server speaking the REST API the step launcher uses.

Endpoints: DBFS (create / add-block / close / put / read / get-status / list / mkdirs / delete),
the Files API on Unity Catalog volumes (files: upload / download / metadata / delete;
directories: create / list),
Jobs 2.1 and 2.2 (runs/submit, runs/get, runs/get-output, runs/cancel), Clusters (get),
Permissions (jobs and clusters: get / update / set), and OAuth machine-to-machine
(``/oidc/.well-known/oauth-authorization-server`` and the token endpoint) so a service
principal authenticates exactly as against a workspace. Every request is recorded.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lakehouse_assets_tests.databricks_emulator.dbfs import Dbfs
from lakehouse_assets_tests.databricks_emulator.runs import RunExecutor
from lakehouse_assets_tests.databricks_emulator.validation import (
    CLUSTER_PERMISSIONS,
    JOB_PERMISSIONS,
    ApiError,
    invalid,
    malformed,
    not_found,
    reject_unknown_fields,
    validate_access_control_list,
    validate_submit,
)
from lakehouse_assets_tests.databricks_emulator.volumes import Volumes


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    status: int
    answer: Any


@dataclass(frozen=True)
class ServicePrincipal:
    client_id: str
    client_secret: str
    name: str


class DatabricksEmulator:
    """A local workspace. Use as a context manager; ``url`` is the workspace host."""

    def __init__(
        self,
        root: Path,
        *,
        tokens: dict[str, str] | None = None,
        service_principals: tuple[ServicePrincipal, ...] = (),
        secret_scopes: dict[str, dict[str, str]] | None = None,
        volumes: tuple[str, ...] = (),
        dbfs_root: bool = True,
    ) -> None:
        self.root = root
        # Personal access tokens -> user name; OAuth tokens are added as they are issued.
        self.tokens = dict(tokens or {})
        self.service_principals = {sp.client_id: sp for sp in service_principals}
        self.dbfs = Dbfs(root / "dbfs")
        # Unity Catalog volumes (``catalog.schema.volume``) the workspace has.
        self.volumes = Volumes(root / "volumes", volumes)
        # False: an account created without DBFS root, whose DBFS API refuses every call.
        self.dbfs_root = dbfs_root
        self.executor = RunExecutor(root, self.dbfs.root, secret_scopes or {}, self.volumes.root)
        self.permissions: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> DatabricksEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.executor.stop()

    def calls(self, path_suffix: str) -> list[Recorded]:
        """Recorded requests whose path ends with ``path_suffix`` (API version ignored)."""
        return [r for r in self.requests if r.path.endswith(path_suffix)]

    # -- dispatch ---------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        try:
            if path.startswith("/oidc/"):
                return self._oidc(method, path, headers, body)
            user = self._authenticate(headers)
            return 200, self._route(method, path, query, body, user)
        except ApiError as error:
            return error.status, error.body

    def _authenticate(self, headers: dict[str, str]) -> str:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401,
                401,
                "Credential was not sent or was of an unsupported type for this API. "
                f"[ReqId: {uuid.uuid4()}]",
            )
        if token not in self.tokens:
            raise ApiError(403, 403, f"Invalid access token. [ReqId: {uuid.uuid4()}]")
        return self.tokens[token]

    def _route(
        self, method: str, path: str, query: dict[str, str], body: Any, user: str
    ) -> dict[str, Any]:
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "api":
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        version, resource = parts[1], "/".join(parts[2:])
        if resource.startswith("dbfs/") and version == "2.0":
            if not self.dbfs_root:
                raise ApiError(
                    403,
                    "PERMISSION_DENIED",
                    "DBFS root is disabled for this workspace; use Unity Catalog volumes.",
                )
            return self._dbfs(method, resource.removeprefix("dbfs/"), query, body)
        if resource.startswith("jobs/runs/") and version in {"2.1", "2.2"}:
            return self._jobs(method, resource.removeprefix("jobs/runs/"), query, body, user)
        if resource == "clusters/get" and version in {"2.0", "2.1"} and method == "GET":
            cluster = self.executor.clusters.existing(query.get("cluster_id", ""))
            if cluster is None:
                raise invalid(f"Cluster {query.get('cluster_id')} does not exist")
            return cluster.as_json()
        if resource.startswith("permissions/") and version == "2.0":
            return self._permissions(method, resource.split("/")[1:], body)
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")

    # -- Files API (volumes) ------------------------------------------------------------------

    def handle_files(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], data: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """A Files API call: raw bytes in and out (errors as the service's JSON)."""
        try:
            self._authenticate(headers)
            kind, _, target = path.removeprefix("/api/2.0/fs/").partition("/")
            target = "/" + urllib.parse.unquote(target)
            if kind == "files" and method == "PUT":
                overwrite = str(query.get("overwrite", "true")).lower() == "true"
                self.volumes.upload(target, data, overwrite)
                return 204, {}, b""
            if kind == "files" and method == "GET":
                payload, answer_headers = self.volumes.download(target)
                return 200, answer_headers, payload
            if kind == "files" and method == "HEAD":
                return 200, self.volumes.metadata(target), b""
            if kind == "files" and method == "DELETE":
                self.volumes.delete(target)
                return 204, {}, b""
            if kind == "directories" and method == "PUT":
                self.volumes.create_directory(target)
                return 204, {}, b""
            if kind == "directories" and method == "GET":
                listing = self.volumes.list_directory(target)
                return 200, {"Content-Type": "application/json"}, json.dumps(listing).encode()
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")
        except ApiError as error:
            payload = json.dumps(error.body).encode()
            return error.status, {"Content-Type": "application/json"}, payload

    # -- DBFS -------------------------------------------------------------------------------

    def _dbfs(self, method: str, action: str, query: dict[str, str], body: Any) -> dict:
        dbfs = self.dbfs
        if method == "GET":
            path = query.get("path")
            if path is None:
                raise invalid("Missing required field: path")
            if action == "read":
                offset = _int(query, "offset", 0)
                length = _int(query, "length", 512 * 1024)
                return dbfs.read(path, offset, length)
            if action == "get-status":
                return dbfs.get_status(path)
            if action == "list":
                return dbfs.list(path)
        if method == "POST":
            body = _object(body)
            handlers = {
                "create": (
                    ("path", "overwrite"),
                    lambda b: dbfs.create(b["path"], b.get("overwrite", False)),
                ),
                "add-block": (("handle", "data"), lambda b: dbfs.add_block(b["handle"], b["data"])),
                "close": (("handle",), lambda b: dbfs.close(b["handle"])),
                "put": (
                    ("path", "contents", "overwrite"),
                    lambda b: dbfs.put(b["path"], b.get("contents", ""), b.get("overwrite", False)),
                ),
                "mkdirs": (("path",), lambda b: dbfs.mkdirs(b["path"])),
                "delete": (
                    ("path", "recursive"),
                    lambda b: dbfs.delete(b["path"], b.get("recursive", False)),
                ),
            }
            if action in handlers:
                fields, handler = handlers[action]
                reject_unknown_fields(body, frozenset(fields), action)
                required = fields[0]
                if required not in body:
                    raise invalid(f"Missing required field: {required}")
                return handler(body)
        raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /dbfs/{action}'")

    # -- Jobs -------------------------------------------------------------------------------

    def _jobs(self, method: str, action: str, query: dict[str, str], body: Any, user: str) -> dict:
        runs = self.executor
        if method == "POST" and action == "submit":
            body = _object(body)
            validate_submit(body)
            for task in body["tasks"]:
                cluster_id = task.get("existing_cluster_id")
                if cluster_id and runs.clusters.existing(cluster_id) is None:
                    raise invalid(f"Cluster {cluster_id} does not exist")
            return {"run_id": runs.submit(body, self.url, user)}
        if method == "GET" and action == "get":
            return self._run(_int(query, "run_id")).as_json()
        if method == "GET" and action == "get-output":
            run_id = _int(query, "run_id")
            if run_id in runs.runs:
                raise invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. "
                    "Please retrieve the output of each individual task run instead."
                )
            if run_id not in runs.task_runs:
                raise invalid(f"Run {run_id} does not exist.")
            return runs.output(run_id)
        if method == "POST" and action == "cancel":
            body = _object(body)
            reject_unknown_fields(body, frozenset({"run_id"}), "CancelRun")
            run = self._run(body.get("run_id"))
            runs.cancel(run.run_id)
            return {}
        raise ApiError(
            404, "ENDPOINT_NOT_FOUND", f"No API found for '{method} /jobs/runs/{action}'"
        )

    def _run(self, run_id: Any):
        if not isinstance(run_id, int):
            raise invalid("Missing required field: run_id")
        run = self.executor.runs.get(run_id)
        if run is None:
            raise invalid(f"Run {run_id} does not exist.")
        return run

    # -- Permissions ------------------------------------------------------------------------

    def _permissions(self, method: str, target: list[str], body: Any) -> dict:
        if len(target) != 2 or target[0] not in {"jobs", "clusters"}:
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for permissions/{target}")
        kind, object_id = target
        if kind == "jobs":
            known = {str(run.job_id) for run in self.executor.runs.values()}
            levels = JOB_PERMISSIONS
        else:
            known = set(self.executor.clusters.clusters)
            levels = CLUSTER_PERMISSIONS
        if object_id not in known:
            raise not_found(f"{kind[:-1].capitalize()} {object_id} does not exist.")
        key = (kind, object_id)
        if method in {"PATCH", "PUT"}:
            body = _object(body)
            reject_unknown_fields(body, frozenset({"access_control_list"}), "permissions")
            acl = body.get("access_control_list", [])
            validate_access_control_list(acl, levels)
            with self._lock:
                current = [] if method == "PUT" else self.permissions.get(key, [])
                self.permissions[key] = current + acl
        elif method != "GET":
            raise ApiError(404, "ENDPOINT_NOT_FOUND", f"No API found for '{method}' permissions")
        return {
            "object_id": f"/{kind}/{object_id}",
            "object_type": "job" if kind == "jobs" else "cluster",
            "access_control_list": [
                {
                    **{k: v for k, v in entry.items() if k != "permission_level"},
                    "all_permissions": [
                        {"permission_level": entry["permission_level"], "inherited": False}
                    ],
                }
                for entry in self.permissions.get(key, [])
            ],
        }

    # -- OAuth M2M --------------------------------------------------------------------------

    def _oidc(self, method: str, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/oidc/.well-known/oauth-authorization-server":
            return 200, {
                "issuer": f"{self.url}/oidc",
                "authorization_endpoint": f"{self.url}/oidc/v1/authorize",
                "token_endpoint": f"{self.url}/oidc/v1/token",
                "grant_types_supported": ["client_credentials", "authorization_code"],
            }
        if method == "POST" and path == "/oidc/v1/token":
            principal = self._client_from(headers, body if isinstance(body, dict) else {})
            if principal is None:
                return 401, {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                }
            if (body or {}).get("grant_type") != "client_credentials":
                return 400, {"error": "unsupported_grant_type"}
            token = secrets.token_urlsafe(24)
            with self._lock:
                self.tokens[token] = principal.name
            return 200, {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": (body or {}).get("scope", "all-apis"),
            }
        return 404, {"error": "not_found"}

    def _client_from(
        self, headers: dict[str, str], form: dict[str, str]
    ) -> ServicePrincipal | None:
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization.lower().startswith("basic "):
            decoded = base64.b64decode(authorization[6:]).decode()
            client_id, _, client_secret = decoded.partition(":")
        principal = self.service_principals.get(client_id or "")
        if principal is None or principal.client_secret != client_secret:
            return None
        return principal

    # -- HTTP plumbing ----------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
                if url.path.startswith("/api/2.0/fs/"):
                    self._serve_files(url.path, query)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                headers = dict(self.headers)
                try:
                    body = _parse_body(raw, self.headers.get("Content-Type", ""))
                    status, answer = emulator.handle(self.command, url.path, query, headers, body)
                except ApiError as error:
                    body, status, answer = raw, error.status, error.body
                with emulator._lock:
                    emulator.requests.append(
                        Recorded(self.command, url.path, query, headers, body, status, answer)
                    )
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _serve_files(self, path: str, query: dict[str, str]) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                headers = dict(self.headers)
                status, answer_headers, payload = emulator.handle_files(
                    self.command, path, query, headers, data
                )
                with emulator._lock:
                    emulator.requests.append(
                        Recorded(self.command, path, query, headers, len(data), status, None)
                    )
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in answer_headers:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_HEAD = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def _parse_body(raw: str, content_type: str) -> Any:
    if not raw:
        return {}
    if "application/x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise malformed(f"Invalid JSON given in the body of the request: {error.msg}") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise malformed("Invalid JSON given in the body of the request - expected a map")
    return body


def _int(query: dict[str, Any], name: str, default: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        if default is None:
            raise invalid(f"Missing required field: {name}")
        return default
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise malformed(f"Expected integer for field {name}, found {raw!r}") from None
