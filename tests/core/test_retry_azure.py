"""`retry` on Azure, against the fake Batch service that validates every request.

An active job's failed task is reactivated in place (its node keeps its
preparation); a job that has ended, which Batch cannot reopen, has its failed
tasks run again as a new job built from the JobSpec the submit stored in the
session's Azurite.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from tests.core.batch_service import FakeBatchService, NodeResult
from tests.core.test_batch_backend import PRESET, backend, make_job

from azrender.errors import JobError
from azrender.model import job_from_json
from azrender.storage.client import container_client, ensure_container
from azrender.storage.jobspec import JOB_SPEC_NAME, job_spec_bytes, read_job_spec, write_job_spec
from azrender.storage.manifest import read_job, write_job


def flaky(fail_times: dict[str, int]) -> Any:
    """A node on which each named task fails that many times, then renders."""
    def node(task: dict[str, Any]) -> NodeResult:
        if fail_times.get(task["id"], 0) > 0:
            fail_times[task["id"]] -= 1
            return NodeResult(exit_code=2, stderr="Error: licence server did not answer\n")
        return NodeResult(files={"out/shot_0001.png": b"png"})
    return node


def test_a_failed_task_of_an_active_job_is_reactivated_in_place() -> None:
    service = FakeBatchService(flaky({"frames-002": 1}))
    service.preempt = {"frames-001"}  # keeps the job active after frames-002 has failed
    runner = backend(service)
    runner.submit(make_job("1-2"), wait=False)

    retried = runner.retry("shot-1")
    assert (retried.tasks, retried.rerun_job_id) == (["frames-002"], None)
    reactivations = [p for m, p, _ in service.requests if p.endswith("/reactivate")]
    assert reactivations == ["/jobs/shot-1/tasks/frames-002/reactivate"]
    status = runner.wait("shot-1")
    assert status.counts["succeeded"] == 2 and status.counts["failed"] == 0
    assert service.jobs["shot-1"]["tasks"]["frames-002"]["reactivated"] == 1
    assert len(service.jobs) == 1 and service.invalid == []


def test_an_ended_job_runs_its_failed_tasks_again_as_a_new_job_from_the_stored_spec(storage_env: str) -> None:
    service = FakeBatchService(flaky({"frames-002": 2, "frames-004": 1}))
    runner = backend(service)
    job = make_job("1-4")
    assets = container_client(runner.preset.storage.assets_container)
    ensure_container(assets)
    write_job(assets, job.job_id, {}, {})  # as submit_scene does: the manifest, then the spec
    write_job_spec(assets, job)
    assert read_job_spec(assets, job.job_id) == job
    assert JOB_SPEC_NAME not in read_job(assets, job.job_id).job_files  # no node downloads it

    first = runner.submit(job, wait=True)
    assert first.state == "completed" and first.counts["failed"] == 2
    with pytest.raises(HttpResponseError, match="completed state"):
        runner.client.reactivate_task("shot-1", "frames-002")  # what Batch says to an ended job

    retried = runner.retry("shot-1")
    assert retried.tasks == ["frames-002", "frames-004"] and retried.rerun_job_id == "shot-1-rerun1"
    assert "run again as job shot-1-rerun1" in retried.line()
    rerun = service.jobs["shot-1-rerun1"]
    assert sorted(rerun["tasks"]) == ["frames-002", "frames-004"]
    assert {"name": "azrender-rerun-of", "value": "shot-1"} in rerun["body"]["metadata"]
    sent = {t: rerun["tasks"][t]["body"] for t in rerun["tasks"]}
    original = {t.task_id: t for t in job.tasks}
    for task_id, body in sent.items():
        assert body["commandLine"] == original[task_id].command_line
        # The frames land where the first job's did: `azrender download shot-1` finds them all.
        assert body["outputFiles"][0]["destination"]["container"]["path"] == "shot-1/frames"
    assert rerun["body"]["jobPreparationTask"]["commandLine"] == job.preparation.command_line  # type: ignore[union-attr]

    second = runner.wait("shot-1-rerun1")
    assert second.counts["succeeded"] == 1 and [t.task_id for t in second.tasks if t.failure] == ["frames-002"]
    # A retry of the rerun job goes back to the first job's description, under the next id.
    again = runner.retry("shot-1-rerun1")
    assert (again.tasks, again.rerun_job_id) == (["frames-002"], "shot-1-rerun2")
    assert runner.wait("shot-1-rerun2").counts["succeeded"] == 1
    assert service.invalid == []

    with pytest.raises(JobError, match="no failed tasks to retry"):
        runner.retry("shot-1-rerun2")
    with pytest.raises(JobError, match="no job 'nope'"):
        runner.retry("nope")


def test_an_ended_job_without_a_stored_spec_is_refused_in_one_line(storage_env: str) -> None:
    service = FakeBatchService(flaky({"frames-001": 1}))
    runner = backend(service, PRESET)
    runner.submit(make_job("1", job_id="old-job"), wait=True)
    with pytest.raises(JobError) as info:
        runner.retry("old-job")
    assert "jobs/old-job/jobspec.json" in str(info.value) and "submit the scene again" in str(info.value)
    assert list(service.jobs) == ["old-job"]


def test_stored_spec_round_trips() -> None:
    job = make_job("1-3", chunk=2)
    assert job_from_json(json.loads(job_spec_bytes(job))) == job
