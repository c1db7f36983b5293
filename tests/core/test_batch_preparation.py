"""A failed job preparation task is the reason the job's tasks give, through the fake service."""

from __future__ import annotations

from tests.core.batch_service import FakeBatchService, NodeResult
from tests.core.test_batch_backend import backend, make_job

SAS = "https://showrender.blob.core.windows.net/assets?sv=2025-01-05&sp=rl&sig=LEAKEDSIG"


def failing_prep(task: dict[str, object]) -> NodeResult:
    lines = [f"line {i}" for i in range(10)]
    return NodeResult(exit_code=7, stderr="\n".join([*lines, f"azrender: cannot read {SAS}", "sync failed"]))


def test_failed_preparation_is_the_reason_tasks_wait_and_then_did_not_run() -> None:
    service = FakeBatchService(prepare=failing_prep)
    runner = backend(service)
    runner.submit(make_job("1-2"), wait=False)
    status = runner.status("shot-1")
    status = runner.status("shot-1")  # time passes: the preparation task has run and failed
    assert service.invalid == []
    assert [t.state for t in status.tasks] == ["active", "active"]  # never started on that node
    reason = status.tasks[0].failure or ""
    assert reason.startswith("waiting: preparation task failed on node tvm-1: exit code 7; stderr: ")
    assert reason.endswith("sync failed") and "line 9" in reason and "line 8" not in reason  # the tail
    assert "LEAKEDSIG" not in reason and "sig=***" in reason
    asked = [p for m, p, _ in service.requests if m == "GET"]
    assert "/jobs/shot-1/jobpreparationandreleasetaskstatus" in asked
    assert any(p.startswith("/pools/azrender/nodes/tvm-1/files/") for p in asked)
    ended = runner.cancel("shot-1")
    assert all(t.result == "failure" for t in ended.tasks)
    assert ended.tasks[1].failure == "not run: " + reason.removeprefix("waiting: ")
    assert status.to_json()["tasks"][0]["failure"] == reason  # what `azrender status --json` shows


def test_successful_preparation_reports_nothing() -> None:
    service = FakeBatchService(prepare=lambda task: NodeResult(stderr="warning: slow disk"))
    runner = backend(service)
    status = runner.submit(make_job("1-2"), wait=True)
    assert status.counts["succeeded"] == 2 and all(t.failure is None for t in status.tasks)
    assert service.invalid == []
