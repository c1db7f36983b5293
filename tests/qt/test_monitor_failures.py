"""The Jobs tab says why tasks failed, and opens the failed task's downloaded log.

The job is a real one that failed on the emulated node (a shell that cannot
find the renderer), read back through the local backend as the monitor does.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from monitor_helpers import local_monitor, run_local_job
from pytestqt.qtbot import QtBot

from azrender.model import TaskSpec
from azrender.qt.binding import QtGui
from azrender.qt.monitor import task_log


@pytest.fixture
def failed_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AZRENDER_DATA_DIR", str(tmp_path / "data"))
    ok = f"{shlex.quote(sys.executable)} -c pass"
    render = "/bin/bash -c 'Render -r arnold /s/shot.ma'"
    return run_local_job("shot-why", [TaskSpec("frames-001", ok, frames=(1,)),
                                      TaskSpec("frames-002", render, frames=(2,)),
                                      TaskSpec("frames-003", render, frames=(3,))], app="maya")


def test_the_jobs_tab_shows_each_failure_reason(qtbot: QtBot, tmp_path: Path, failed_job: str) -> None:
    monitor = local_monitor(qtbot, tmp_path)
    header = [monitor.table.horizontalHeaderItem(c).text() for c in range(monitor.table.columnCount())]
    why = monitor.table.item(0, header.index("Why"))
    assert why.text() == ("2 of 3 tasks failed; frames-002: exit code 127: "
                          "/bin/bash: line 1: Render: command not found")
    assert why.toolTip().splitlines() == [
        "frames-002: exit code 127: /bin/bash: line 1: Render: command not found",
        "frames-003: exit code 127: /bin/bash: line 1: Render: command not found",
    ]


def test_show_log_opens_the_downloaded_stderr(
    qtbot: QtBot, tmp_path: Path, failed_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    monitor = local_monitor(qtbot, tmp_path)
    dest = tmp_path / "downloads"
    monitor.dest_edit.setText(str(dest))

    assert monitor.show_log() is None  # not downloaded yet: says so, opens nothing
    assert "download the job first" in monitor.status.text() and opened == []

    # Where `azrender download` / the Download button puts the task's uploaded stderr.
    log = task_log(dest, failed_job, "frames-002")
    log.parent.mkdir(parents=True)
    log.write_text("/bin/bash: line 1: Render: command not found\n")
    monitor.log_button.click()
    assert opened == [str(log)]
    assert "frames-002: exit code 127" in monitor.status.text()
