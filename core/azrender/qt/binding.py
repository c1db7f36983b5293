"""The Qt binding, chosen once at import: PySide6 (Maya/Max 2025+, PyPI), else PySide2.

Everything in :mod:`azrender.qt` imports Qt from here, never from PySide
directly, so the dialog runs inside Maya 2022-2024 and 3ds Max 2022-2024
(PySide2) as well as in 2025+ and standalone (PySide6). Type checking always
sees PySide6, whose stubs ship with it; the two APIs we use are the same.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from azrender.errors import AzrenderError

BINDINGS = ("PySide6", "PySide2")


def _load() -> tuple[str, ModuleType, ModuleType, ModuleType]:
    tried: list[str] = []
    for name in BINDINGS:
        try:
            core = importlib.import_module(f"{name}.QtCore")
            gui = importlib.import_module(f"{name}.QtGui")
            widgets = importlib.import_module(f"{name}.QtWidgets")
        except ImportError as exc:
            tried.append(f"{name}: {exc}")
            continue
        return name, core, gui, widgets
    raise AzrenderError(
        "no Qt binding for the azrender dialog (" + "; ".join(tried) + ")",
        hint="install it with: pip install 'azrender[qt]' (Maya and 3ds Max bring their own)",
    )


if TYPE_CHECKING:
    from PySide6 import QtCore, QtGui, QtWidgets

    BINDING = "PySide6"
else:
    BINDING, QtCore, QtGui, QtWidgets = _load()

__all__ = ["BINDING", "BINDINGS", "QtCore", "QtGui", "QtWidgets"]
