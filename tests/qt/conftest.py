"""Qt tests run offscreen: no display server, the real widgets all the same."""

from __future__ import annotations

import os

# Set before pytest-qt creates the QApplication (at the first `qtbot`).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
