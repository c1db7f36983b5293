"""The main-thread side of background work: a timer drains updates into the job lists.

``bpy.app.timers`` calls :func:`poll` on Blender's main thread; it is the only
place where a worker's :class:`~azrender_blender.ui.work.Update` touches
Blender data. Failures and finished jobs become Blender reports (Info editor
and status bar) through the small ``azrender.report`` operator.
"""

from __future__ import annotations

from typing import Any

import bpy

from .presets import PresetCache
from .work import Update, Work

WORK = Work()
PRESETS = PresetCache()

_BUSY_INTERVAL = 0.25
_IDLE_INTERVAL = 1.0


def _entries(key: str) -> list[Any]:
    return [job for scene in bpy.data.scenes for job in scene.azrender.jobs if job.key == key]


def _report(level: str, message: str) -> None:
    try:
        bpy.ops.azrender.report(level=level, message=message)
    except RuntimeError:
        # Without a window (background mode) an ERROR report is raised back at
        # the caller; the job entry keeps the message, so nothing is lost.
        print(f"azrender: {level.lower()}: {message}")


def apply(update: Update) -> None:
    """Write one update into the job entries it is about and report what matters."""
    for job in _entries(update.key):
        for name in ("state", "job_id", "progress", "message", "error", "output_dir"):
            value = getattr(update, name)
            if value is not None:
                setattr(job, name, value)
    label = update.job_id or update.key
    if update.error:
        _report("ERROR", f"Render on Azure, job {label}: {update.error}")
    elif update.state == "done":
        _report("INFO", f"Render on Azure: {update.message or 'done'}")


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", ()):
        for area in window.screen.areas:
            if area.type == "PROPERTIES":
                area.tag_redraw()


def poll() -> float:
    """Timer callback: apply what the workers posted; returns the next interval."""
    updates = WORK.drain()
    for update in updates:
        apply(update)
    if updates:
        _redraw()
    return _BUSY_INTERVAL if WORK.busy() or updates else _IDLE_INTERVAL


def start_timer() -> None:
    if not bpy.app.timers.is_registered(poll):
        bpy.app.timers.register(poll, first_interval=_BUSY_INTERVAL, persistent=True)


def stop_timer() -> None:
    if bpy.app.timers.is_registered(poll):
        bpy.app.timers.unregister(poll)
