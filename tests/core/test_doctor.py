"""`azrender doctor`: one line per check, a fix for each failure, exit 1 when any check fails."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from azure.batch import BatchClient
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
)
from click.testing import CliRunner
from tests.core.batch_service import FakeBatchService, FakeCredential

from azrender.cli import main
from azrender.doctor import Check, check_account_kind, run_doctor
from azrender.presets import parse_preset

BATCH_URL = "https://showrender.westeurope.batch.azure.com"


def write_preset(tmp_path: Path, extra: str = "", containers: tuple[str, str] = ("assets", "outputs")) -> Path:
    path = tmp_path / "show.toml"
    path.write_text(
        f'name = "show"\n[storage]\nassets_container = "{containers[0]}"\n'
        f'outputs_container = "{containers[1]}"\n{extra}'
    )
    return path


def doctor(preset: Path, *args: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(main, ["doctor", "--preset", str(preset), "--json", *args])
    return result.exit_code, json.loads(result.stdout), result.stderr


def by_name(doc: dict[str, object]) -> dict[str, dict[str, str]]:
    checks = doc["checks"]
    assert isinstance(checks, list)
    return {c["check"]: c for c in checks}


def test_passes_on_azurite_and_leaves_no_probe(storage_env: str, tmp_path: Path) -> None:
    preset = write_preset(tmp_path, containers=("doc-assets", "doc-outputs"))
    code, doc, _ = doctor(preset)
    checks = by_name(doc)
    assert code == 0 and doc["ok"] is True, doc
    assert checks["storage credentials"]["status"] == "ok"
    assert checks["storage account"] == {"check": "storage account", "status": "ok",
                                         "message": "StorageV2 (Standard_RAGRS)", "fix": ""}
    assert checks["assets container"]["status"] == "ok" and "doc-assets" in checks["assets container"]["message"]
    assert checks["per-job SAS"]["status"] == "ok" and "account key" in checks["per-job SAS"]["message"]
    assert checks["licence server"]["status"] == "skip"
    assert "batch account" not in checks  # local backend: no Batch checks
    service = BlobServiceClient.from_connection_string(storage_env)
    for name in ("doc-assets", "doc-outputs"):
        assert list(service.get_container_client(name).list_blobs()) == []  # probe deleted
    # The human form: one line per check, nothing secret.
    human = CliRunner().invoke(main, ["doctor", "--preset", str(preset)])
    assert human.exit_code == 0
    lines = human.stderr.strip().splitlines()
    assert len(lines) == len(checks) and lines[0].startswith("ok    storage credentials:")
    assert "AccountKey=" not in human.stderr and "Eby8" not in human.stderr


def test_unreachable_endpoint_fails_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING",
                       "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;"
                       f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;")
    code, doc, _ = doctor(write_preset(tmp_path))
    checks = by_name(doc)
    assert code == 1 and doc["ok"] is False
    account = checks["storage account"]
    assert account["status"] == "fail" and f"cannot reach blob storage at http://127.0.0.1:{port}" in account["message"]
    assert account["fix"]
    assert checks["assets container"]["status"] == "skip"
    assert "c2VjcmV0" not in json.dumps(doc)


def test_missing_container_with_create_forbidden(storage_env: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    service = BlobServiceClient.from_connection_string(storage_env)
    service.get_container_client("ro-assets").create_container()
    key = storage_env.split("AccountKey=")[1].split(";")[0]
    sas = generate_account_sas(service.account_name, key, ResourceTypes(service=True, container=True, object=True),
                               AccountSasPermissions(read=True, list=True),
                               datetime.now(timezone.utc) + timedelta(hours=1))
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", f"BlobEndpoint={service.url};SharedAccessSignature={sas}")
    code, doc, _ = doctor(write_preset(tmp_path, containers=("ro-assets", "ro-missing")))
    checks = by_name(doc)
    assert code == 1
    assert checks["storage credentials"]["status"] == "ok" and "SAS" in checks["storage credentials"]["message"]
    outputs = checks["outputs container"]
    assert outputs["status"] == "fail"
    assert "'ro-missing' does not exist and this credential cannot create it" in outputs["message"]
    assert "create 'ro-missing' in the portal" in outputs["fix"]
    # The existing container is there but read-only: the probe write is refused.
    assert checks["assets container"]["status"] == "fail"
    assert "writing a probe blob" in checks["assets container"]["message"]
    assert checks["per-job SAS"]["status"] == "fail" and "cannot sign" in checks["per-job SAS"]["message"]
    assert "sig=" not in json.dumps(doc) or "sig=***" in json.dumps(doc)


def test_missing_licence_env(storage_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = write_preset(tmp_path, '[pool]\nlicence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1"\n')
    monkeypatch.delenv("ADSKFLEX_LICENSE_FILE", raising=False)
    code, doc, _ = doctor(preset)  # local backend: the renderer runs here, with this environment
    licence = by_name(doc)["licence server"]
    assert code == 1 and licence["status"] == "fail"
    assert licence["message"].startswith("ADSKFLEX_LICENSE_FILE is not set in this environment")
    assert "export ADSKFLEX_LICENSE_FILE=" in licence["fix"]
    monkeypatch.setenv("ADSKFLEX_LICENSE_FILE", "27000@lic1")
    code, doc, _ = doctor(preset)
    assert code == 0 and by_name(doc)["licence server"]["status"] == "ok"


AZURE = f"""
[backend]
kind = "azure"
[batch]
account_url = "{BATCH_URL}"
pool_id = "abc-render"
pool_mode = "existing"
[pool]
vm_size = "Standard_D16s_v3"
licence_env = "ADSKFLEX_LICENSE_FILE=27000@lic1 EXTRA_LICENSE="
"""


def run_azure(tmp_path: Path, service: FakeBatchService, text: str, env: dict[str, str]) -> dict[str, Check]:
    preset = parse_preset(f'name = "show"\n{text}', tmp_path / "show.toml")
    client = BatchClient(BATCH_URL, FakeCredential(), transport=service)
    report = run_doctor(preset, environ=env, batch_client=client)
    assert service.invalid == []
    return {c.name: c for c in report.checks}


def test_batch_without_the_pool_fails(storage_env: str, tmp_path: Path) -> None:
    service = FakeBatchService()
    checks = run_azure(tmp_path, service, AZURE, {"AZURE_STORAGE_CONNECTION_STRING": storage_env})
    assert checks["batch account"].status == "ok" and "3 supported images" in checks["batch account"].message
    pool = checks["batch pool"]
    assert pool.status == "fail" and pool.line() == (
        f"FAIL  batch pool: pool 'abc-render' does not exist on {BATCH_URL}; "
        'fix: create it, fix batch.pool_id, or set batch.pool_mode = "create"')
    # A value-less name in licence_env must come from the submitting environment.
    assert checks["licence server"].status == "fail" and checks["licence server"].message.startswith("EXTRA_LICENSE")
    assert [m for m, _, _ in service.requests] == ["GET", "GET"]


def test_batch_pool_vm_size_and_image(storage_env: str, tmp_path: Path) -> None:
    service = FakeBatchService()
    service.pools["abc-render"] = {"id": "abc-render", "vmSize": "STANDARD_D8S_V3"}
    env = {"AZURE_STORAGE_CONNECTION_STRING": storage_env, "EXTRA_LICENSE": "5053@lic2"}
    checks = run_azure(tmp_path, service, AZURE, env)
    assert checks["batch pool"].status == "ok"
    assert checks["vm size"].status == "warn" and "runs STANDARD_D8S_V3, the preset says Standard_D16s_v3" in (
        checks["vm size"].message)
    assert checks["image"].status == "skip" and checks["licence server"].status == "ok"
    # A pool to be created: the image and its node agent must be one Batch supports.
    create = AZURE.replace('"existing"', '"create"').replace('pool_id = "abc-render"', 'pool_id = "new-pool"')
    checks = run_azure(tmp_path, FakeBatchService(), create, env)
    assert checks["batch pool"].status == "ok" and "submit creates it" in checks["batch pool"].message
    assert checks["image"].status == "ok" and checks["vm size"].status == "ok"
    wrong = create + 'image = "canonical/ubuntu-24_04-lts/server"\nnode_agent_sku = "batch.node.ubuntu 22.04"\n'
    image = run_azure(tmp_path, FakeBatchService(), wrong, env)["image"]
    assert image.status == "fail" and image.fix == 'set pool.node_agent_sku = "batch.node.ubuntu 24.04"'
    unknown = create + 'image = "acme/renderos/v1"\n'
    image = run_azure(tmp_path, FakeBatchService(), unknown, env)["image"]
    assert image.status == "fail" and "not an image this Batch account supports" in image.message


def test_unreachable_batch_account(storage_env: str, tmp_path: Path) -> None:
    preset = parse_preset(f'name = "show"\n{AZURE}', tmp_path / "show.toml")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = BatchClient(f"http://127.0.0.1:{port}", FakeCredential(), retry_total=0)
    report = run_doctor(preset, environ={"AZURE_STORAGE_CONNECTION_STRING": storage_env}, batch_client=client)
    batch = next(c for c in report.checks if c.name == "batch account")
    assert batch.status == "fail" and f"cannot reach Batch account {BATCH_URL}" in batch.message
    assert report.failed


def test_v1_account_warns() -> None:
    class V1:
        container_name = "assets"
        url = "https://old.blob.core.windows.net/assets"

        def get_account_information(self) -> dict[str, str]:
            return {"account_kind": "Storage", "sku_name": "Standard_LRS"}

    check = check_account_kind(V1())  # type: ignore[arg-type]
    assert check.status == "warn" and "general-purpose v1" in check.message and "v2" in check.fix


def test_pool_settings_check_names_what_submit_would_refuse(tmp_path: Path) -> None:
    from azrender.doctor import check_pool_limits

    base = 'name = "s"\n[storage]\naccount_url = "https://s.blob.core.windows.net"\n'
    good = check_pool_limits(parse_preset(base + '[pool]\nvm_size = "Standard_D4s_v5"\ntask_slots = 4\n',
                                          tmp_path / "s.toml"))
    assert good.status == "ok" and good.message == "4 task slot(s) per node (at most 16 on Standard_D4s_v5; azrender's size table)"
    bad = check_pool_limits(parse_preset(base + '[pool]\nvm_size = "Standard_D4s_v5"\ntask_slots = 20\n',
                                         tmp_path / "s.toml"))
    assert bad.status == "fail" and "exceeds what Standard_D4s_v5 allows (16" in bad.message
    assert bad.fix.startswith("set pool.task_slots to 16 or less")


class FakeArm:
    """Batch management's List Supported Virtual Machine Skus, two pages (azure-core transport)."""

    PAGES: ClassVar[dict[str, Any]] = {
        "": {"value": [{"name": "Standard_L8s_v3", "familyName": "standardLSv3Family",
                        "capabilities": [{"name": "vCPUs", "value": "8"}, {"name": "MaxResourceVolumeMB", "value": "81920"}]}],
             "nextLink": "https://management.azure.com/next?page=2"},
        "page=2": {"value": [{"name": "Standard_D4s_v5", "familyName": "standardDSv5Family",
                              "capabilities": [{"name": "vCPUs", "value": "4"}]}]},
    }

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __enter__(self) -> FakeArm:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: object, **kwargs: object) -> object:
        import requests
        from azure.core.rest._requests_basic import RestRequestsTransportResponse

        url = request.url  # type: ignore[attr-defined]
        self.urls.append(url)
        assert request.headers["Authorization"].startswith("Bearer ")  # type: ignore[attr-defined]
        query = url.split("?", 1)[1]
        page = self.PAGES["page=2" if query == "page=2" else ""]
        response = requests.Response()
        response.status_code, response._content = 200, json.dumps(page).encode()
        response.headers["Content-Type"] = "application/json"
        response.url, response.reason = url, "OK"
        response._content_consumed = True  # type: ignore[attr-defined]
        return RestRequestsTransportResponse(request=request, internal_response=response)


def test_pool_settings_ask_batch_for_the_vm_size_when_they_can(tmp_path: Path) -> None:
    from azrender.batch.vmskus import list_vm_skus
    from azrender.doctor import check_pool_limits

    arm = FakeArm()

    def skus(sub: str, region: str):  # type: ignore[no-untyped-def]
        return list_vm_skus(sub, region, credential=FakeCredential(), transport=arm)

    base = ('name = "s"\n[storage]\naccount_url = "https://s.blob.core.windows.net"\n'
            '[batch]\naccount_url = "https://s.westeurope.batch.azure.com"\n[pool]\n')
    env = {"AZURE_SUBSCRIPTION_ID": "11111111-2222-3333-4444-555555555555"}
    ok = check_pool_limits(parse_preset(base + 'vm_size = "Standard_D4s_v5"\ntask_slots = 16\n', tmp_path / "s.toml"),
                           env, skus)
    assert ok.status == "ok" and ok.message.endswith("(at most 16 on Standard_D4s_v5; Batch in westeurope: 4 vCPUs)")
    assert arm.urls[0] == ("https://management.azure.com/subscriptions/11111111-2222-3333-4444-555555555555"
                           "/providers/Microsoft.Batch/locations/westeurope/virtualMachineSkus?api-version=2024-07-01")
    # A size only the service knows is checked by what it says; one it does not list is an error.
    custom = parse_preset(base + 'vm_size = "Standard_L8s_v3"\ntask_slots = 33\n', tmp_path / "s.toml")
    assert "allows (32; Batch in westeurope: 8 vCPUs)" in check_pool_limits(custom, env, skus).message
    missing = parse_preset(base + 'vm_size = "Standard_NV72ads_A10_v5"\n', tmp_path / "s.toml")
    check = check_pool_limits(missing, env, skus)
    assert check.status == "fail" and check.message == "Standard_NV72ads_A10_v5 is not a VM size Batch supports in westeurope"
    # Without a subscription the table answers.
    assert "azrender's size table" in check_pool_limits(missing, {}, skus).message
