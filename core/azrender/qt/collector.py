"""Python's cycle collector kept on the UI thread while tasks work on pool threads.

CPython starts a collection in whichever thread allocates when the counts pass
their thresholds ("gc — Garbage Collector interface": automatic collection runs
"when the number of allocations minus the number of deallocations exceeds
threshold0"). A collection frees every unreachable cycle, whoever made it: in
Maya or 3ds Max that includes Qt widgets whose Python wrappers sit in a cycle,
and a QObject destroyed outside the thread it lives in is undefined behaviour
in Qt (QObject's "Thread Affinity": delete it from its own thread, or use
``deleteLater``). A collection on an upload's pool thread crashed the process
that way.

So while any task runs, :class:`UiThreadCollector` turns the automatic
collector off and does its work from a timer on the UI thread instead, with
the same thresholds (each generation collected when its count passes its
threshold, as CPython would); when the last task has reported back, the
collector is on again (if it was on before)::

    collector = ui_thread_collector()  # one per process: the collector is the process's
    collector.task_started()   # UI thread
    ...
    collector.task_ended()     # UI thread, from the task's done/failed/cancelled slot
"""

from __future__ import annotations

import functools
import gc

from azrender.qt.binding import QtCore

#: How often the UI thread looks at the counts while tasks run.
INTERVAL_MS = 100


class UiThreadCollector:
    """Counts the running tasks; while there are any, cycles are collected on the UI thread only."""

    def __init__(self) -> None:
        self._tasks = 0
        self._was_enabled = False
        self._timer = QtCore.QTimer()
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)

    def task_started(self) -> None:
        if self._tasks == 0:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()
        self._tasks += 1

    def task_ended(self) -> None:
        self._tasks -= 1
        if self._tasks == 0:
            self._timer.stop()
            if self._was_enabled:
                gc.enable()

    def collect_due(self) -> None:
        """Collect the oldest generation whose count passed its threshold, once the youngest's has
        (a threshold of 0 turns automatic collection off: then nothing is collected here either)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        if thresholds[0] == 0 or counts[0] <= thresholds[0]:
            return
        gc.collect(max(g for g in range(3) if counts[g] > thresholds[g]))


@functools.cache
def ui_thread_collector() -> UiThreadCollector:
    """The process's one :class:`UiThreadCollector` (made on first use, on the UI thread).

    One for every runner (the dialog's, the job monitor's): ``gc``'s switch is
    the process's, so the first task to start turns it off and the last to end
    turns it on, whichever runner started them.
    """
    return UiThreadCollector()
