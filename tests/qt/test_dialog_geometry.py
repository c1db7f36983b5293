"""The submit dialog fits the screen it opens on, at 100 % and 200 % scaling.

Each case is its own process with Qt's offscreen platform given a screen
(size and device pixel ratio) as a real display would report it: a 1920x1080
monitor at 100 %, the same at 200 % (960x540 device-independent pixels) and a
1366x768 laptop. The dialog opens on a scene with a very long path, as real
show folders are, and its files are listed; then every button must lie inside
the window and on the screen, and nothing may need horizontal scrolling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCREENS = {"1080p-100%": (1920, 1080, 1), "1080p-200%": (960, 540, 2), "laptop": (1366, 768, 1)}

DRIVER = r"""
import json, sys
from pathlib import Path
from azrender.qt.binding import QtWidgets
from azrender.qt.dialog import SubmitDialog
from azrender.qt.session import FileSession
from azrender.model import Asset, AssetKind, AssetSet

scene, shot = Path(sys.argv[1]), sys.argv[2]
app = QtWidgets.QApplication([])
dialog = SubmitDialog(FileSession(scene, app="maya", start=1, end=240), preset=None)
assets = AssetSet(scene=scene, app="maya")
for n in range(40):
    assets.add(Asset(scene.parent / ("textures/" + "very_long_folder_name/" * 6 + f"tex_{n:03d}.exr"),
                     AssetKind.TEXTURE, exists=n % 7 != 0, size=1024 * n, referrer=f"file{n}.ftn"))
dialog._show_assets(assets)
dialog.show()
for _ in range(5):
    app.processEvents()
room = dialog.screen().availableGeometry()
frame = dialog.frameGeometry()
buttons = []
for button in dialog.findChildren(QtWidgets.QAbstractButton):
    if not button.isVisibleTo(dialog) or dialog.tabs.currentWidget().isAncestorOf(button) is False:
        continue
    top_left = button.mapTo(dialog, button.rect().topLeft())
    buttons.append({"text": button.text(), "x": top_left.x(), "y": top_left.y(),
                    "w": button.width(), "h": button.height(),
                    "in_scroll": dialog.settings_area.isAncestorOf(button)})
body = dialog.settings_area.widget()
out = {
    "room": [room.x(), room.y(), room.width(), room.height()],
    "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
    "size": [dialog.width(), dialog.height()],
    "buttons": buttons,
    "body_min_width": body.minimumSizeHint().width(),
    "viewport_width": dialog.settings_area.viewport().width(),
    "hscroll": dialog.settings_area.horizontalScrollBar().maximum(),
    "scene_label_width": dialog.scene_label.sizeHint().width(),
    "scene_text": dialog.scene_label.text(),
}
dialog.grab().save(shot)
print("AZR-RESULT " + json.dumps(out))
"""


def run_case(tmp_path: Path, name: str) -> dict[str, object]:
    width, height, dpr = SCREENS[name]
    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({"screens": [{
        "name": name, "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": dpr}]}))
    deep = tmp_path.joinpath(*(["show_with_a_long_name", "sequence_010", "shot_0420", "lighting"] * 4))
    deep.mkdir(parents=True)
    scene = deep / "shot_0420_lighting_v012_final_for_real.ma"
    scene.write_text("//Maya ASCII 2025 scene\n")
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "AZRENDER_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)}
    env.pop("AZRENDER_PRESET", None)
    shot = tmp_path / f"{name}.png"
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(scene), str(shot)], capture_output=True,
                          text=True, timeout=120, check=False, env=env)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert proc.returncode == 0 and line is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert shot.stat().st_size > 1000
    return dict(json.loads(line[len("AZR-RESULT "):]))


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_the_dialog_fits_the_screen_with_every_button_inside(tmp_path: Path, name: str) -> None:
    out = run_case(tmp_path, name)
    _rx, _ry, rw, rh = out["room"]  # type: ignore[misc]
    _fx, _fy, fw, fh = out["frame"]  # type: ignore[misc]
    assert fw <= rw and fh <= rh, out
    w, h = out["size"]  # type: ignore[misc]
    texts = {b["text"] for b in out["buttons"]}  # type: ignore[union-attr]
    assert {"Submit", "Cancel", "Close", "Check files"} <= texts
    for b in out["buttons"]:  # type: ignore[union-attr]
        assert b["w"] > 0 and b["h"] > 0, b
        assert b["x"] >= 0 and b["x"] + b["w"] <= w, (name, b, out["size"])
        if not b["in_scroll"]:  # what scrolls may be below the fold; the rest must show
            assert b["y"] >= 0 and b["y"] + b["h"] <= h, (name, b, out["size"])
    submit = next(b for b in out["buttons"] if b["text"] == "Submit")  # type: ignore[union-attr]
    assert not submit["in_scroll"]
    # No horizontal overflow: the settings fit the width, the long path is elided.
    assert out["hscroll"] == 0 and out["body_min_width"] <= out["viewport_width"], out
    assert "…" in str(out["scene_text"])
