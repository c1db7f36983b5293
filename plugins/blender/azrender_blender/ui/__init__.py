"""Render on Azure inside Blender: the panel, its operators and preferences (needs ``bpy``).

* :mod:`.props` — preferences (preset search path) and the per-scene settings, missing files, jobs;
* :mod:`.operators` — Check dependencies, Render on Azure, Cancel, Retry failed, Download frames,
  Open output folder;
* :mod:`.panel` — the panel in Render Properties;
* :mod:`.runtime` — the timer that brings background work back to the main thread;
* :mod:`.work`, :mod:`.flows`, :mod:`.presets` — the bpy-free parts (threads, core calls, presets).
"""

from __future__ import annotations

import bpy

from . import operators, panel, props, runtime


def register() -> None:
    props.register()
    for cls in (*operators.CLASSES, *panel.CLASSES):
        bpy.utils.register_class(cls)
    runtime.start_timer()


def unregister() -> None:
    runtime.stop_timer()
    # Ask running jobs to stop polling; a detached render keeps going and can be downloaded later.
    runtime.WORK.stop(timeout=2.0)
    for cls in reversed((*operators.CLASSES, *panel.CLASSES)):
        bpy.utils.unregister_class(cls)
    props.unregister()
