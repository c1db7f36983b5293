"""``python -m azrender.qt SCENE [--preset FILE] [--frames 1-10]``: the dialog outside any application."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from azrender.model import FrameRange
from azrender.qt.binding import QtWidgets
from azrender.qt.dialog import SubmitDialog
from azrender.qt.session import FileSession


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m azrender.qt", description=__doc__)
    parser.add_argument("scene", type=Path)
    parser.add_argument("--preset", type=Path)
    parser.add_argument("--frames", default="1", help="first-last, e.g. 1-10 (default 1)")
    args = parser.parse_args(argv)
    frames = FrameRange.parse(args.frames).frames
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    session = FileSession(args.scene, start=min(frames), end=max(frames))
    dialog = SubmitDialog(session, preset=args.preset)
    dialog.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
