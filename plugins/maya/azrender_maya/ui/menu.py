"""The "Render on Azure" menu in Maya's main window and a button on the current shelf.

``install(cmds)`` is idempotent: it replaces the menu if it exists and adds
the shelf button only once, so reloading the module never duplicates them.
The commands run :func:`open_dialog`, which builds the shared Qt dialog
(:class:`azrender.qt.SubmitDialog`) over a :class:`~azrender_maya.ui.session.MayaSession`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azrender_maya.cmds_protocol import MayaCmds

MENU_NAME = "azrenderMenu"
MENU_LABEL = "Render on Azure"
MAIN_WINDOW = "MayaWindow"
SHELF_LABEL = "Azure"
# Python source Maya runs for the shelf button (a button keeps source, not a function).
OPEN_COMMAND = "import azrender_maya.ui.menu as m; m.open_dialog()"
JOBS_COMMAND = "import azrender_maya.ui.menu as m; m.open_dialog(tab='jobs')"

_dialogs: list[Any] = []  # keeps the open dialog alive (Qt parent is Maya's window)


def install(cmds: MayaCmds, *, shelf: str | None = None,
            opener: Callable[..., None] | None = None) -> str:
    """Add the menu (and a shelf button on ``shelf`` if given); returns the menu's name."""
    if cmds.about(batch=True):
        return ""  # mayabatch / mayapy: no UI to add to
    run = opener or open_dialog
    if cmds.menu(MENU_NAME, exists=True):
        cmds.deleteUI(MENU_NAME, menu=True)
    menu = str(cmds.menu(MENU_NAME, label=MENU_LABEL, parent=MAIN_WINDOW, tearOff=True))
    cmds.menuItem(label="Submit scene…", parent=menu,
                  annotation="Render the open scene on Azure: check files, upload changes, submit",
                  command=lambda *_: run())
    cmds.menuItem(label="Jobs…", parent=menu, annotation="Jobs submitted from this machine, and their frames",
                  command=lambda *_: run(tab="jobs"))
    if shelf and cmds.shelfLayout(shelf, exists=True):
        button = f"{shelf}|azrenderShelfButton"
        if not cmds.shelfButton(button, exists=True):
            cmds.shelfButton("azrenderShelfButton", parent=shelf, label=MENU_LABEL,
                             annotation="Render on Azure", image="render.png",
                             imageOverlayLabel=SHELF_LABEL, sourceType="python", command=OPEN_COMMAND)
    return menu


def maya_main_window() -> Any:
    """Maya's main window as a Qt widget, to parent the dialog (None outside Maya)."""
    try:
        import maya.OpenMayaUI as omui  # type: ignore[import-not-found,unused-ignore]

        from azrender.qt.binding import BINDING, QtWidgets

        shiboken = __import__("shiboken6" if BINDING == "PySide6" else "shiboken2")
        pointer = omui.MQtUtil.mainWindow()
        return shiboken.wrapInstance(int(pointer), QtWidgets.QWidget) if pointer else None
    except ImportError:
        return None


def open_dialog(tab: str = "submit", cmds: Any = None, parent: Any = None) -> Any:
    """Open the shared dialog on the current Maya scene; returns it."""
    from azrender.qt.dialog import show_only
    from azrender_maya.ui.session import MayaSession

    if cmds is None:
        import maya.cmds as cmds  # type: ignore[import-not-found,no-redef,unused-ignore]
    return show_only(_dialogs, MayaSession(cmds), parent if parent is not None else maya_main_window(), tab)
