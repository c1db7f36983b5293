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

from typing import TYPE_CHECKING

from azrender.lazy import lazy_names

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

#: Each public name and its module; the modules themselves are attributes of the package, as they always were.
_HOMES = {
    **{name: f"{__name__}.{name}" for name in ("assets", "envvars", "resolve", "tokens")},
    **dict.fromkeys(("asset_at", "assets_for", "resolved_assets"), f"{__name__}.assets"),
    **dict.fromkeys(("Expansion", "expand_vars", "has_vars"), f"{__name__}.envvars"),
    **dict.fromkeys(("ResolvedPath", "first_visit", "resolve_path"), f"{__name__}.resolve"),
    **dict.fromkeys(("expand_pattern", "find_sequence", "has_tokens", "pattern_regex", "tile_pattern"),
                    f"{__name__}.tokens"),
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


__getattr__, __dir__ = lazy_names(globals(), _HOMES)
