"""Cancel from the Blender panel, in its bpy-free flows, against the real core and the local node.

The demo shot is scanned and uploaded to the session's Azurite. Cancel is
pressed at two moments: as the upload starts (it stops at its next progress
report, nothing is submitted) and as it ends (the last check before the backend
submit holds the job back). Cancel while the job renders is pressed in real
Blender (test_ui_cancel_retry.py).
"""

from __future__ import annotations

import queue
import shutil
import threading
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient

from azrender.errors import Cancelled
from azrender.local.state import JobStore
from azrender.model import FrameRange
from azrender.presets import Preset, parse_preset
from azrender_blender.ui import flows
from azrender_blender.ui.work import QueueProgress, Reporter

pytestmark = [pytest.mark.azurite, pytest.mark.bpy]

PRESET = ('name = "cancel"\n[storage]\nassets_container = "{assets}"\noutputs_container = "cancel-outputs"\n'
          '[backend]\nkind = "local"\nslots = 1\n')


@pytest.fixture
def shot(demo_scene_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, dest)
    return dest / "shot010.blend"


def preset_for(assets: str) -> Preset:
    return parse_preset(PRESET.format(assets=assets), Path("cancel.toml"))


class PressCancel(Reporter):
    """A reporter whose Cancel is pressed when the upload begins or ends (as the button does)."""

    def __init__(self, when: str) -> None:
        self.pressed = threading.Event()
        super().__init__("k", queue.Queue(), threading.Event(), self.pressed)
        self.when = when

    def progress(self) -> QueueProgress:
        reporter = self

        class Pressing(QueueProgress):
            step = ""

            def begin(self, label: str, total: float | None, unit: str = "B") -> None:
                super().begin(label, total, unit)
                self.step = label
                if label == "upload" and reporter.when == "upload-begins":
                    reporter.pressed.set()

            def end(self) -> None:
                super().end()
                if self.step == "upload" and reporter.when == "upload-ends":
                    reporter.pressed.set()

        return Pressing(self)


def request_for(shot: Path, preset: Preset, tmp_path: Path, frames: str = "1-2") -> flows.SubmitRequest:
    return flows.SubmitRequest(scene=shot, preset=preset, frames=FrameRange.parse(frames), chunk=1,
                               backend="local", output_dir=tmp_path / "frames", poll_seconds=0.2)


@pytest.mark.parametrize("when", ["upload-begins", "upload-ends"])
def test_cancel_during_the_upload_submits_nothing(
    shot: Path, storage_env: str, tmp_path: Path, when: str
) -> None:
    assets = f"cancel-{when}"
    reporter = PressCancel(when)
    with pytest.raises(Cancelled) as info:
        flows.submit_and_follow(request_for(shot, preset_for(assets), tmp_path), reporter)
    assert JobStore().all() == []  # no job reached the backend
    job_files = [b.name for b in ContainerClient.from_connection_string(storage_env, assets).list_blobs("jobs/")]
    if when == "upload-begins":
        # Stopped inside the upload: the job's manifest (written after it) never was.
        assert str(info.value).startswith("cancelled: nothing was submitted")
        assert job_files == []
    else:
        # Too late to stop the upload; the last check before the backend submit held the job back.
        assert "was not submitted" in str(info.value)
        assert any(name.endswith("/manifest.json") for name in job_files)
