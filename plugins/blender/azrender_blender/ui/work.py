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

from azrender.errors import AzrenderError

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
    """What a job's thread uses to speak to the UI, and to hear that it should stop."""

    def __init__(self, key: str, updates: queue.Queue[Update], stop: threading.Event) -> None:
        self.key = key
        self._updates = updates
        self._stop = stop

    def post(self, **fields: object) -> None:
        self._updates.put(Update(key=self.key, **fields))  # type: ignore[arg-type]

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when asked to stop meanwhile."""
        return self._stop.wait(seconds)

    def progress(self) -> QueueProgress:
        return QueueProgress(self)


class QueueProgress:
    """An :class:`azrender.progress.Progress` that turns steps into job-list updates."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._lock = threading.Lock()
        self._label = ""
        self._total: float | None = None
        self._done = 0.0
        self._last = 0.0

    def begin(self, label: str, total: float | None, unit: str = "B") -> None:
        with self._lock:
            self._label, self._total, self._done = label, total, 0.0
            self._last = time.monotonic()
        self._reporter.post(message=label, progress=0.0 if total else None)

    def advance(self, amount: float = 1) -> None:
        with self._lock:
            self._done += amount
            now = time.monotonic()
            if now - self._last < _PROGRESS_INTERVAL or not self._total:
                return
            self._last = now
            fraction = min(1.0, self._done / self._total)
        self._reporter.post(progress=fraction)

    def note(self, message: str) -> None:
        self._reporter.post(message=message)

    def end(self) -> None:
        with self._lock:
            finished = bool(self._total)
        if finished:
            self._reporter.post(progress=1.0)


class Work:
    """The background jobs of one Blender session."""

    def __init__(self) -> None:
        self.updates: queue.Queue[Update] = queue.Queue()
        self._stop = threading.Event()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, key: str, job: Callable[[Reporter], None]) -> None:
        """Run ``job`` in a new thread; its failure becomes a ``failed`` update, never a crash."""
        reporter = Reporter(key, self.updates, self._stop)

        def run() -> None:
            try:
                job(reporter)
            except Exception as exc:  # the thread is the edge: everything becomes a report
                reporter.post(state="failed", error=one_line(exc))

        # Daemon: quitting Blender must not wait for a render that runs for hours.
        thread = threading.Thread(target=run, name=f"azrender-{key}", daemon=True)
        with self._lock:
            if self._stop.is_set():
                self._stop.clear()
            self._threads[key] = thread
        thread.start()

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
        self._stop.set()
        return self.join(timeout)
