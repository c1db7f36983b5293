"""The shared submit dialog, offscreen, over a 3ds Max session answering from a real .max."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

# Before pytest-qt creates the QApplication (at the first `qtbot`), as tests/qt/conftest.py does.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from fake_pymxs import FakeNode, SceneFileRuntime

# Imported here, not first on the monitor's worker thread: PySide6's import hook is not
# safe to run there while the UI thread processes events (it crashed the interpreter).
import azrender.local.backend  # noqa: F401
from azrender_max.scan import scan_max
from azrender_max.ui import macro

SMILING = "BabylonJS__Exporters/3ds Max/Samples/sourceModels/SmilingFace/SmilingFace.max"


def test_dialog_over_max_session_lists_the_real_scenes_missing_textures(
    qtbot: QtBot, real_fixtures: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scene = real_fixtures / SMILING
    rt = SceneFileRuntime(scene)
    rt.rendTimeType, rt.rendStart, rt.rendEnd, rt.rendNThFrame = 3, 1, 10, 3
    rt.viewport.camera = FakeNode("Cam Face")
    preset = tmp_path / "show.toml"
    preset.write_text('name = "max"\n[backend]\nkind = "local"\n[render]\nchunk = 2\n')
    monkeypatch.setenv("AZRENDER_PRESET", str(preset))
    dialog = macro.open_dialog(rt=rt)
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and dialog.preset_edit.text() == str(preset)
    assert "SmilingFace.max" in dialog.scene_label.text() and "(max)" in dialog.scene_label.text()
    assert (dialog.start_spin.value(), dialog.end_spin.value(), dialog.step_spin.value()) == (1, 10, 3)
    assert dialog.frames().frames == (1, 4, 7, 10)
    assert dialog.renderer_label.text() == "Scanline Renderer, 640x480"
    assert dialog.selected_camera() == "Cam Face"
    assert dialog.warning_label.text() == ""

    with qtbot.waitSignal(dialog.checked, timeout=10_000):
        dialog.check_button.click()
    expected = sorted(str(a.path) for a in scan_max(scene).missing)
    assert len(expected) == 2 and all(p.endswith(".jpg") and p[1:3] == ":\\" for p in expected)
    assert sorted(dialog.missing_files()) == expected
    # Missing first, in the table, counted in the summary line.
    assert sorted(dialog.assets_table.item(r, 0).text() for r in range(2)) == expected
    assert all(dialog.assets_table.item(r, 2).text() == "missing" for r in range(2))
    assert dialog.assets_table.rowCount() == len(scan_max(scene).assets)
    assert "2 missing" in dialog.assets_label.text()

    # Reopening replaces the dialog instead of stacking a second one.
    again = macro.open_dialog(rt=rt, tab="jobs")
    qtbot.addWidget(again)
    assert macro._dialogs == [again] and not dialog.isVisible()
    assert again.tabs.currentWidget() is again.monitor
    again.monitor.timer.stop()
    again.pool.waitForDone(10_000)


def test_unsaved_scene_disables_submit(qtbot: QtBot, real_fixtures: Path) -> None:
    rt = SceneFileRuntime(real_fixtures / SMILING)
    rt.maxFileName = ""
    dialog = macro.open_dialog(rt=rt)
    qtbot.addWidget(dialog)
    assert not dialog.submit_button.isEnabled()
    assert "never been saved" in dialog.status_label.text()
