"""Run core calls off the UI thread and report back through Qt signals.

A :class:`Task` wraps a plain function; it runs on :class:`QThreadPool` and
its :class:`TaskSignals` deliver the result, a one-line error, and progress
to slots on the UI thread (Qt queues signals that cross threads)::

    task = Task(lambda progress: submit_scene(..., progress=progress))
    task.signals.done.connect(on_done)
    task.signals.failed.connect(on_error)
    pool.start(task)

The function receives a :class:`SignalProgress`, the :class:`azrender.progress.Progress`
that the core already reports to, so the dialog's bar moves with the upload.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from azrender.errors import AzrenderError, Cancelled
from azrender.progress import Progress
from azrender.qt.binding import QtCore
from azrender.qt.collector import ui_thread_collector

log = logging.getLogger(__name__)


class TaskSignals(QtCore.QObject):
    """Signals of one task; lives on the UI thread, emitted from the pool thread."""

    begun = QtCore.Signal(str, float, str)  # label, total (0: unknown), unit
    advanced = QtCore.Signal(float)
    noted = QtCore.Signal(str)
    ended = QtCore.Signal()
    done = QtCore.Signal(object)  # the function's return value
    failed = QtCore.Signal(str)  # one line, never a traceback or a secret
    cancelled = QtCore.Signal()  # stopped at the artist's request, before it finished


class SignalProgress:
    """A core :class:`Progress` whose calls become signals (safe from any thread).

    It is also how a task is stopped: once ``stop`` is set, the next ``begin``,
    ``advance`` or ``note`` raises :class:`Cancelled` in the work itself, so an
    upload ends between blocks (its journal lets a later submit resume) and a
    submit that was cancelled during its upload never reaches the backend.
    """

    def __init__(self, signals: TaskSignals, stop: threading.Event | None = None) -> None:
        self._signals = signals
        self._stop = stop or threading.Event()

    def _check(self) -> None:
        if self._stop.is_set():
            raise Cancelled("cancelled")

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        self._check()
        self._signals.begun.emit(label, float(total or 0), unit)

    def advance(self, amount: float = 1) -> None:
        self._check()
        self._signals.advanced.emit(float(amount))

    def note(self, message: str) -> None:
        self._check()
        self._signals.noted.emit(message)

    def end(self) -> None:
        self._signals.ended.emit()


def describe_error(exc: BaseException) -> str:
    """The one line the user sees: an AzrenderError as written, anything else by its type."""
    if isinstance(exc, AzrenderError):
        return str(exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Task(QtCore.QRunnable):
    """One call of ``fn(progress)`` on a pool thread; the outcome arrives as a signal."""

    def __init__(self, fn: Callable[[Progress], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()
        self._stop = threading.Event()
        # The pool must not delete the runnable while the UI still holds its signals.
        self.setAutoDelete(False)

    def cancel(self) -> None:
        """Ask the work to stop at its next progress report (from any thread)."""
        self._stop.set()

    @property
    def cancel_requested(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        try:
            result = self.fn(SignalProgress(self.signals, self._stop))
        except Cancelled:
            self.signals.cancelled.emit()
            return
        except Exception as exc:  # reported to the UI; a pool thread has nobody else to tell
            if not isinstance(exc, AzrenderError):
                log.debug("azrender task failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(describe_error(exc))
            return
        self.signals.done.emit(result)


class TaskRunner:
    """Starts tasks on a pool and keeps each alive until it has reported back.

    A :class:`Task` is not auto-deleted (its signals must outlive the pool
    thread), so someone must hold it: the widget's runner does. While tasks
    run, cycles are collected on the UI thread only (:mod:`azrender.qt.collector`).
    Call :meth:`start` on the UI thread.
    """

    def __init__(self, pool: QtCore.QThreadPool) -> None:
        self.pool = pool
        self._running: set[Task] = set()
        self._collector = ui_thread_collector()

    def start(self, task: Task) -> None:
        self._running.add(task)
        self._collector.task_started()
        for signal in (task.signals.done, task.signals.failed, task.signals.cancelled):
            signal.connect(lambda *_: self._reported(task))
        self.pool.start(task)

    def _reported(self, task: Task) -> None:
        if task in self._running:  # one outcome per task; the collector counts it once
            self._running.discard(task)
            self._collector.task_ended()
