"""Names a module offers from other modules, each imported when first asked for (PEP 562).

A scan imports :mod:`azrender.model`, :mod:`azrender.apps`,
:mod:`azrender.paths` and :mod:`azrender.scan`, and needs little of each. On
Python 3.11 every dataclass compiles its methods when it is defined, so a
module that defined all it names cost a scan's start milliseconds for classes
it never used (issue 20, ``bench/scan.py``). Such a module names the rest by
their homes and gets a module ``__getattr__`` and ``__dir__`` from here::

    __getattr__, __dir__ = lazy_names(globals(), {"JobSpec": "azrender.jobmodel"})

``from azrender.model import JobSpec`` then imports :mod:`azrender.jobmodel`
on that line, and the name is a plain module attribute from then on. For type
checkers the module imports the same names under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    namespace: dict[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``namespace`` (the module's ``globals()``).

    ``homes`` maps each name to the module that defines it; a name that is
    itself a submodule (``"assets": "azrender.scan.assets"``) is that module.
    """
    module = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        found = importlib.import_module(home)
        value = found if home == f"{module}.{name}" else getattr(found, name)
        namespace[name] = value  # asked once: later look-ups are plain module attributes
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
