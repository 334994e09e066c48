"""The workspace emulator against the Databricks REST API's documented requests and answers.

``recorded_api.json`` holds the API reference's examples. Each is sent to the emulator (or its
answer compared) by shape: the same keys with the same JSON types, and for errors the same
status and error code. Runs stay QUEUED here (no cluster starts), so this needs no Spark; the
execution side is covered by ``test_databricks_execution``.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, PermissionDenied

from .databricks_emulator import DatabricksEmulator, ServicePrincipal

RECORDED = json.loads(
    (Path(__file__).parent / "databricks_emulator" / "recorded_api.json").read_text()
)
TOKEN = "dapi-emulator-test-token"
PRINCIPAL = ServicePrincipal("sp-client", "sp-secret", "lakehouse-sp")


@pytest.fixture
def workspace(tmp_path):
    emulator = DatabricksEmulator(
        tmp_path, tokens={TOKEN: "user.name@example.com"}, service_principals=(PRINCIPAL,)
    )
    emulator.executor.accepting.clear()  # runs wait QUEUED: no cluster is started
    with emulator:
        yield emulator


def api(workspace, method: str, path: str, *, token: str | None = TOKEN, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(method, f"{workspace.url}{path}", headers=headers, timeout=10, **kwargs)


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return (
        "number"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else type(value).__name__
    )


def assert_same_shape(answer: Any, recorded: Any) -> None:
    """Every documented key is present with the documented type."""
    expected, actual = shape(recorded), shape(answer)
    _contains(actual, expected, "$")


def _contains(actual: Any, expected: Any, where: str) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual}"
        for key, item in expected.items():
            assert key in actual, f"{where}.{key} missing"
            _contains(actual[key], item, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: expected an array"
        if expected and actual:
            _contains(actual[0], expected[0], f"{where}[0]")
    else:
        assert actual == expected, f"{where}: {actual} != {expected}"


def assert_error(response: requests.Response, recorded: dict) -> None:
    assert response.status_code == recorded["status"]
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == recorded["response"]["error_code"]


def test_runs_submit_get_cancel_match_the_documented_shapes(workspace):
    example = RECORDED["runs_submit"]
    submitted = api(workspace, "POST", "/api/2.2/jobs/runs/submit", json=example["request"])
    assert submitted.status_code == 200
    assert_same_shape(submitted.json(), example["response"])
    run_id = submitted.json()["run_id"]
    # The idempotency token makes a retried submission return the same run.
    again = api(workspace, "POST", "/api/2.2/jobs/runs/submit", json=example["request"])
    assert again.json() == {"run_id": run_id}

    run = api(workspace, "GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()
    assert_same_shape(run, RECORDED["runs_get"]["response"])
    assert run["state"]["life_cycle_state"] == "QUEUED"
    assert run["tasks"][0]["cluster_instance"]["cluster_id"]

    parent_output = api(
        workspace, "GET", "/api/2.2/jobs/runs/get-output", params={"run_id": run_id}
    )
    assert_error(parent_output, RECORDED["runs_get_output_of_multitask_parent"])
    task_output = api(
        workspace,
        "GET",
        "/api/2.2/jobs/runs/get-output",
        params={"run_id": run["tasks"][0]["run_id"]},
    )
    assert task_output.status_code == 200 and "metadata" in task_output.json()

    cancel = RECORDED["runs_cancel"]
    answer = api(workspace, "POST", "/api/2.2/jobs/runs/cancel", json={"run_id": run_id})
    assert answer.status_code == 200 and answer.json() == cancel["response"]
    state = api(workspace, "GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()
    assert state["state"]["life_cycle_state"] == "TERMINATED"
    assert state["state"]["result_state"] == "CANCELED"
    assert state["status"]["termination_details"]["code"] == "CANCELED"


def test_dbfs_streaming_upload_and_block_reads_match_the_documented_shapes(workspace):
    create = api(workspace, "POST", "/api/2.0/dbfs/create", json=RECORDED["dbfs_create"]["request"])
    assert_same_shape(create.json(), RECORDED["dbfs_create"]["response"])
    handle = create.json()["handle"]
    for block in (b"hello ", b"world"):
        added = api(
            workspace,
            "POST",
            "/api/2.0/dbfs/add-block",
            json={"handle": handle, "data": base64.b64encode(block).decode()},
        )
        assert added.json() == RECORDED["dbfs_add_block"]["response"]
    # Not visible until closed: a reader never sees half an upload.
    missing = api(workspace, "GET", "/api/2.0/dbfs/read", params={"path": "/tmp/HelloWorld.txt"})
    assert missing.status_code == 404
    closed = api(workspace, "POST", "/api/2.0/dbfs/close", json={"handle": handle})
    assert closed.json() == RECORDED["dbfs_close"]["response"]

    read = api(workspace, "GET", "/api/2.0/dbfs/read", params=RECORDED["dbfs_read"]["query"])
    assert_same_shape(read.json(), RECORDED["dbfs_read"]["response"])
    assert base64.b64decode(read.json()["data"]) == b"ello wor"
    status = api(
        workspace, "GET", "/api/2.0/dbfs/get-status", params=RECORDED["dbfs_get_status"]["query"]
    )
    assert_same_shape(status.json(), RECORDED["dbfs_get_status"]["response"])
    assert status.json()["file_size"] == 11

    absent = api(workspace, "GET", "/api/2.0/dbfs/read", params={"path": "/tmp/missing.txt"})
    assert_error(absent, RECORDED["dbfs_read_missing"])
    assert absent.json() == RECORDED["dbfs_read_missing"]["response"]
    too_big = api(
        workspace,
        "GET",
        "/api/2.0/dbfs/read",
        params={"path": "/tmp/HelloWorld.txt", "length": 2 * 1024 * 1024},
    )
    assert too_big.json()["error_code"] == "MAX_READ_SIZE_EXCEEDED"
    exists = api(workspace, "POST", "/api/2.0/dbfs/create", json={"path": "/tmp/HelloWorld.txt"})
    assert exists.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"


def test_credentials_are_checked_like_the_service(workspace):
    no_auth = api(workspace, "GET", "/api/2.0/dbfs/get-status", token=None, params={"path": "/"})
    assert_error(no_auth, RECORDED["missing_credentials"])
    assert no_auth.json()["message"].startswith("Credential was not sent")
    bad = api(
        workspace, "GET", "/api/2.0/dbfs/get-status", token="dapi-wrong", params={"path": "/"}
    )
    assert_error(bad, RECORDED["invalid_token"])


def test_a_service_principal_authenticates_with_oauth_through_the_real_sdk(workspace):
    client = WorkspaceClient(
        host=workspace.url, client_id=PRINCIPAL.client_id, client_secret=PRINCIPAL.client_secret
    )
    with pytest.raises(NotFound):
        client.dbfs.get_status("/nothing/here")
    token_requests = workspace.calls("/oidc/v1/token")
    assert len(token_requests) == 1
    assert token_requests[0].body["grant_type"] == "client_credentials"
    assert token_requests[0].headers["Authorization"].startswith("Basic ")
    wrong = WorkspaceClient(host=workspace.url, client_id=PRINCIPAL.client_id, client_secret="x")
    with pytest.raises(Exception, match=r"invalid_client|Client authentication failed"):
        wrong.dbfs.get_status("/")
    pat = WorkspaceClient(host=workspace.url, token="dapi-wrong")
    with pytest.raises(PermissionDenied):
        pat.dbfs.get_status("/")


def _submit_with(workspace, mutate) -> requests.Response:
    request = copy.deepcopy(RECORDED["runs_submit"]["request"])
    request.pop("idempotency_token")
    mutate(request)
    return api(workspace, "POST", "/api/2.2/jobs/runs/submit", json=request)


def _cluster(request: dict) -> dict:
    return request["tasks"][0]["new_cluster"]


@pytest.mark.parametrize(
    ("mutate", "error_code", "message"),
    [
        (
            lambda r: r.update(unknown_setting=1),
            "MALFORMED_REQUEST",
            "Unknown field 'unknown_setting'",
        ),
        (
            lambda r: r["tasks"][0].pop("new_cluster"),
            "INVALID_PARAMETER_VALUE",
            "One of job_cluster_key",
        ),
        (
            lambda r: _cluster(r).update(spark_version="banana"),
            "INVALID_PARAMETER_VALUE",
            "Invalid spark version banana",
        ),
        (
            lambda r: _cluster(r).update(node_type_id="laptop.huge"),
            "INVALID_PARAMETER_VALUE",
            "Node type laptop.huge is not supported",
        ),
        (
            lambda r: _cluster(r).update(num_workers=2),
            "INVALID_PARAMETER_VALUE",
            "Only one of num_workers or autoscale",
        ),
        (
            lambda r: _cluster(r).update(autoscale={"min_workers": 4, "max_workers": 2}),
            "INVALID_PARAMETER_VALUE",
            "Invalid autoscale range",
        ),
        (
            lambda r: _cluster(r).update(spark_conf={"spark.speculation": True}),
            "MALFORMED_REQUEST",
            "Expected STRING for field spark_conf",
        ),
        (
            lambda r: _cluster(r).update(cluster_nme="typo"),
            "MALFORMED_REQUEST",
            "Unknown field 'cluster_nme'",
        ),
        (
            lambda r: r.update(tasks="Sessionize"),
            "MALFORMED_REQUEST",
            "Expected array for field tasks, found STRING",
        ),
        (
            lambda r: r["tasks"][0].update(libraries=[{"pypi": {}}]),
            "INVALID_PARAMETER_VALUE",
            "Missing required field: package",
        ),
    ],
)
def test_bad_run_submissions_get_the_real_error_shapes(workspace, mutate, error_code, message):
    answer = _submit_with(workspace, mutate)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == error_code
    assert message in body["message"]
    assert not workspace.executor.runs, "a rejected submission must not create a run"


def test_permissions_are_validated_and_recorded(workspace):
    run_id = _submit_with(workspace, lambda r: None).json()["run_id"]
    job_id = workspace.executor.runs[run_id].job_id
    example = RECORDED["permissions_update"]
    answer = api(workspace, "PATCH", f"/api/2.0/permissions/jobs/{job_id}", json=example["request"])
    assert answer.status_code == 200
    assert_same_shape(answer.json(), example["response"])
    assert answer.json()["object_id"] == f"/jobs/{job_id}"
    bad_level = api(
        workspace,
        "PATCH",
        f"/api/2.0/permissions/jobs/{job_id}",
        json={"access_control_list": [{"group_name": "g", "permission_level": "CAN_ATTACH_TO"}]},
    )
    assert bad_level.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    unknown = api(workspace, "GET", "/api/2.0/permissions/jobs/999999")
    assert unknown.status_code == 404


def test_a_cluster_library_replacing_the_runtimes_pyspark_fails_the_run(workspace):
    request = copy.deepcopy(RECORDED["runs_submit"]["request"])
    request["idempotency_token"] = "pyspark-library"
    request["tasks"][0]["libraries"] = [{"pypi": {"package": "pyspark==4.0.5"}}]
    workspace.executor.accepting.set()
    run_id = api(workspace, "POST", "/api/2.2/jobs/runs/submit", json=request).json()["run_id"]
    deadline = time.monotonic() + 60
    while True:
        run = api(workspace, "GET", "/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()
        if run["state"]["life_cycle_state"] in {"TERMINATED", "INTERNAL_ERROR"}:
            break
        assert time.monotonic() < deadline, run["state"]
        time.sleep(0.2)
    assert run["state"]["life_cycle_state"] == "INTERNAL_ERROR"
    assert "shadow the runtime's own" in run["state"]["state_message"]


def test_volume_files_move_through_the_files_api_of_the_real_sdk(tmp_path):
    from databricks.sdk.errors import AlreadyExists

    emulator = DatabricksEmulator(
        tmp_path, tokens={TOKEN: "user.name@example.com"}, volumes=("dev.ops.staging",)
    )
    emulator.executor.accepting.clear()
    with emulator:
        client = WorkspaceClient(host=emulator.url, token=TOKEN)
        path = "/Volumes/dev/ops/staging/run 1/step/events.pkl"
        payload = bytes(range(256)) * 40  # binary, not UTF-8
        client.files.upload(path, io.BytesIO(payload), overwrite=True)
        assert client.files.download(path).contents.read() == payload
        # The task sees the same file under the cluster's /Volumes mount.
        assert (emulator.volumes.root / "dev/ops/staging/run 1/step/events.pkl").read_bytes() == (
            payload
        )
        with pytest.raises(AlreadyExists):
            client.files.upload(path, io.BytesIO(b"again"), overwrite=False)
        with pytest.raises(NotFound):
            client.files.download("/Volumes/dev/ops/staging/missing")
        with pytest.raises(NotFound):
            client.files.download("/Volumes/dev/ops/no_such_volume/file")
        listing = client.files.list_directory_contents("/Volumes/dev/ops/staging/run 1/step")
        assert [entry.name for entry in listing] == ["events.pkl"]

    without_dbfs = DatabricksEmulator(tmp_path / "no_dbfs", tokens={TOKEN: "u"}, dbfs_root=False)
    with without_dbfs, pytest.raises(PermissionDenied, match="DBFS root is disabled"):
        WorkspaceClient(host=without_dbfs.url, token=TOKEN).dbfs.get_status("/")


def test_a_node_cannot_import_the_project_or_its_tests(tmp_path):
    """The emulated nodes' interpreter has the runtime's libraries but not the project: a job
    reaches it only through what it ships (the step launcher's code archive, a wheel)."""
    import subprocess

    from .databricks_emulator.clusters import node_environment, node_python

    python = node_python(tmp_path)
    env = node_environment(python)

    def imports(module: str) -> subprocess.CompletedProcess:
        code = f"import {module}"
        return subprocess.run([python, "-c", code], env=env, cwd=tmp_path, capture_output=True)

    for runtime_library in ("pyspark", "pyarrow", "delta"):
        assert imports(runtime_library).returncode == 0, runtime_library
    for project in ("lakehouse_assets", "lakehouse_assets_tests"):
        failed = imports(project)
        assert failed.returncode != 0 and b"ModuleNotFoundError" in failed.stderr, project
