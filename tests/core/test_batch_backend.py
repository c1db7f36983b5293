"""The Azure backend against a fake Batch service that validates every request body."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from azure.batch import BatchClient
from tests.core.batch_service import FakeBatchService, FakeCredential, NodeResult

from azrender.batch.access import NodeAccess, planned_access
from azrender.batch.backend import AzureBatchBackend
from azrender.errors import JobError
from azrender.jobs import JobRequest, build_job
from azrender.model import FrameRange, JobSpec
from azrender.presets import Preset, parse_preset
from azrender_blender.adapter import BlenderAdapter

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
PRESET = """name = "show"
[storage]
account_url = "https://showrender.blob.core.windows.net"
[backend]
kind = "azure"
[batch]
account_url = "https://showrender.westeurope.batch.azure.com"
"""


def make_job(frames: str = "1-4", chunk: int = 1, job_id: str = "shot-1") -> JobSpec:
    request = JobRequest(scene=Path("/show/shot.blend"), app="blender", frames=FrameRange.parse(frames),
                         chunk_size=chunk, assets_container="assets", outputs_container="outputs")
    return build_job(request, BlenderAdapter(), job_id)


def fake_mint(preset: Preset, *, now: datetime, environ: object = None) -> NodeAccess:
    # The real minting is tested against Azurite; here a fixed, recognisable secret.
    access = planned_access(preset, now=now)
    return NodeAccess("sas", access.account_url, access.assets_url.replace("sig=***", "sig=SECRETSIG"),
                      access.outputs_url.replace("sig=***", "sig=SECRETSIG"), access.expiry)


def backend(service: FakeBatchService, preset_text: str = PRESET) -> AzureBatchBackend:
    preset = parse_preset(preset_text, Path("show.toml"))
    client = BatchClient("https://showrender.westeurope.batch.azure.com", FakeCredential(), transport=service)
    return AzureBatchBackend(preset, client=client, environ={}, mint=fake_mint, poll_seconds=0,
                             sleep=lambda s: None, clock=lambda: NOW)


def test_submit_creates_pool_job_tasks_and_waits_to_the_end() -> None:
    service = FakeBatchService()
    status = backend(service).submit(make_job(), wait=True)
    assert service.invalid == []
    assert status.state == "completed" and status.counts["succeeded"] == 4
    assert [t.frames for t in status.tasks] == [[1], [2], [3], [4]]
    methods = [(m, p) for m, p, _ in service.requests[:4]]
    assert methods == [("HEAD", "/pools/azrender"), ("POST", "/pools"), ("POST", "/jobs"),
                       ("POST", "/jobs/shot-1/addtaskcollection")]
    job = service.jobs["shot-1"]["body"]
    assert job["onAllTasksComplete"] == "terminatejob"  # switched after the tasks were added
    assert job["jobPreparationTask"]["waitForSuccess"] is True
    assert "frames-001/stderr.txt" in " ".join(service.uploaded)


def test_tasks_go_in_collections_of_at_most_100_and_busy_ones_are_resent() -> None:
    service = FakeBatchService()
    service.collection_server_errors = {"frames-150": 1, "frames-007": 2}
    backend(service).submit(make_job("1-250"), wait=False)
    sizes = [len(b["value"]) for m, p, b in service.requests if p.endswith("addtaskcollection")]
    # frames-007 is busy twice, frames-150 once: each is sent again alone, in its own batch
    assert sizes == [100, 1, 1, 100, 1, 50]
    assert len(service.jobs["shot-1"]["tasks"]) == 250
    assert service.invalid == []


def test_throttling_is_retried() -> None:
    service = FakeBatchService()
    service.throttle = {"create_job": [429, 503], "create_task_collection": [429], "list_tasks": [503]}
    status = backend(service).submit(make_job("1-2"), wait=True)
    assert status.counts["succeeded"] == 2
    assert sum(1 for m, p, _ in service.requests if (m, p) == ("POST", "/jobs")) == 3


def test_resubmitting_a_job_id_is_refused_clearly() -> None:
    service = FakeBatchService()
    runner = backend(service)
    runner.submit(make_job(), wait=False)
    with pytest.raises(JobError) as info:
        runner.submit(make_job(), wait=False)
    assert "'shot-1' already exists" in str(info.value) and "status shot-1" in str(info.value)


def test_failed_task_reports_exit_code_and_stderr_tail_without_secrets() -> None:
    def node(task: dict[str, object]) -> NodeResult:
        if task["id"] == "frames-002":
            return NodeResult(exit_code=3, stderr="loading\nError: cannot read texture\n?sig=LEAK")
        return NodeResult(files={"out/shot_0001.png": b"png"})

    service = FakeBatchService(node)
    status = backend(service).submit(make_job("1-2"), wait=True)
    failed = [t for t in status.tasks if t.result == "failure"]
    assert [t.task_id for t in failed] == ["frames-002"] and failed[0].exit_code == 3
    assert "cannot read texture" in (failed[0].failure or "")
    assert "LEAK" not in (failed[0].failure or "")


def test_preempted_task_is_requeued_and_still_completes() -> None:
    service = FakeBatchService()
    service.preempt = {"frames-001"}
    status = backend(service).submit(make_job("1-2"), wait=True)
    assert status.counts["succeeded"] == 2
    assert service.jobs["shot-1"]["tasks"]["frames-001"]["preempted"] is True


def test_cancel_terminates_and_unstarted_tasks_are_reported() -> None:
    service = FakeBatchService()
    runner = backend(service)
    runner.submit(make_job("1-3"), wait=False)
    status = runner.cancel("shot-1")
    assert status.state == "completed" and status.counts["failed"] == 3
    assert ("POST", "/jobs/shot-1/terminate") in [(m, p) for m, p, _ in service.requests]
    assert service.invalid == []


def test_status_of_unknown_job_and_existing_pool_mode() -> None:
    service = FakeBatchService()
    with pytest.raises(JobError, match="no job 'nope'"):
        backend(service).status("nope")
    with pytest.raises(JobError, match="pool 'azrender' does not exist"):
        backend(service, PRESET + 'pool_mode = "existing"\n').submit(make_job(), wait=False)
    assert "shot-1" not in service.jobs


def test_auto_pool_needs_no_pool_and_jobs_lists_ours() -> None:
    service = FakeBatchService()
    runner = backend(service, PRESET + 'pool_mode = "auto"\n')
    runner.submit(make_job(), wait=False)
    assert not service.pools
    spec = service.jobs["shot-1"]["body"]["poolInfo"]["autoPoolSpecification"]
    assert spec["poolLifetimeOption"] == "job" and spec["pool"]["vmSize"] == "Standard_D4s_v5"
    assert [j.job_id for j in runner.jobs()] == ["shot-1"]
