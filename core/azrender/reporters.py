"""The progress reporters the entry points choose (the contract is :mod:`azrender.progress`).

:class:`RichProgress` draws bars on a terminal; :class:`LineProgress` writes a
plain line (or a JSON object) every few seconds to a log or a pipe; both are
safe to call from worker threads::

    progress = LineProgress(lambda line: print(line, file=sys.stderr))
    progress.begin("upload", total=total_bytes, unit="B")
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azrender.progress import human_size

if TYPE_CHECKING:
    # rich is imported where bars are drawn: the Blender extension imports this module and
    # bundles no rich (the panel shows its own progress).
    from rich.console import Console
    from rich.progress import Progress as _RichProgress
    from rich.progress import TaskID


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


# Rich style tags as the CLI writes them in notes ("[yellow]missing:[/] ..."); a TOML table
# name such as [storage] is not a style and stays.
_STYLE_TAG = re.compile(
    r"\[/?(?:(?:bold|dim|italic|underline|red|green|yellow|blue|cyan|magenta|white)\b ?)*\]"
)


@dataclass
class Step:
    """One step's numbers so far: what :class:`LineProgress` reports."""

    label: str
    total: float | None
    unit: str
    started: float
    done: float = 0.0

    def figures(self, now: float) -> dict[str, Any]:
        """done/total, percent, rate per second and seconds left (``None`` where unknown)."""
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed if self.done else None
        left = None
        if rate and self.total is not None:
            left = max(self.total - self.done, 0.0) / rate
        percent = None if not self.total else min(100.0, 100.0 * self.done / self.total)
        return {"step": self.label, "unit": self.unit, "done": self.done, "total": self.total,
                "percent": percent, "rate": rate, "eta_s": left}


def describe(figures: dict[str, Any]) -> str:
    """One plain line for a log.

    >>> describe({"step": "upload", "unit": "B", "done": 3 * 2**20, "total": 12 * 2**20,
    ...           "percent": 25.0, "rate": 2**20, "eta_s": 9.0})
    'upload: 3.0 MB of 12.0 MB (25%), 1.0 MB/s, about 9 s left'
    >>> describe({"step": "render", "unit": "tasks", "done": 2, "total": 10,
    ...           "percent": 20.0, "rate": 0.01, "eta_s": 800.0})
    'render: 2 of 10 tasks (20%), about 13 min left'
    """
    unit, done, total = figures["unit"], figures["done"], figures["total"]
    if unit == "B":
        text = f"{human_size(done)} of {human_size(total)}" if total is not None else human_size(done)
    else:
        text = f"{done:.0f} of {total:.0f} {unit}" if total is not None else f"{done:.0f} {unit}"
    parts = [f"{figures['step']}: {text}"]
    if figures["percent"] is not None:
        parts[0] += f" ({figures['percent']:.0f}%)"
    if unit == "B" and figures["rate"]:
        parts.append(f"{human_size(figures['rate'])}/s")
    if figures["eta_s"] is not None:
        eta = figures["eta_s"]
        parts.append(f"about {eta:.0f} s left" if eta < 120 else f"about {eta / 60:.0f} min left")
    return ", ".join(parts)


@dataclass
class LineProgress:
    """Progress for a log file or a pipe: a line per step at most every ``interval`` seconds.

    A pipeline's log shows movement during a long upload instead of one line at
    the end; a step that reported anything also reports its last figures when
    it ends, while a step shorter than ``interval`` stays silent. With ``as_json`` each line is a JSON object (``step``, ``unit``,
    ``done``, ``total``, ``percent``, ``rate``, ``eta_s``, ``final``), for
    pipeline tools that parse it::

        progress = LineProgress(lambda line: print(line, file=sys.stderr))
    """

    write: Callable[[str], None]
    interval: float = 5.0
    as_json: bool = False
    clock: Callable[[], float] = time.monotonic
    _step: Step | None = field(default=None, init=False)
    _last: float = field(default=0.0, init=False)
    _said: bool = field(default=False, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        with self._lock:
            self._close()
            self._step = Step(label, total, unit, started=self.clock())
            self._last = self._step.started

    def advance(self, amount: float = 1) -> None:
        with self._lock:
            if self._step is None:
                return
            self._step.done += amount
            now = self.clock()
            if now - self._last >= self.interval:
                self._last, self._said = now, True
                self._emit(now, final=False)

    def note(self, message: str) -> None:
        plain = _STYLE_TAG.sub("", message)  # notes are written for RichProgress's markup
        with self._lock:
            self.write(json.dumps({"note": plain}) if self.as_json else plain)

    def end(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        # A step that said nothing yet was short: closing it with a line would only add noise
        # before a one-line result or error.
        if self._step is not None and self._said:
            self._emit(self.clock(), final=True)
        self._step = None
        self._said = False

    def _emit(self, now: float, *, final: bool) -> None:
        assert self._step is not None
        figures = self._step.figures(now)
        self.write(json.dumps({**figures, "final": final}) if self.as_json else describe(figures))
