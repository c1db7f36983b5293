"""Drive the real submit dialog offscreen: a real Blender scene, Azurite, the local node, frames back."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from azrender.model import AssetSet
from azrender.qt import FileSession, SceneInfo, SubmitDialog
from azrender.qt.binding import QtCore
from azrender.qt.monitor import job_row
from azrender.submit import Submission

PRESET = """\
name = "qt-test"

[storage]
mode = "blob-copy"
assets_container = "qt-assets"
outputs_container = "qt-outputs"

[backend]
kind = "local"
slots = 2

[render]
chunk = 1
format = "PNG"
"""




@pytest.fixture
def preset(tmp_path: Path) -> Path:
    path = tmp_path / "show.toml"
    path.write_text(PRESET)
    return path


class FakeAppSession:
    """An application that reports settings and its own dependency list (as Maya's does)."""

    app = "maya"

    def __init__(self, scene: Path, assets: AssetSet | None) -> None:
        self.scene = scene
        self.assets = assets
        self.calls = 0

    def scene_info(self) -> SceneInfo:
        self.calls += 1
        return SceneInfo(scene=self.scene, app=self.app, start=5, end=20, step=5, renderer="arnold",
                         cameras=("shotCam", "persp"), layers=("masterLayer", "fg"),
                         resolution=(1920, 1080), modified=True)

    def dependencies(self) -> AssetSet | None:
        return self.assets


def test_dialog_shows_what_the_application_reports(qtbot: QtBot, tmp_path: Path, preset: Path) -> None:
    from azrender.model import Asset, AssetKind

    scene = tmp_path / "shot.ma"
    scene.write_text("//Maya ASCII 2024 scene\n")
    there = tmp_path / "tex.png"
    there.write_bytes(b"x" * 2048)
    assets = AssetSet(scene=scene, app="maya")
    assets.add(Asset.from_disk(scene, AssetKind.SCENE))
    assets.add(Asset.from_disk(there, AssetKind.TEXTURE, "file1.ftn"))
    assets.add(Asset.from_disk(tmp_path / "gone.exr", AssetKind.TEXTURE, "file2.ftn"))
    session = FakeAppSession(scene, assets)
    dialog = SubmitDialog(session, preset=preset)
    qtbot.addWidget(dialog)

    assert (dialog.start_spin.value(), dialog.end_spin.value(), dialog.step_spin.value()) == (5, 20, 5)
    assert dialog.frames().frames == (5, 10, 15, 20)
    assert "arnold" in dialog.renderer_label.text() and "1920x1080" in dialog.renderer_label.text()
    assert [dialog.camera_combo.itemText(i) for i in range(dialog.camera_combo.count())] == ["shotCam", "persp"]
    assert dialog.selected_layers() == ["masterLayer", "fg"]
    dialog.layers_list.item(1).setCheckState(QtCore.Qt.CheckState.Unchecked)
    assert dialog.selected_layers() == ["masterLayer"]
    assert "unsaved changes" in dialog.warning_label.text()

    # The application's own list is used as it is, missing files first and counted.
    with qtbot.waitSignal(dialog.checked, timeout=5000):
        dialog.check_button.click()
    assert dialog.missing_files() == [str(tmp_path / "gone.exr")]
    assert dialog.assets_table.rowCount() == 3
    assert dialog.assets_table.item(0, 0).text() == str(tmp_path / "gone.exr")
    assert dialog.assets_table.item(0, 2).text() == "missing"
    assert "1 missing" in dialog.assets_label.text()


def test_bad_input_is_one_line_and_nothing_starts(qtbot: QtBot, tmp_path: Path) -> None:
    scene = tmp_path / "a.blend"
    scene.write_bytes(b"")
    dialog = SubmitDialog(FileSession(scene, start=3, end=3))
    qtbot.addWidget(dialog)
    dialog.submit_button.click()
    assert "no preset chosen" in dialog.status_label.text()

    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[storage]\nacount_url = "https://a.blob.core.windows.net"\n')
    dialog.preset_edit.setText(str(bad))
    dialog.submit_button.click()
    text = dialog.status_label.text()
    assert "acount_url" in text and "\n" not in text

    good = tmp_path / "good.toml"
    good.write_text(PRESET)
    dialog.preset_edit.setText(str(good))
    dialog.end_spin.setValue(1)
    dialog.submit_button.click()
    assert "before the start frame" in dialog.status_label.text()
    assert dialog.pool.activeThreadCount() == 0 and dialog.submission is None


def test_scan_runs_off_the_ui_thread_and_lists_missing_files(qtbot: QtBot, real_fixtures: Path) -> None:
    scene = real_fixtures / "BabylonJS__Exporters/Maya/Samples/sourceModels/PBR_Textures/PBR_Textures.ma"
    from azrender_maya.scan import scan_maya

    expected = scan_maya(scene)
    dialog = SubmitDialog(FileSession(scene))
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.checked, timeout=30000) as blocker:
        dialog.check_button.click()
    found = blocker.args[0]
    assert isinstance(found, AssetSet)
    assert [str(a.path) for a in found.assets] == [str(a.path) for a in expected.assets]
    assert dialog.missing_files() == [str(a.path) for a in expected.missing]
    assert dialog.assets_table.rowCount() == len(expected.assets)


@pytest.mark.azurite
@pytest.mark.bpy
@pytest.mark.slow
def test_submit_through_the_dialog_renders_and_downloads(
    qtbot: QtBot, demo_scene: Path, preset: Path, storage_env: str, tmp_path: Path
) -> None:
    dialog = SubmitDialog(FileSession(demo_scene, app="blender", start=1, end=2), preset=preset)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog._preset_changed()
    assert dialog.chunk_spin.value() == 1

    with qtbot.waitSignal(dialog.submitted, timeout=120_000) as blocker:
        dialog.submit_button.click()
        # The UI thread stays free while the scan and upload run.
        assert not dialog.submit_button.isEnabled()
    submission = blocker.args[0]
    assert isinstance(submission, Submission)
    assert [t.frames for t in submission.job.tasks] == [(1,), (2,)]
    assert submission.upload is not None and submission.upload.uploaded_files >= 5
    assert dialog.missing_files() == []
    assert dialog.tabs.currentWidget() is dialog.monitor
    job_id = submission.job.job_id

    # The monitor polls until the job is done.
    def job_finished() -> None:
        rows = [job_row(s) for s in dialog.monitor.jobs if s.job_id == job_id]
        assert rows and rows[0][1] in ("succeeded", "failed")

    qtbot.waitUntil(job_finished, timeout=300_000)
    row = next(job_row(s) for s in dialog.monitor.jobs if s.job_id == job_id)
    assert row[1:5] == ("succeeded", "2", "0", "2"), row
    assert dialog.monitor.selected_job() == job_id

    dest = tmp_path / "downloads"
    dialog.monitor.dest_edit.setText(str(dest))
    with qtbot.waitSignal(dialog.monitor.downloaded, timeout=60_000) as done:
        dialog.monitor.download_button.click()
    assert done.args[0].downloaded_files >= 2
    assert dialog.monitor.status.text().endswith(f"already there — {dest / job_id}")
    frames = sorted(p.name for p in (dest / job_id / "frames").glob("*.png"))
    assert frames == ["shot010_0001.png", "shot010_0002.png"], frames
    for name in frames:
        assert (dest / job_id / "frames" / name).stat().st_size > 1000
    dialog.close()


def test_check_files_with_the_applications_own_list_also_shows_the_findings(
    qtbot: QtBot, real_fixtures: Path, preset: Path
) -> None:
    """Maya and 3ds Max give their own file list; the pre-flight findings still come with it."""
    from azrender.model import Asset, AssetKind

    scene = real_fixtures / "BabylonJS__Exporters/3ds Max/Samples/sourceModels/SmilingFace/SmilingFace.max"
    assets = AssetSet(scene=scene, app="max")
    assets.add(Asset.from_disk(scene, AssetKind.SCENE))

    class MaxLikeSession(FakeAppSession):
        app = "max"

        def scene_info(self) -> SceneInfo:
            return SceneInfo(scene=self.scene, app="max", start=1, end=10, step=1)

    dialog = SubmitDialog(MaxLikeSession(scene, assets), preset=preset)  # a local-backend preset
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.checked, timeout=5000):
        dialog.check_button.click()
    assert dialog.assets_table.rowCount() == 1  # the application's list, as it gave it
    # 3ds Max exists for Windows only: the local (Linux) node cannot render it, said before upload.
    qtbot.waitUntil(lambda: not dialog.findings_list.isHidden(), timeout=30_000)
    texts = [dialog.findings_list.item(i).text() for i in range(dialog.findings_list.count())]
    assert any(t.startswith("ERROR app-not-on-node-os") for t in texts), texts
    assert dialog.planned is not None and dialog.assets_table.rowCount() == 1
