"""Where a file of the artist's machine lives on the render node.

Paths are handled as text, in the form the scene wrote them: a Windows path
read on Linux stays a Windows path. :func:`mirror_key` names a file in the
mirrored asset tree; :class:`PathMap` holds ordered :class:`MapRule` s
(longest prefix wins, see :mod:`azrender.paths.rules`) and a mirror root:

>>> from azrender.paths import PathMap, mirror_key
>>> mirror_key("P:\\\\show\\\\tex\\\\a.png")
'P/show/tex/a.png'
>>> mirror_key("/mnt/show/x.exr")
'mnt/show/x.exr'
>>> PathMap(mirror_root="/node/shared/assets").to_node("/mnt/show/x.exr")
'/node/shared/assets/mnt/show/x.exr'

A scanner needs only :func:`is_windows_path`: the mapping itself
(:mod:`azrender.paths.mapping`) is imported on first use of one of its names
(:mod:`azrender.lazy`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from azrender.lazy import lazy_names

if TYPE_CHECKING:
    from azrender.paths.mapping import UNMAPPED_HINT as UNMAPPED_HINT
    from azrender.paths.mapping import MapRule as MapRule
    from azrender.paths.mapping import PathMap as PathMap
    from azrender.paths.mapping import UnmappedPathError as UnmappedPathError
    from azrender.paths.mapping import mirror_key as mirror_key

_HOMES = dict.fromkeys(("UNMAPPED_HINT", "MapRule", "PathMap", "UnmappedPathError", "mirror_key"),
                       "azrender.paths.mapping")  # fmt: skip

__getattr__, __dir__ = lazy_names(globals(), _HOMES)

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_windows_path(path: str) -> bool:
    """True for ``C:\\x``, ``C:/x`` and UNC ``\\\\server\\share`` paths."""
    return bool(_WINDOWS_DRIVE.match(path)) or path.startswith("\\\\")
