"""Small widgets the submit dialog and the job monitor share: a status line and a step bar.

>>> bar = StepBar()  # doctest: +SKIP
>>> bar.begin("upload", 2e6, "B"); bar.advance(1e6); bar.format()  # doctest: +SKIP
'upload: 1.0 MB of 2.0 MB (50%), …'
"""

from __future__ import annotations

import time

from azrender.qt.binding import QtCore, QtWidgets
from azrender.qt.files import MISSING_COLOR
from azrender.reporters import Step, describe

#: The bar's range when the total is known: tenths of a percent.
_BAR_STEPS = 1000


def status_label() -> QtWidgets.QLabel:
    """The one-line status under a page: wraps, and can be selected to copy an error."""
    label = QtWidgets.QLabel("")
    label.setWordWrap(True)
    label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def say(label: QtWidgets.QLabel, text: str, *, error: bool = False) -> None:
    """Show ``text`` on a status line, in the missing-file red when it is an ``error``."""
    label.setStyleSheet(f"color: {MISSING_COLOR};" if error else "")
    label.setText(text)


class StepBar(QtWidgets.QProgressBar):
    """A progress bar fed by a task's ``begun``/``advanced`` signals; its text says the numbers."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._step: Step | None = None
        self.setTextVisible(True)
        self.clear_step()

    def begin(self, label: str, total: float, unit: str) -> None:
        """A new step: ``total`` 0 means unknown (the bar shows busy)."""
        self._step = Step(label, total or None, unit, started=time.monotonic())
        if total <= 0:
            self.setRange(0, 0)
        else:
            self.setRange(0, _BAR_STEPS)
            self.setValue(0)
        self.setFormat(label)

    def advance(self, amount: float) -> None:
        """Move the bar and say the numbers on it: done of total, rate, time left."""
        step = self._step
        if step is None:
            return
        step.done += amount
        figures = step.figures(time.monotonic())
        if figures["percent"] is not None:
            self.setValue(int(figures["percent"] * _BAR_STEPS / 100))
        self.setFormat(describe(figures))

    def finish(self) -> None:
        """The work is done: a full bar, its last numbers kept."""
        self._step = None
        self.setValue(self.maximum())

    def clear_step(self) -> None:
        """Nothing running: an empty bar with no text."""
        self._step = None
        self.setRange(0, _BAR_STEPS)
        self.setValue(0)
        self.setFormat("")
