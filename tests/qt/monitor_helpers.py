"""What the Jobs-tab tests share: a job run for real on the emulated node, and a monitor on it."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from azrender.local.executor import LocalExecutor
from azrender.local.node import NodeLayout
from azrender.local.state import JobRecord, JobStore, jobs_dir, node_root
from azrender.model import FrameRange, JobSpec, TaskSpec
from azrender.presets import load_preset
from azrender.qt.binding import QtCore
from azrender.qt.monitor import JobMonitor


def run_local_job(job_id: str, tasks: list[TaskSpec], app: str = "blender") -> str:
    """Run ``tasks`` on the local node as one finished job in this test's data folder."""
    job = JobSpec(job_id=job_id, app=app, scene=Path(f"/s/shot.{app}"), frames=FrameRange.parse("1"),
                  chunk_size=1, assets_container="qt-assets", outputs_container="qt-outputs", tasks=tasks)
    LocalExecutor(NodeLayout(node_root()), JobStore(jobs_dir()), lambda items: None).run(JobRecord.new(job))
    return job_id


def local_monitor(qtbot: QtBot, tmp_path: Path) -> JobMonitor:
    """A Jobs tab on a local-backend preset, with its first refresh done."""
    preset_file = tmp_path / "show.toml"
    preset_file.write_text('name = "show"\n[backend]\nkind = "local"\n')
    preset = load_preset(preset_file)
    monitor = JobMonitor(lambda: (preset, None), QtCore.QThreadPool.globalInstance())
    qtbot.addWidget(monitor)
    with qtbot.waitSignal(monitor.refreshed, timeout=30_000):
        monitor.refresh()
    return monitor
