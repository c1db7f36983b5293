"""Progress reporting that the work code calls and the entry point chooses.

Work code takes a :class:`Progress` and never prints; the CLI passes a
:class:`~azrender.reporters.RichProgress` (bars on stderr with rate and ETA) on
a terminal, a :class:`~azrender.reporters.LineProgress` when stderr is a log or
a pipe (a plain line every few seconds, or JSON lines with
``--json-progress``), or, in ``--json`` mode, :data:`NO_PROGRESS`::

    progress.begin("upload", total=total_bytes, unit="B")
    progress.advance(len(chunk))
    progress.end()

Implementations must be safe to call from worker threads. This module is the
contract alone (a scan imports it); the reporters are in :mod:`azrender.reporters`.
"""

from __future__ import annotations

from typing import Protocol


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


def human_size(n: float | None) -> str:
    """``1536`` → ``"1.5 KB"``; binary multiples, as file managers show them.

    >>> human_size(512), human_size(1536), human_size(3 * 1024**3)
    ('512 B', '1.5 KB', '3.0 GB')
    """
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
