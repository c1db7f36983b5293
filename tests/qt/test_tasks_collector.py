"""While a task works on a pool thread, cycles are collected on the UI thread only (azrender.qt.collector).

A collection on a pool thread frees whatever unreachable cycles exist, Qt
widgets among them, outside the thread they live in: that crashed a test run
(a segfault in ``Garbage-collecting`` on an upload's thread).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from azrender.progress import Progress
from azrender.qt.binding import QtCore
from azrender.qt.tasks import Task, TaskRunner


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The thread of each collection that starts (gc.callbacks) while the test runs."""
    threads: list[int] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            threads.append(threading.get_ident())

    gc.callbacks.append(note)
    yield threads
    gc.callbacks.remove(note)


def busy(progress: Progress) -> tuple[bool, int]:
    """Allocates far past every threshold, makes cycles, then waits for the UI thread to collect."""
    kept = [[n] for n in range(300_000)]  # container allocations: CPython would collect on this thread
    for _ in range(1000):
        cycle: list[object] = []
        cycle.append(cycle)
    time.sleep(0.5)
    return gc.isenabled(), len(kept)


def test_collections_happen_on_the_ui_thread_and_the_collector_comes_back(
    qtbot: QtBot, collections: list[int]
) -> None:
    assert gc.isenabled()
    runner = TaskRunner(QtCore.QThreadPool())
    task = Task(busy)
    with qtbot.waitSignal(task.signals.done, timeout=30_000) as blocker:
        runner.start(task)
    assert blocker.args == [(False, 300_000)]  # off while the task ran
    assert collections, "the UI thread's timer collected nothing"
    assert set(collections) == {threading.main_thread().ident}
    qtbot.waitUntil(gc.isenabled, timeout=5_000)


def test_two_runners_share_the_switch(qtbot: QtBot) -> None:
    """The job monitor's runner and the dialog's: the collector is on again only after the last task."""
    first, second = TaskRunner(QtCore.QThreadPool()), TaskRunner(QtCore.QThreadPool())
    release = threading.Event()
    waiting = Task(lambda progress: release.wait(30))
    quick = Task(lambda progress: None)
    first.start(waiting)
    with qtbot.waitSignal(quick.signals.done, timeout=10_000):
        second.start(quick)
    qtbot.wait(50)  # the quick task's outcome is handled
    assert not gc.isenabled()
    with qtbot.waitSignal(waiting.signals.done, timeout=10_000):
        release.set()
    qtbot.waitUntil(gc.isenabled, timeout=5_000)


def test_a_failing_task_gives_the_collector_back(qtbot: QtBot) -> None:
    def fails(progress: Progress) -> None:
        raise RuntimeError("broken")

    runner = TaskRunner(QtCore.QThreadPool())
    task = Task(fails)
    with qtbot.waitSignal(task.signals.failed, timeout=10_000):
        runner.start(task)
    qtbot.waitUntil(gc.isenabled, timeout=5_000)
