"""The Jobs tab says why tasks failed, and opens the failed task's downloaded log.

The job is a real one that failed on the emulated node (a shell that cannot
find the renderer), read back through the local backend as the monitor does.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from azrender.local.executor import LocalExecutor
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore, jobs_dir
from azrender.model import FrameRange, JobSpec, TaskSpec
from azrender.presets import load_preset
from azrender.qt.binding import QtCore, QtGui
from azrender.qt.monitor import JobMonitor, task_log


@pytest.fixture
def failed_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AZRENDER_DATA_DIR", str(tmp_path / "data"))
    ok = f"{shlex.quote(sys.executable)} -c pass"
    job = JobSpec(job_id="shot-why", app="maya", scene=Path("/s/shot.ma"), frames=FrameRange.parse("1-3"),
                  chunk_size=1, assets_container="a", outputs_container="o",
                  tasks=[TaskSpec("frames-001", ok, frames=(1,)),
                         TaskSpec("frames-002", "/bin/bash -c 'Render -r arnold /s/shot.ma'", frames=(2,)),
                         TaskSpec("frames-003", "/bin/bash -c 'Render -r arnold /s/shot.ma'", frames=(3,))])
    LocalExecutor(NodeLayout(tmp_path / "node"), JobStore(jobs_dir()), lambda items: None).run(
        JobRecord.new(job))
    return job.job_id


def monitor_for(qtbot: QtBot, tmp_path: Path) -> JobMonitor:
    preset_file = tmp_path / "show.toml"
    preset_file.write_text('name = "show"\n[backend]\nkind = "local"\n')
    preset = load_preset(preset_file)
    monitor = JobMonitor(lambda: (preset, None), QtCore.QThreadPool.globalInstance())
    qtbot.addWidget(monitor)
    with qtbot.waitSignal(monitor.refreshed, timeout=30_000):
        monitor.refresh()
    return monitor


def test_the_jobs_tab_shows_each_failure_reason(qtbot: QtBot, tmp_path: Path, failed_job: str) -> None:
    monitor = monitor_for(qtbot, tmp_path)
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
    monitor = monitor_for(qtbot, tmp_path)
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
