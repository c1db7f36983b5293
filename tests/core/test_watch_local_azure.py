"""The Azure backend against the fake Batch service: a watcher exit (64/65) reads as its reason,
and its exit condition ends the job so the waiting tasks do not fail one after another."""

from __future__ import annotations

from typing import Any

from tests.core.batch_service import FakeBatchService, NodeResult
from tests.core.test_batch_backend import backend, make_job

from azrender.node.watch import EXIT_LICENCE, EXIT_PLUGIN

REASON = "azrender: licence failure (arnold): 00:00:02 [clm.v2] rendering with watermarks"


def test_licence_exit_reads_as_the_watchers_reason_and_ends_the_job() -> None:
    def node(task: dict[str, Any]) -> NodeResult:
        if task["id"] == "frames-001":
            return NodeResult(exit_code=EXIT_LICENCE, stderr=f"[clm.v2] rendering with watermarks\n{REASON}\n")
        return NodeResult()

    service = FakeBatchService(node)
    status = backend(service).submit(make_job("1-4"), wait=True)
    assert service.invalid == []  # exitConditions and onTaskFailure pass the SDK's request models
    first = status.tasks[0]
    assert first.exit_code == EXIT_LICENCE and first.result == "failure"
    assert first.failure == REASON.removeprefix("azrender: ")
    assert status.state == "completed"
    # The job was ended at once: the other three never rendered, none failed on its own.
    others = [t.failure for t in status.tasks[1:]]
    assert others == ["not run: the job ended (cancelled or past its time limit)"] * 3
    task_body = service.jobs["shot-1"]["tasks"]["frames-001"]["body"]
    assert task_body["exitConditions"] == {
        "exitCodes": [{"code": EXIT_LICENCE, "exitOptions": {"jobAction": "terminate"}},
                      {"code": EXIT_PLUGIN, "exitOptions": {"jobAction": "terminate"}}],
        "default": {"jobAction": "none"},
    }


def test_an_ordinary_failure_does_not_end_the_job_and_a_lost_log_still_names_the_code() -> None:
    def node(task: dict[str, Any]) -> NodeResult:
        codes = {"frames-001": 3, "frames-002": EXIT_PLUGIN}
        return NodeResult(exit_code=codes.get(task["id"], 0), stderr="")

    service = FakeBatchService(node)
    status = backend(service).submit(make_job("1-3"), wait=True)
    by_id = {t.task_id: t for t in status.tasks}
    assert by_id["frames-001"].failure is not None and "exit code" in by_id["frames-001"].failure
    # No "azrender:" line in the log: the code's meaning.
    assert by_id["frames-002"].failure == f"missing plug-in (exit code {EXIT_PLUGIN})"
