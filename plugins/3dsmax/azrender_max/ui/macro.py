"""What the "Render on Azure" MacroScript runs: the shared dialog over a :class:`MaxSession`.

The MacroScript (``Contents/scripts/azrender.mcr``) calls
``python.Execute "import azrender_max.ui.macro as m; m.open_dialog()"``. The
dialog is parented to 3ds Max's main window (``qtmax.GetQMaxMainWindow``, 3ds Max
2018+) so it stays on top of it and closes with it; one dialog at a time.
"""

from __future__ import annotations

from typing import Any

OPEN_COMMAND = "import azrender_max.ui.macro as m; m.open_dialog()"
JOBS_COMMAND = "import azrender_max.ui.macro as m; m.open_dialog(tab='jobs')"

_dialogs: list[Any] = []  # keeps the open dialog alive (its Qt parent is 3ds Max's window)


def max_main_window() -> Any:
    """3ds Max's main window as a Qt widget, to parent the dialog (None outside 3ds Max)."""
    try:
        from qtmax import GetQMaxMainWindow  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return GetQMaxMainWindow()


def open_dialog(tab: str = "submit", rt: Any = None, parent: Any = None) -> Any:
    """Open the shared dialog on the current 3ds Max scene; returns it."""
    from azrender.qt.dialog import show_only
    from azrender_max.ui.session import MaxSession

    if rt is None:
        from pymxs import runtime as rt  # type: ignore[import-not-found,no-redef,unused-ignore]
    return show_only(_dialogs, MaxSession(rt), parent if parent is not None else max_main_window(), tab)
