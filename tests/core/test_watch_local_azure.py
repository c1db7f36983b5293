"""The Azure backend against the fake Batch service: a watcher exit (64/65/66) reads as its reason;
65/66 end the job so the waiting tasks do not fail one after another, a shortage (64) does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.core.batch_service import FakeBatchService, NodeResult
from tests.core.test_batch_backend import backend, make_job

from azrender.node.contract import EXIT_LICENCE, EXIT_LICENCE_UNAVAILABLE, EXIT_PLUGIN

REASON = "azrender: licence unavailable (flexnet): Licensing error: Cannot connect to license server system."
SHORT = "azrender: licence failure (flexnet): Licensed number of users already reached."


def one_task_fails(task_id: str, exit_code: int, stderr: str) -> Callable[[dict[str, Any]], NodeResult]:
    """A node on which ``task_id`` exits with ``exit_code`` and every other task renders."""
    return lambda task: NodeResult(exit_code=exit_code, stderr=stderr) if task["id"] == task_id else NodeResult()


def test_an_unreachable_licence_server_reads_as_the_watchers_reason_and_ends_the_job() -> None:
    service = FakeBatchService(one_task_fails("frames-001", EXIT_LICENCE_UNAVAILABLE, f"Licensing error\n{REASON}\n"))
    status = backend(service).submit(make_job("1-4"), wait=True)
    assert service.invalid == []  # exitConditions and onTaskFailure pass the SDK's request models
    first = status.tasks[0]
    assert first.exit_code == EXIT_LICENCE_UNAVAILABLE and first.result == "failure"
    assert first.failure == REASON.removeprefix("azrender: ")
    assert status.state == "completed"
    # The job was ended at once: the other three never rendered, none failed on its own.
    others = [t.failure for t in status.tasks[1:]]
    assert others == ["not run: the job ended (cancelled or past its time limit)"] * 3
    task_body = service.jobs["shot-1"]["tasks"]["frames-001"]["body"]
    assert task_body["exitConditions"] == {
        "exitCodes": [{"code": EXIT_PLUGIN, "exitOptions": {"jobAction": "terminate"}},
                      {"code": EXIT_LICENCE_UNAVAILABLE, "exitOptions": {"jobAction": "terminate"}}],
        "default": {"jobAction": "none"},
    }


def test_a_licence_shortage_fails_only_its_own_task_and_the_others_render() -> None:
    service = FakeBatchService(one_task_fails("frames-002", EXIT_LICENCE, f"{SHORT}\n"))
    status = backend(service).submit(make_job("1-4"), wait=True)
    by_id = {t.task_id: t for t in status.tasks}
    assert by_id["frames-002"].failure == SHORT.removeprefix("azrender: ")
    assert [by_id[t].result for t in ("frames-001", "frames-003", "frames-004")] == ["success"] * 3


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
