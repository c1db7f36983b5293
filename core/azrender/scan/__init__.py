"""Format-independent scanning shared by every application scanner.

* :mod:`~azrender.scan.envvars` — ``$VAR``, ``${VAR}``, ``%VAR%`` with unresolved names reported;
* :mod:`~azrender.scan.resolve` — absolute, scene- and project-relative paths, Windows paths kept;
* :mod:`~azrender.scan.tokens` — ``<UDIM>``, ``<UVTILE>``, ``####``, ``%04d``, ``$F4``... on disk;
* :mod:`~azrender.scan.assets` — one written path → :class:`~azrender.model.Asset` records.

>>> from azrender.scan import expand_vars
>>> expand_vars("$X/a", {"X": "/s"}).text
'/s/a'

The names below are imported from their modules on first use (PEP 562's
module ``__getattr__``): ``azrender scan`` of a .blend needs none of them,
and loading them all took ~10 ms of its start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azrender.scan.assets import asset_at, assets_for, resolved_assets
    from azrender.scan.envvars import Expansion, expand_vars, has_vars
    from azrender.scan.resolve import ResolvedPath, first_visit, resolve_path
    from azrender.scan.tokens import (
        expand_pattern,
        find_sequence,
        has_tokens,
        pattern_regex,
        tile_pattern,
    )

#: The modules the names come from, reachable as attributes of the package as they always were.
_EAGER_BEFORE = frozenset({"assets", "envvars", "resolve", "tokens"})

#: Each public name and the module it comes from.
_HOMES = {
    "asset_at": "assets", "assets_for": "assets", "resolved_assets": "assets",
    "Expansion": "envvars", "expand_vars": "envvars", "has_vars": "envvars",
    "ResolvedPath": "resolve", "first_visit": "resolve", "resolve_path": "resolve",
    "expand_pattern": "tokens", "find_sequence": "tokens", "has_tokens": "tokens", "pattern_regex": "tokens",
    "tile_pattern": "tokens",
}  # fmt: skip

__all__ = [
    "Expansion",
    "ResolvedPath",
    "asset_at",
    "assets_for",
    "expand_pattern",
    "expand_vars",
    "find_sequence",
    "first_visit",
    "has_tokens",
    "has_vars",
    "pattern_regex",
    "resolve_path",
    "resolved_assets",
    "tile_pattern",
]


def __getattr__(name: str) -> Any:
    if name in _EAGER_BEFORE:  # `import azrender.scan` once brought these modules too
        return importlib.import_module(f"{__name__}.{name}")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
