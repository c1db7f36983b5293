"""Oracles for the 3ds Max tests, read with olefile alone (never through azrender's reader)."""

from __future__ import annotations

from pathlib import Path

import olefile


def external_dependencies(scene: Path, encoding: str = "utf-8") -> list[str]:
    """The "External Dependencies" group 3ds Max wrote into the scene's document summary.

    ``encoding`` is the property set's code page (UTF-8 in current files, ANSI in old ones).
    """
    with olefile.OleFileIO(str(scene)) as ole:
        props = ole.getproperties("\x05DocumentSummaryInformation")
    pairs, parts = props[12], props[13]
    pos = 0
    for i in range(0, len(pairs), 2):
        if pairs[i] == b"External Dependencies":
            return [p.decode(encoding) for p in parts[pos : pos + pairs[i + 1]]]
        pos += pairs[i + 1]
    raise AssertionError("no External Dependencies group")
