"""UDIM/UV-tile tokens and frame-number sequences, expanded against what is on disk.

A scene rarely names every file it reads: ``wall.<UDIM>.exr`` means every tile
that exists, ``smoke.####.vdb`` every frame. :func:`expand_pattern` turns such a
path into the files really present, listing the folder once and matching a
regular expression built from the pattern (never a glob: ``[`` and ``*`` in a
file name are ordinary characters here).

Tokens understood (in the file name, not in folder names):

=====================  ==============================  ===================
token                  written by                      matches
=====================  ==============================  ===================
``<UDIM>`` ``<udim>``  Maya, Arnold, Blender, Mari     ``1001``, ``1012``
``<UVTILE>``           Maya, Arnold (Mudbox style)     ``u1_v1``, ``u10_v2``
``u<U>_v<V>``          Maya (ZBrush/Mudbox style)      ``u0_v0``, ``u3_v1``
``<u>_<v>``            Arnold                          ``0_0``, ``3_1``
``####`` ``#``         Maya, Blender, Nuke             ``0001`` (≥ 4 digits)
``%04d`` ``%d``        printf style                    ``0001``, ``7``
``$F4`` ``$F``         Houdini / Maya MEL style        ``0001``, ``7``
``<f>`` ``<frame>``    Arnold, RenderMan, Maya         ``1``, ``0001``
=====================  ==============================  ===================

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for n in ("a.1001.exr", "a.1002.exr", "a.txt"): _ = (d / n).write_text("")
>>> [p.name for p in expand_pattern(d / "a.<UDIM>.exr")]
['a.1001.exr', 'a.1002.exr']
>>> [p.name for p in find_sequence(d / "a.1001.exr")]
['a.1001.exr', 'a.1002.exr']
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Order matters: longer tokens first so ``u<U>_v<V>`` wins over ``<U>``.
_TOKEN_REGEX: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<UDIM>", re.IGNORECASE), r"(?:1[0-9]{3})"),
    (re.compile(r"<UVTILE>", re.IGNORECASE), r"(?:u[0-9]+_v[0-9]+)"),
    (re.compile(r"u<U>_v<V>"), r"(?:u[0-9]+_v[0-9]+)"),
    (re.compile(r"<U>"), r"(?:[0-9]+)"),
    (re.compile(r"<V>"), r"(?:[0-9]+)"),
    (re.compile(r"<u>"), r"(?:[0-9]+)"),
    (re.compile(r"<v>"), r"(?:[0-9]+)"),
    (re.compile(r"<frame>|<f>", re.IGNORECASE), r"(?:-?[0-9]+)"),
    # ``#``, ``%0Nd`` and ``$FN`` carry a width: see _width_regex.
)

_ANY_TOKEN = re.compile(
    r"<UDIM>|<UVTILE>|u<U>_v<V>|<U>|<V>|<u>|<v>|<frame>|<f>|%0?[0-9]*d|\$F[0-9]?|#+",
    re.IGNORECASE,
)

# A literal Mudbox/ZBrush tile name: ``skin_u1_v1.tif``.
_LITERAL_UV_TILE = re.compile(r"(?<![A-Za-z0-9])u[0-9]+_v[0-9]+(?![0-9])")
# A literal UDIM number: four digits 1001-1999 not part of a longer number.
_LITERAL_UDIM = re.compile(r"(?<![0-9])1[0-9]{3}(?![0-9])")
# The last run of digits in a file name before its extension (frame number).
_LAST_NUMBER = re.compile(r"^(?P<head>.*?)(?P<num>-?[0-9]+)(?P<tail>\.[^.]*)?$")


def has_tokens(path: str | Path) -> bool:
    """True if the file name of ``path`` contains a tile or frame token.

    >>> has_tokens("/t/a.<UDIM>.exr"), has_tokens("/t/a_%04d.png"), has_tokens("/t/a.png")
    (True, True, False)
    """
    return bool(_ANY_TOKEN.search(_basename(str(path))))


def _basename(text: str) -> str:
    """What follows the last ``/`` or ``\\`` (all of ``text`` when it has neither)."""
    return text[max(text.rfind("/"), text.rfind("\\")) + 1 :]


def _width_regex(width: str) -> str:
    """Digits for a frame field of ``width`` (padded): ``4`` → at least 4 digits."""
    if width in ("", "0", "1"):
        return r"(?:-?[0-9]+)"
    return "(?:-?[0-9]{" + str(int(width)) + ",})"


def pattern_regex(name: str) -> re.Pattern[str]:
    """A regular expression matching the file names a tokenized ``name`` stands for.

    Everything that is not a token is matched literally.

    >>> bool(pattern_regex("a.<UDIM>.exr").fullmatch("a.1001.exr"))
    True
    >>> bool(pattern_regex("a.####.exr").fullmatch("a.001.exr"))
    False
    >>> bool(pattern_regex("img_%04d.png").fullmatch("img_12345.png"))
    True
    """
    out: list[str] = []
    pos = 0
    for m in _ANY_TOKEN.finditer(name):
        out.append(re.escape(name[pos : m.start()]))
        token = m.group(0)
        if token.startswith("#"):
            out.append(_width_regex(str(len(token)) if len(token) > 1 else ""))
        elif token.startswith("%"):
            out.append(_width_regex(token[1:-1].lstrip("0")))
        elif token.startswith("$F"):
            out.append(_width_regex(token[2:]))
        else:
            for rx, replacement in _TOKEN_REGEX:
                if rx.fullmatch(token):
                    out.append(replacement)
                    break
        pos = m.end()
    out.append(re.escape(name[pos:]))
    return re.compile("".join(out))


def _list_dir(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if e.is_file()]
    except OSError:
        return []


def expand_pattern(path: str | Path) -> list[Path]:
    """Files on disk matching the tokens in the file name of ``path``, sorted.

    A path without tokens gives ``[path]`` if that file exists, else ``[]``.
    The folder is listed once, whatever the number of tiles or frames.

    >>> expand_pattern("/nonexistent/a.<UDIM>.exr")
    []
    """
    p = Path(path)
    if not has_tokens(p.name):
        return [p] if p.is_file() else []
    rx = pattern_regex(p.name)
    return sorted(p.parent / n for n in _list_dir(p.parent) if rx.fullmatch(n))


def find_sequence(path: str | Path) -> list[Path]:
    """The numbered siblings of ``path`` (its frame sequence), sorted; Maya ``useFrameExtension``.

    The frame number is the last run of digits before the extension
    (``a.0001.exr``, ``a_0001.exr``, ``a0001.exr``). Siblings share everything
    else and have a number of the same padding (or longer, past 9999). A name
    without a number gives ``[path]`` when it exists.

    >>> find_sequence("/nonexistent/a.0001.exr")
    []
    """
    p = Path(path)
    m = _LAST_NUMBER.match(p.name)
    if not m:
        return [p] if p.is_file() else []
    num = m.group("num").lstrip("-")
    # Zero-padded numbers fix the width; unpadded ones grow (9, 10, 11...).
    digits = "-?[0-9]{" + str(len(num)) + ",}" if num.startswith("0") else r"-?[0-9]+"
    rx = re.compile(re.escape(m.group("head")) + digits + re.escape(m.group("tail") or ""))
    found = sorted(p.parent / n for n in _list_dir(p.parent) if rx.fullmatch(n))
    if not found and p.is_file():
        return [p]
    return found


def tile_pattern(path: str, mode: int) -> str:
    """Turn a literal tile file name into its tokenized form, for Maya's ``uvTilingMode``.

    Maya stores one real tile (``wall.1001.exr``) and the mode: 0 off,
    1 ZBrush (``u0_v0``), 2 Mudbox (``u1_v1``), 3 Mari (UDIM ``1001``),
    4 explicit tiles (kept as written). Names already holding a token are
    returned unchanged.

    >>> tile_pattern("/t/wall.1001.exr", 3)
    '/t/wall.<UDIM>.exr'
    >>> tile_pattern("/t/skin_u1_v1.tif", 2)
    '/t/skin_<UVTILE>.tif'
    >>> tile_pattern("/t/skin_u0_v0.tif", 1)
    '/t/skin_u<U>_v<V>.tif'
    """
    base = _basename(path)
    folder = path[: len(path) - len(base)]
    if has_tokens(base):
        return path
    if mode == 3:
        matches = list(_LITERAL_UDIM.finditer(base))
        if matches:
            last = matches[-1]
            return folder + base[: last.start()] + "<UDIM>" + base[last.end() :]
    elif mode in (1, 2):
        matches = list(_LITERAL_UV_TILE.finditer(base))
        if matches:
            last = matches[-1]
            token = "<UVTILE>" if mode == 2 else "u<U>_v<V>"
            return folder + base[: last.start()] + token + base[last.end() :]
    return path
