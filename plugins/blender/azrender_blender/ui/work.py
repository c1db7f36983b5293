"""Long work off Blender's UI thread: one thread per job, updates through a queue.

Blender's data may only be touched from the main thread, so a worker thread
never does: it posts :class:`Update` records, and a ``bpy.app.timers`` timer
(:func:`azrender_blender.ui.runtime.poll`) drains them into the job list. This
module imports no ``bpy`` and is tested on its own::

    work = Work()
    work.start("k1", lambda reporter: reporter.post(state="done"))
    work.join(5); [u.state for u in work.drain()]   # ['done']
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from azrender.errors import AzrenderError, Cancelled
from azrender.reporters import Step, describe

# A progress bar updated thousands of times a second would flood the queue.
_PROGRESS_INTERVAL = 0.2


@dataclass(frozen=True)
class Update:
    """A change to one job-list entry (``key``); ``None`` fields are left as they are."""

    key: str
    state: str | None = None
    job_id: str | None = None
    progress: float | None = None
    message: str | None = None
    error: str | None = None
    output_dir: str | None = None


def one_line(exc: BaseException) -> str:
    """A failure as one line: our own errors say what to do, others name their type."""
    if isinstance(exc, AzrenderError):
        return str(exc)
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class Reporter:
    """What a job's thread uses to speak to the UI, and to hear that it should stop.

    ``stop`` is set when the thread should end (the add-on is unloading, or the
    artist pressed Cancel); ``cancel`` only for Cancel: then the work itself
    stops (an upload at its next progress report, see :class:`QueueProgress`)
    and a job that was already submitted is cancelled on its backend.
    """

    def __init__(
        self, key: str, updates: queue.Queue[Update], stop: threading.Event,
        cancel: threading.Event | None = None,
    ) -> None:
        self.key = key
        self._updates = updates
        self._stop = stop
        self._cancel = cancel or threading.Event()

    def post(self, **fields: object) -> None:
        self._updates.put(Update(key=self.key, **fields))  # type: ignore[arg-type]

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def cancelled(self) -> bool:
        """The artist pressed Cancel for this job."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` once the artist pressed Cancel."""
        if self._cancel.is_set():
            raise Cancelled("cancelled")

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when asked to stop meanwhile."""
        return self._stop.wait(seconds)

    def progress(self) -> QueueProgress:
        return QueueProgress(self)


class QueueProgress:
    """An :class:`azrender.progress.Progress` that turns steps into job-list updates.

    After Cancel, its next ``begin``, ``advance`` or ``note`` raises
    :class:`Cancelled` inside the work: an upload stops between blocks (its
    journal lets a later submit resume), and nothing after it runs.
    """

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._lock = threading.Lock()
        self._step: Step | None = None
        self._last = 0.0

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        self._reporter.check()
        with self._lock:
            self._step = Step(label, total, unit, started=time.monotonic())
            self._last = self._step.started
        self._reporter.post(message=label, progress=0.0 if total else None)

    def advance(self, amount: float = 1) -> None:
        """Move the job's bar, and say the numbers: done of total, rate, time left."""
        self._reporter.check()
        with self._lock:
            step = self._step
            if step is None:
                return
            step.done += amount
            now = time.monotonic()
            if now - self._last < _PROGRESS_INTERVAL or not step.total:
                return
            self._last = now
            figures = step.figures(now)
        self._reporter.post(progress=figures["percent"] / 100, message=describe(figures))

    def note(self, message: str) -> None:
        self._reporter.check()
        self._reporter.post(message=message)

    def end(self) -> None:
        with self._lock:
            finished = bool(self._step is not None and self._step.total)
        if finished:
            self._reporter.post(progress=1.0)


class Work:
    """The background jobs of one Blender session."""

    def __init__(self) -> None:
        self.updates: queue.Queue[Update] = queue.Queue()
        self._threads: dict[str, threading.Thread] = {}
        # Per job thread: stop (unload or Cancel) and cancel (Cancel only).
        self._events: dict[str, tuple[threading.Event, threading.Event]] = {}
        self._lock = threading.Lock()

    def start(self, key: str, job: Callable[[Reporter], None]) -> None:
        """Run ``job`` in a new thread; its failure becomes a ``failed`` update, never a crash.

        A thread already running under ``key`` is told to stop: the new one takes its place.
        """
        stop, cancel = threading.Event(), threading.Event()
        reporter = Reporter(key, self.updates, stop, cancel)

        def run() -> None:
            try:
                job(reporter)
            except Cancelled as exc:
                reporter.post(state="cancelled", message=str(exc), error="")
            except Exception as exc:  # the thread is the edge: everything becomes a report
                reporter.post(state="failed", error=one_line(exc))

        # Daemon: quitting Blender must not wait for a render that runs for hours.
        thread = threading.Thread(target=run, name=f"azrender-{key}", daemon=True)
        with self._lock:
            previous = self._events.get(key)
            if previous is not None:
                previous[0].set()
            self._threads[key] = thread
            self._events[key] = (stop, cancel)
        thread.start()

    def cancel(self, key: str) -> bool:
        """Ask the job ``key`` to stop its work at the next progress report; True when it runs."""
        with self._lock:
            events = self._events.get(key)
        if events is None:
            return False
        events[1].set()
        events[0].set()
        return self.running(key)

    def busy(self) -> bool:
        with self._lock:
            return any(t.is_alive() for t in self._threads.values())

    def running(self, key: str) -> bool:
        with self._lock:
            thread = self._threads.get(key)
        return thread is not None and thread.is_alive()

    def drain(self, limit: int = 500) -> list[Update]:
        """Updates posted so far, oldest first (at most ``limit`` per call)."""
        out: list[Update] = []
        for _ in range(limit):
            try:
                out.append(self.updates.get_nowait())
            except queue.Empty:
                break
        return out

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every thread; True when all finished."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.busy()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask every job to stop (they check between steps) and wait a little."""
        with self._lock:
            for stop, _cancel in self._events.values():
                stop.set()
        return self.join(timeout)
