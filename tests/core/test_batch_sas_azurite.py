"""Per-job SAS on Azurite, end to end: minted with the dev account's key, outputs uploaded
through the write-only container URL as Batch OutputFiles do, frames and logs downloaded
back; and each SAS can do no more than its job needs (403 otherwise)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from azure.batch import BatchClient
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobServiceClient, ContainerClient
from tests.core.batch_service import FakeBatchService, FakeCredential, NodeResult
from tests.core.test_batch_backend import make_job

from azrender.batch.access import for_job, mint_access
from azrender.batch.backend import AzureBatchBackend
from azrender.presets import parse_preset
from azrender.storage.download import download_prefix

PRESET = """name = "show"
[storage]
assets_container = "sas-assets"
outputs_container = "sas-outputs"
[backend]
kind = "azure"
[batch]
account_url = "https://showrender.westeurope.batch.azure.com"
max_job_minutes = 60
"""


def render_node(task: dict[str, Any]) -> NodeResult:
    """A render that writes one PNG per frame of the task (frames from its display name)."""
    first, _, last = task["displayName"].rpartition(" ")[2].partition("-")
    frames = range(int(first), int(last or first) + 1)
    return NodeResult(stdout=f"rendered {task['id']}", stderr="",
                      files={f"out/shot_{n:04d}.png": f"png {n}".encode() for n in frames})


def create(service: BlobServiceClient, name: str) -> None:
    """Create container ``name`` unless it is there (as submit does for a job's outputs)."""
    try:
        service.create_container(name)
    except HttpResponseError as exc:
        if exc.status_code != 409:
            raise


@pytest.fixture
def containers(storage_env: str) -> BlobServiceClient:
    service = BlobServiceClient.from_connection_string(storage_env)
    for name in ("sas-assets", "sas-outputs"):
        create(service, name)
    service.get_blob_client("sas-assets", "show/tex/a.png").upload_blob(b"texture", overwrite=True)
    return service


def test_outputs_go_up_through_the_job_sas_and_come_back(containers: BlobServiceClient, tmp_path: Path) -> None:
    preset = parse_preset(PRESET, Path("show.toml"))
    service = FakeBatchService(render_node, upload=True)
    client = BatchClient("https://showrender.westeurope.batch.azure.com", FakeCredential(), transport=service)
    runner = AzureBatchBackend(preset, client=client, environ=os.environ, mint=mint_access, poll_seconds=0,
                               sleep=lambda s: None)
    job = make_job("1-3", chunk=2, job_id="sas-job")
    create(containers, job.outputs_container)  # what submit does before the tasks run
    status = runner.submit(job, wait=True)
    assert service.invalid == [] and status.counts["succeeded"] == 2
    # The URLs the service got are real SAS URLs on Azurite's dev account, least privilege each.
    job_body = service.jobs["sas-job"]["body"]
    task = service.jobs["sas-job"]["tasks"]["frames-001"]["body"]
    url = task["outputFiles"][0]["destination"]["container"]["containerUrl"]
    assert url.startswith("http://127.0.0.1:") and f"/devstoreaccount1/{job.outputs_container}?" in url
    assert "sp=cw" in url and "sig=" in url
    prep_env = {e["name"]: e["value"] for e in job_body["jobPreparationTask"]["environmentSettings"]}
    assert "sp=rl" in prep_env["AZRENDER_ASSETS_CONTAINER_URL"]

    summary = download_prefix(containers.get_container_client(job.outputs_container), "sas-job", tmp_path / "back")
    assert summary.files == 7  # three frames, and stdout/stderr of both tasks
    for n in (1, 2, 3):
        assert (tmp_path / "back" / "frames" / f"shot_{n:04d}.png").read_bytes() == f"png {n}".encode()
    assert (tmp_path / "back" / "logs" / "frames-002" / "stdout.txt").read_text() == "rendered frames-002"


def test_each_sas_can_do_only_its_job(containers: BlobServiceClient) -> None:
    preset = parse_preset(PRESET, Path("show.toml"))
    access = mint_access(preset, now=datetime.now(timezone.utc))
    assert access.mode == "sas" and not access.delegation  # Azurite: an account-key SAS
    assets = ContainerClient.from_container_url(access.assets_url)
    assert assets.download_blob("show/tex/a.png").readall() == b"texture"  # read+list works
    assert [b.name for b in assets.list_blobs()] == ["show/tex/a.png"]
    with pytest.raises(HttpResponseError) as refused:
        assets.upload_blob("show/tex/evil.png", b"x")  # ...and cannot write
    assert refused.value.status_code == 403
    outputs = ContainerClient.from_container_url(access.outputs_url)
    outputs.upload_blob("job/frames/a.png", b"frame", overwrite=True)  # write+create works
    with pytest.raises(HttpResponseError) as unlisted:
        list(outputs.list_blobs())  # ...and cannot look at what is there
    assert unlisted.value.status_code == 403
    with pytest.raises(HttpResponseError) as unread:
        outputs.download_blob("job/frames/a.png").readall()
    assert unread.value.status_code == 403


def test_an_expired_sas_is_refused(containers: BlobServiceClient) -> None:
    preset = parse_preset(PRESET, Path("show.toml"))
    old = mint_access(preset, now=datetime(2020, 1, 1, tzinfo=timezone.utc))  # expired in 2020
    with pytest.raises(HttpResponseError) as refused:
        ContainerClient.from_container_url(old.assets_url).download_blob("show/tex/a.png").readall()
    assert refused.value.status_code == 403


def test_a_job_sas_cannot_overwrite_another_jobs_frames(containers: BlobServiceClient) -> None:
    """Each job writes to its own outputs container: job A's write SAS is refused on job B's frames."""
    preset = parse_preset(PRESET, Path("show.toml"))
    jobs = {name: make_job("1", job_id=name) for name in ("job-a", "job-b")}
    for job in jobs.values():
        create(containers, job.outputs_container)
    frame = "job-b/frames/shot_0001.png"
    containers.get_blob_client(jobs["job-b"].outputs_container, frame).upload_blob(b"job b's frame", overwrite=True)
    now = datetime.now(timezone.utc)
    access = {name: mint_access(for_job(preset, job.outputs_container), now=now) for name, job in jobs.items()}
    a = ContainerClient.from_container_url(access["job-a"].outputs_url)
    a.upload_blob("job-a/frames/shot_0001.png", b"job a's frame")  # its own container: allowed
    # Job B's container through job A's SAS (the same token on B's URL): refused, whatever the blob.
    b_url = access["job-a"].outputs_url.replace(jobs["job-a"].outputs_container, jobs["job-b"].outputs_container)
    other = ContainerClient.from_container_url(b_url)
    for name in (frame, "job-b/frames/new.png"):
        with pytest.raises(HttpResponseError) as refused:
            other.upload_blob(name, b"overwritten", overwrite=True)
        assert refused.value.status_code == 403
    assert containers.get_blob_client(jobs["job-b"].outputs_container, frame).download_blob().readall() == (
        b"job b's frame"
    )


def test_a_shows_assets_sas_cannot_read_another_shows_assets(containers: BlobServiceClient) -> None:
    """A show's preset names its own assets container; its jobs' read SAS covers that container only."""
    other_show = PRESET.replace('assets_container = "sas-assets"', 'assets_container = "sas-assets-other"')
    create(containers, "sas-assets-other")
    containers.get_blob_client("sas-assets-other", "other/tex/b.png").upload_blob(b"other", overwrite=True)
    access = mint_access(parse_preset(PRESET, Path("show.toml")), now=datetime.now(timezone.utc))
    assert parse_preset(other_show, Path("other.toml")).storage.assets_container == "sas-assets-other"
    foreign = ContainerClient.from_container_url(access.assets_url.replace("/sas-assets?", "/sas-assets-other?"))
    for attempt in (lambda: foreign.download_blob("other/tex/b.png").readall(), lambda: list(foreign.list_blobs())):
        with pytest.raises(HttpResponseError) as refused:
            attempt()
        assert refused.value.status_code == 403
