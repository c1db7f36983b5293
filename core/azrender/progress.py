"""Progress reporting that the work code calls and the entry point chooses.

Work code takes a :class:`Progress` and never prints; the CLI passes a
:class:`RichProgress` (bars on stderr with rate and ETA) or, in ``--json``
mode, :data:`NO_PROGRESS`::

    progress.begin("upload", total=total_bytes, unit="B")
    progress.advance(len(chunk))
    progress.end()

Implementations must be safe to call from worker threads.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # rich is imported where bars are drawn: the Blender extension imports this module and
    # bundles no rich (the panel shows its own progress).
    from rich.console import Console
    from rich.progress import Progress as _RichProgress
    from rich.progress import TaskID


class Progress(Protocol):
    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        """Start a step; ``unit`` is ``"B"`` for bytes or a noun such as ``"files"``."""

    def advance(self, amount: float = 1) -> None:
        """Report ``amount`` more units done in the current step."""

    def note(self, message: str) -> None:
        """A one-line remark shown above the bars (not in JSON mode)."""

    def end(self) -> None:
        """Finish the current step."""


class NullProgress:
    """Says nothing: for ``--json`` and library use."""

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def end(self) -> None:
        pass


NO_PROGRESS: Progress = NullProgress()


class RichProgress:
    """Bars on stderr, one per step, with rate and time remaining."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._lock = threading.Lock()
        self._bars: _RichProgress | None = None
        self._task: TaskID | None = None

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as _RichProgress

        with self._lock:
            self._close()
            if unit == "B":
                columns = (DownloadColumn(), TransferSpeedColumn())
            else:
                columns = (MofNCompleteColumn(), TextColumn(unit))  # type: ignore[assignment]
            self._bars = _RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                *columns,
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
                disable=not self.console.is_terminal,
            )
            self._bars.start()
            self._task = self._bars.add_task(label, total=total)

    def advance(self, amount: float = 1) -> None:
        with self._lock:
            if self._bars is not None and self._task is not None:
                self._bars.advance(self._task, amount)

    def note(self, message: str) -> None:
        with self._lock:
            self.console.print(message, highlight=False)

    def end(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
        self._bars = None
        self._task = None
