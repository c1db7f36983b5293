"""Storage secrets reach Batch from this machine's environment, and nowhere else.

The Azure Files key for ``cmdkey /pass:%AZRENDER_FILES_KEY%`` must be in the pool start
task's environment (the node expands it), the CIFS password in the mount configuration;
both come from the submitting machine's environment at submit time, and neither shows in
a dry run, a log line or an error.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from azure.batch import BatchClient
from tests.core.batch_service import FakeBatchService, FakeCredential
from tests.core.test_batch_backend import NOW, fake_mint
from tests.core.test_batch_payload import make_job as job_for

from azrender.batch.backend import AzureBatchBackend
from azrender.batch.dryrun import dry_run_document
from azrender.errors import AzrenderError, JobError
from azrender.model import JobSpec
from azrender.presets import parse_preset

KEY = "c2VjcmV0LWZpbGVzLWtleQ+AAA/BBB=="
PASSWORD = "cifs-pass-w0rd!"
BATCH = ('[backend]\nkind = "azure"\n[batch]\naccount_url = "https://showrender.westeurope.batch.azure.com"\n'
         '[storage]\naccount_url = "https://showrender.blob.core.windows.net"\n')
WINDOWS_FILES = ('name = "max"\n' + BATCH + 'mode = "azure-files"\n'
                 '[azure_files]\naccount = "showfiles"\nshare = "show"\nmount_at = "task"\n'
                 '[pool]\nos = "windows"\nimage = "microsoftwindowsserver/windowsserver/2022-datacenter"\n'
                 'node_agent_sku = "batch.node.windows amd64"\n')
CIFS = ('name = "cifs"\n' + BATCH + 'mode = "cifs"\n[share]\nsource = "//filer/show"\nusername = "render"\n'
        '[[paths]]\nsource = "/show"\ntarget = "show"\n'
        '[pool]\nsubnet_id = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v/subnets/r"\n')


def make_job(text: str = WINDOWS_FILES) -> JobSpec:
    return job_for(parse_preset(text, Path("show.toml")))


def runner(service: FakeBatchService, text: str, environ: dict[str, str]) -> AzureBatchBackend:
    preset = parse_preset(text, Path("show.toml"))
    client = BatchClient("https://showrender.westeurope.batch.azure.com", FakeCredential(), transport=service)
    return AzureBatchBackend(preset, client=client, environ=environ, mint=fake_mint, poll_seconds=0,
                             sleep=lambda s: None, clock=lambda: NOW)


def sent_pool(service: FakeBatchService) -> dict[str, Any]:
    bodies = [b for m, p, b in service.requests if (m, p) == ("POST", "/pools")]
    assert len(bodies) == 1
    return bodies[0]


def test_files_key_goes_to_the_start_task_environment_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service = FakeBatchService()
    status = runner(service, WINDOWS_FILES, {"AZRENDER_FILES_KEY": KEY}).submit(make_job(), wait=True)
    assert service.invalid == [] and status.state == "completed"
    start = sent_pool(service)["startTask"]
    assert {"name": "AZRENDER_FILES_KEY", "value": KEY} in start["environmentSettings"]
    assert "/pass:%AZRENDER_FILES_KEY%" in start["commandLine"] and KEY not in start["commandLine"]
    # Only the start task carries it: not the job, not the tasks.
    others = [b for m, p, b in service.requests if p != "/pools"]
    assert KEY not in json.dumps(others)
    assert KEY not in caplog.text


def test_dry_run_shows_the_slot_not_the_key() -> None:
    preset = parse_preset(WINDOWS_FILES, Path("show.toml"))
    doc = dry_run_document(make_job(), preset, now=NOW, environ={"AZRENDER_FILES_KEY": KEY})
    assert {"name": "AZRENDER_FILES_KEY", "value": "***"} in doc["pool"]["startTask"]["environmentSettings"]
    assert KEY not in json.dumps(doc)
    # A dry run needs no key at all.
    assert dry_run_document(make_job(), preset, now=NOW, environ={})["pool"]["startTask"]["environmentSettings"]


def test_missing_key_is_one_line_naming_the_variable() -> None:
    service = FakeBatchService()
    with pytest.raises(AzrenderError) as info:
        runner(service, WINDOWS_FILES, {}).submit(make_job(), wait=False)
    assert "AZRENDER_FILES_KEY" in str(info.value) and "\n" not in str(info.value)
    assert service.requests == []  # nothing was created half-way


def test_service_errors_echoing_the_key_are_masked() -> None:
    service = FakeBatchService()

    def refuse(params: Any, body: Any, query: Any) -> tuple[int, Any, None]:
        env = body["startTask"]["environmentSettings"]
        return service._error(400, "InvalidPropertyValue", f"bad value {env[0]['value']} for the start task")

    service.op_create_pool = refuse  # type: ignore[method-assign]
    with pytest.raises(JobError) as info:
        runner(service, WINDOWS_FILES, {"AZRENDER_FILES_KEY": KEY}).submit(make_job(), wait=False)
    assert KEY not in str(info.value) and "bad value *** for the start task" in str(info.value)


def test_cifs_password_goes_to_the_mount_and_not_the_dry_run() -> None:
    service = FakeBatchService()
    runner(service, CIFS, {"AZRENDER_CIFS_PASSWORD": PASSWORD}).submit(make_job(CIFS), wait=False)
    assert service.invalid == []
    cifs = sent_pool(service)["mountConfiguration"][0]["cifsMountConfiguration"]
    assert (cifs["username"], cifs["password"]) == ("render", PASSWORD)
    doc = dry_run_document(make_job(CIFS), parse_preset(CIFS, Path("s.toml")), now=NOW,
                           environ={"AZRENDER_CIFS_PASSWORD": PASSWORD})
    assert doc["pool"]["mountConfiguration"][0]["cifsMountConfiguration"]["password"] == "***"
    assert PASSWORD not in json.dumps(doc)
    with pytest.raises(AzrenderError, match="AZRENDER_CIFS_PASSWORD"):
        runner(FakeBatchService(), CIFS, {}).submit(make_job(CIFS), wait=False)
