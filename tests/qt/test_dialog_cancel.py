"""Cancel and close during a submit, and the question before submitting with missing files.

Real parts: a .blend saved by bpy that needs a 160 MB file, Azurite, the local
backend. The upload is stopped between blocks; nothing is submitted after a
Cancel, and closing the dialog mid-upload hides it at once instead of holding
the application until the upload ends.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from azure.storage.blob import ContainerClient
from pytestqt.qtbot import QtBot

from azrender.local.state import jobs_dir
from azrender.model import Asset, AssetKind, AssetSet
from azrender.qt import FileSession, SceneInfo, SubmitDialog

pytestmark = [pytest.mark.azurite, pytest.mark.bpy]

PRESET = """\
name = "cancel-test"
[storage]
assets_container = "qt-cancel-assets"
outputs_container = "qt-cancel-outputs"
[backend]
kind = "local"
"""

MAKE_SCENE = r"""
import sys, bpy
scene_path, texture = sys.argv[-2:]
image = bpy.data.images.new("plate", 4, 4)
image.source = "FILE"
image.filepath = texture
image.use_fake_user = True
bpy.ops.wm.save_as_mainfile(filepath=scene_path)
"""


@pytest.fixture(scope="module")
def heavy_scene(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("heavy")
    texture = root / "plate.exr"
    with open(texture, "wb") as f:  # incompressible enough that every block is real work
        for n in range(160):
            f.write(bytes([n % 251]) * (1 << 20))
    scene = root / "heavy.blend"
    subprocess.run([sys.executable, "-c", MAKE_SCENE, str(scene), str(texture)], check=True,
                   capture_output=True, timeout=120)
    return scene


@pytest.fixture
def preset(tmp_path: Path, storage_env: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZRENDER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AZRENDER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path))  # the recent-presets list goes to this user's settings
    path = tmp_path / "cancel.toml"
    path.write_text(PRESET)
    return path


def start_upload(qtbot: QtBot, dialog: SubmitDialog) -> None:
    dialog.submit_button.click()
    assert dialog.cancel_button.isEnabled()
    # Bounded: the upload of 160 MB has begun once the bar has moved.
    qtbot.waitUntil(lambda: dialog.progress_bar.value() > 0, timeout=60_000)
    # The bar says the numbers, not only a length: e.g. "upload: 8.0 MB of 160.0 MB (5%), ...".
    assert re.match(r"upload: [\d.]+ [KMG]?B of 16\d\.\d MB \(\d+%\), [\d.]+ [KMG]?B/s", dialog.progress_bar.format())


def submitted_jobs() -> list[Path]:
    return sorted(jobs_dir().glob("*.json")) if jobs_dir().is_dir() else []


def committed_blobs(connection_string: str) -> list[str]:
    container = ContainerClient.from_connection_string(connection_string, "qt-cancel-assets")
    return [b.name for b in container.list_blobs()] if container.exists() else []


def test_cancel_stops_the_upload_and_submits_nothing(
    qtbot: QtBot, heavy_scene: Path, preset: Path, storage_env: str
) -> None:
    dialog = SubmitDialog(FileSession(heavy_scene, start=1, end=2), preset=preset)
    qtbot.addWidget(dialog)
    start_upload(qtbot, dialog)
    with qtbot.waitSignal(dialog.cancel_button.clicked, timeout=1000):
        dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.submit_button.isEnabled(), timeout=30_000)
    assert "cancelled: nothing was submitted" in dialog.status_label.text()
    assert dialog.submission is None and submitted_jobs() == []
    assert not dialog.cancel_button.isEnabled() and dialog.progress_bar.format() == ""
    # Stopped between blocks: the 160 MB file was never committed under its name.
    assert not [b for b in committed_blobs(storage_env) if b.endswith("plate.exr")]


def test_closing_mid_upload_asks_then_hides_at_once_and_submits_nothing(
    qtbot: QtBot, heavy_scene: Path, preset: Path
) -> None:
    dialog = SubmitDialog(FileSession(heavy_scene, start=1, end=2), preset=preset)
    qtbot.addWidget(dialog)
    dialog.show()
    asked: list[str] = []
    answers = iter([False, True])  # first "keep it open", then "cancel and close"
    dialog.confirm = lambda title, question: (asked.append(title), next(answers))[1]  # type: ignore[method-assign]
    start_upload(qtbot, dialog)

    dialog.close()
    assert asked == ["Upload running"] and dialog.isVisible()  # kept open: the upload goes on

    begun = time.monotonic()
    dialog.close()
    assert time.monotonic() - begun < 1.0  # the application is not held while the upload stops
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: dialog._submit_task is None, timeout=30_000)
    assert dialog.submission is None and submitted_jobs() == []


def test_missing_files_are_confirmed_before_anything_starts(
    qtbot: QtBot, tmp_path: Path, preset: Path
) -> None:
    scene = tmp_path / "shot.blend"
    scene.write_bytes(b"")
    assets = AssetSet(scene=scene, app="blender")
    assets.add(Asset.from_disk(tmp_path / "gone.exr", AssetKind.TEXTURE, "Image 'gone'"))

    class Session(FileSession):
        def dependencies(self) -> AssetSet | None:
            return assets

        def scene_info(self) -> SceneInfo:
            return SceneInfo(scene=scene, app="blender", start=1, end=1, step=1)

    dialog = SubmitDialog(Session(scene), preset=preset)
    qtbot.addWidget(dialog)
    dialog.check_dependencies()
    assert dialog.pool.waitForDone(30_000)  # the check's dry run (for the findings) is done
    asked: list[str] = []
    dialog.confirm = lambda title, question: (asked.append(question), False)[1]  # type: ignore[method-assign]
    dialog.submit_button.click()
    assert len(asked) == 1 and "1 file(s) the scene needs are missing" in asked[0]
    assert str(tmp_path / "gone.exr") in asked[0]
    assert "not submitted: 1 file(s) missing" in dialog.status_label.text()
    assert dialog.pool.activeThreadCount() == 0 and dialog.submission is None
