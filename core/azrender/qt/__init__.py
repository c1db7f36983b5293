"""The one Qt submit dialog and job monitor, shared by Maya and 3ds Max (PySide6, or PySide2).

An application plugin implements :class:`AppSession` over its own API and
opens the dialog with it::

    from azrender.qt import SubmitDialog
    dialog = SubmitDialog(MayaSession(maya.cmds), parent=maya_main_window)
    dialog.show()

Nothing here imports an application module; the binding is chosen in
:mod:`azrender.qt.binding`. ``python -m azrender.qt SCENE`` opens the dialog
for a scene file outside any application.
"""

from __future__ import annotations

from azrender.qt.binding import BINDING
from azrender.qt.dialog import SubmitDialog
from azrender.qt.monitor import JobMonitor
from azrender.qt.session import AppSession, FileSession, SceneInfo
from azrender.qt.tasks import SignalProgress, Task

__all__ = [
    "BINDING",
    "AppSession",
    "FileSession",
    "JobMonitor",
    "SceneInfo",
    "SignalProgress",
    "SubmitDialog",
    "Task",
]
