"""The dialog's camera and layer choice reaches the job as RenderOptions (offscreen, real Maya scene file)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from azrender.errors import AzrenderError
from azrender.model import AssetSet, RenderOptions
from azrender.qt import FileSession, SceneInfo, SubmitDialog
from azrender.qt import dialog as dialog_module
from azrender.qt.binding import QtCore

PRESET = """\
name = "qt-render-options"

[storage]
mode = "blob-copy"

[backend]
kind = "local"

[render]
chunk = 2
format = "PNG"
"""

# Two cameras and a legacy plus a Render Setup layer (rs_fg is the node of the setup layer "fg").
MAYA_SCENE = """\
//Maya ASCII 2024 scene
requires maya "2024";
currentUnit -l centimeter -a degree -t film;
createNode transform -n "shotCam";
createNode camera -n "shotCamShape" -p "shotCam";
createNode transform -n "sideCam";
createNode camera -n "sideCamShape" -p "sideCam";
createNode renderLayer -n "defaultRenderLayer";
createNode renderSetupLayer -n "fg";
createNode renderLayer -n "rs_fg";
select -ne :defaultRenderGlobals;
\tsetAttr ".ren" -type "string" "mayaSoftware";
"""


class MayaLikeSession:
    """Reports cameras and renderable layers as Maya's session does; no dependency list (scan the file)."""

    app = "maya"

    def __init__(self, scene: Path) -> None:
        self.scene = scene

    def scene_info(self) -> SceneInfo:
        return SceneInfo(scene=self.scene, app=self.app, start=1, end=4, renderer="mayaSoftware",
                         cameras=("shotCamShape", "sideCamShape"), layers=("defaultRenderLayer", "fg"))

    def dependencies(self) -> AssetSet | None:
        return None


@pytest.fixture
def scene(tmp_path: Path) -> Path:
    path = tmp_path / "shot.ma"
    path.write_text(MAYA_SCENE)
    return path


@pytest.fixture
def preset(tmp_path: Path) -> Path:
    path = tmp_path / "show.toml"
    path.write_text(PRESET)
    return path


def choose(dialog: SubmitDialog, camera: str, untick: str) -> None:
    dialog.camera_combo.setCurrentText(camera)
    for i in range(dialog.layers_list.count()):
        item = dialog.layers_list.item(i)
        if item.text() == untick:
            item.setCheckState(QtCore.Qt.CheckState.Unchecked)


def test_check_plans_the_job_with_the_chosen_camera_and_layers(
    qtbot: QtBot, scene: Path, preset: Path
) -> None:
    dialog = SubmitDialog(MayaLikeSession(scene), preset=preset)
    qtbot.addWidget(dialog)
    choose(dialog, "sideCamShape", untick="defaultRenderLayer")
    dialog.chunk_spin.setValue(2)
    assert dialog.render_options() == RenderOptions(camera="sideCamShape", layers=("fg",))

    # The check is a real dry run of submit_scene: the planned job carries the choice...
    with qtbot.waitSignal(dialog.checked, timeout=20_000):
        dialog.check_button.click()
    planned = dialog.planned
    assert planned is not None
    assert planned.job.render == RenderOptions(camera="sideCamShape", layers=("fg",))
    # ...and Maya's Render gets it: the camera, and the setup layer as its rs_ node.
    lines = [t.command_line for t in planned.job.tasks]
    assert len(lines) == 2
    for line in lines:  # python3 -m azrender.node run -- /bin/bash -c '<Render words>'
        words = shlex.split(shlex.split(line)[-1])
        assert words[words.index("-cam") + 1] == "sideCamShape" and words[words.index("-rl") + 1] == "rs_fg"
    assert not any("defaultRenderLayer" in line for line in lines)


def capture_submits(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the dialog's submit_scene with one that records its arguments and stops there."""
    calls: list[dict[str, Any]] = []

    def capture(*args: Any, **kwargs: Any) -> None:
        calls.append({"args": args, **kwargs})
        raise AzrenderError("captured")

    monkeypatch.setattr(dialog_module, "submit_scene", capture)
    return calls


def test_submit_passes_the_choice_to_submit_scene(
    qtbot: QtBot, scene: Path, preset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = capture_submits(monkeypatch)
    dialog = SubmitDialog(MayaLikeSession(scene), preset=preset)
    qtbot.addWidget(dialog)
    choose(dialog, "shotCamShape", untick="fg")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: "captured" in dialog.status_label.text(), timeout=10_000)
    assert len(calls) == 1
    assert calls[0]["args"][0] == scene and calls[0]["args"][2].frames == (1, 2, 3, 4)
    assert calls[0]["render"] == RenderOptions(camera="shotCamShape", layers=("defaultRenderLayer",))


def test_a_scene_without_cameras_or_layers_renders_as_saved(
    qtbot: QtBot, tmp_path: Path, preset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = capture_submits(monkeypatch)
    scene = tmp_path / "shot.blend"
    scene.write_bytes(b"")
    dialog = SubmitDialog(FileSession(scene, start=1, end=2), preset=preset)
    qtbot.addWidget(dialog)
    assert dialog.camera_combo.currentText() == "as saved in the scene"
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=10_000)
    assert calls[0]["render"] == RenderOptions()  # no camera, no layers: the scene's own


def test_no_layer_ticked_is_one_line_and_nothing_starts(
    qtbot: QtBot, scene: Path, preset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = capture_submits(monkeypatch)
    dialog = SubmitDialog(MayaLikeSession(scene), preset=preset)
    qtbot.addWidget(dialog)
    choose(dialog, "shotCamShape", untick="fg")
    choose(dialog, "shotCamShape", untick="defaultRenderLayer")
    dialog.submit_button.click()
    text = dialog.status_label.text()
    assert "no render layer ticked" in text and "\n" not in text
    assert dialog.pool.activeThreadCount() == 0 and calls == []
