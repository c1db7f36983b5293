"""The Jobs tab's Retry: the selected job's failed task renders again on the local node.

The task fails until a marker file exists (as a render fails while a licence
server is down); Retry requeues it through the real local backend, whose
detached worker runs it again, and the list follows it to success.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from monitor_helpers import local_monitor, run_local_job
from pytestqt.qtbot import QtBot

from azrender.backends import Retried
from azrender.model import JobStatus, TaskSpec

pytestmark = pytest.mark.azurite


@pytest.fixture
def failed_once(tmp_path: Path, storage_env: str) -> str:
    marker = tmp_path / "licence-back"
    code = ("import pathlib, sys; "
            f"m = pathlib.Path({str(marker)!r}); back = m.exists(); m.touch(); "
            "sys.exit(0 if back else 'Error: licence server did not answer')")
    flaky = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    return run_local_job("shot-retry", [TaskSpec("frames-001", flaky, frames=(1,), max_retries=0)])


def test_retry_button_requeues_the_failed_task_and_follows_it(
    qtbot: QtBot, tmp_path: Path, failed_once: str
) -> None:
    monitor = local_monitor(qtbot, tmp_path)
    assert monitor.table.item(0, 1).text() == "failed"

    with qtbot.waitSignal(monitor.retried, timeout=30_000) as retried:
        monitor.retry_button.click()
    assert isinstance(retried.args[0], Retried) and retried.args[0].tasks == ["frames-001"]
    assert monitor.status.text() == "job shot-retry: 1 failed task(s) requeued (frames-001)"

    def succeeded(jobs: list[JobStatus]) -> bool:
        return bool(jobs) and jobs[0].state == "completed" and jobs[0].counts["succeeded"] == 1

    # The monitor polls while the job is active; each refresh reports the list.
    for _ in range(60):  # bounded: at most 60 refreshes
        with qtbot.waitSignal(monitor.refreshed, timeout=30_000) as refreshed:
            pass
        if succeeded(refreshed.args[0]):
            break
    assert succeeded(monitor.jobs), monitor.jobs
    assert monitor.table.item(0, 1).text() == "succeeded" and monitor.table.item(0, 6).text() == ""


def test_retry_without_a_failed_job_says_so(qtbot: QtBot, tmp_path: Path) -> None:
    monitor = local_monitor(qtbot, tmp_path)
    monitor.retry_button.click()
    assert monitor.status.text() == "select a job with a failed task first"
