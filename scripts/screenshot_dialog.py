"""Render the real submit dialog offscreen to docs/images/submit-dialog.png (for the README).

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshot_dialog.py [SCENE.ma]

The dialog runs over the Maya session answering from a real scene file, with
its files checked, exactly as an artist would see it after "Check files".
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "maya"))  # the scene-file maya.cmds stand-in lives with the tests

from fake_cmds import SceneFileCmds  # noqa: E402

from azrender.qt.binding import QtWidgets  # noqa: E402
from azrender.qt.dialog import SubmitDialog  # noqa: E402
from azrender_maya.ui.session import MayaSession  # noqa: E402

DEFAULT_SCENE = (ROOT.parent / "shared/fixtures/real/BabylonJS__Exporters/Maya/Samples/sourceModels"
                 / "PBR_Textures/PBR_Textures.ma")


def main() -> int:
    scene = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SCENE
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    session = MayaSession(SceneFileCmds(scene))
    dialog = SubmitDialog(session, preset=Path("shows/abc.toml"))
    dialog.chunk_spin.setValue(2)
    dialog.check_dependencies()  # the Maya session answers on the UI thread
    dialog.resize(900, 640)
    dialog.show()
    app.processEvents()
    out = ROOT / "docs/images/submit-dialog.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not dialog.grab().save(str(out)):
        print(f"could not write {out}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
