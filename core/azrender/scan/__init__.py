"""Format-independent scanning shared by every application scanner.

* :mod:`~azrender.scan.envvars` — ``$VAR``, ``${VAR}``, ``%VAR%`` with unresolved names reported;
* :mod:`~azrender.scan.resolve` — absolute, scene- and project-relative paths, Windows paths kept;
* :mod:`~azrender.scan.tokens` — ``<UDIM>``, ``<UVTILE>``, ``####``, ``%04d``, ``$F4``... on disk;
* :mod:`~azrender.scan.assets` — one written path → :class:`~azrender.model.Asset` records.

>>> expand_vars("$X/a", {"X": "/s"}).text
'/s/a'
"""

from __future__ import annotations

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
