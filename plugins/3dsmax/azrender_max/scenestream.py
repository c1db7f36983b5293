"""Where an old scene's dependencies live: their full paths in the ``Scene`` stream.

A scene saved by 3ds Max 2009 or older has no asset metadata stream; its
document summary still names every file it depends on ("External
Dependencies", file names only, see :mod:`azrender_max.summary`), and the
``Scene`` stream holds the paths as the scene stores them. That stream is a
tree of chunks, as 3ds Max's ``ISave`` writes it (the layout read by the GPL
importers of ``.max`` files, e.g. Blender's ``io_import_max``, and libg3d's
``imp_max``): a ``uint16`` chunk id, an ``int32`` size that counts the 6-byte
header, with the high bit set when the chunk's data is more chunks; a size of
0 means a ``uint64`` size follows (a 14-byte header). A file name is a leaf
chunk (id ``0x1230`` under a bitmap) holding the text as UTF-16-LE, usually
NUL-terminated. "Compress on save" gzips the whole stream.

:func:`paths_for` finds, for each dependency name, every string chunk whose
text ends with that file name (case-insensitive: the summary lists names in
lower case), and keeps it only if the chunk header right before the text
says exactly that many bytes, so a match inside other data is never taken
for a path. 8-bit strings in the summary's code page are looked for too.

>>> import struct
>>> text = "D:\\\\maps\\\\Brick.TGA\\0".encode("utf-16-le")
>>> stream = struct.pack("<Hi", 0x1230, 6 + len(text)) + text
>>> paths_for(stream, ["brick.tga"])
{'brick.tga': ['D:\\\\maps\\\\Brick.TGA']}
"""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import Iterable
from pathlib import PureWindowsPath

from azrender_max.assetmeta import AssetRecord

GZIP_MAGIC = b"\x1f\x8b"
# Decompressing more than this is not a scene but a bomb; the paths are then not read.
MAX_SCENE_BYTES = 1 << 30
_HEADER = 6
_MAX_CHARS = 32767  # Windows' long-path limit: no path is longer
_SEPARATORS = "\\/:"
# Records read from an old scene's dependency list carry no asset id of their own.
SUMMARY_ID = uuid.UUID(int=0)
# Asset type per extension for an old scene's dependency names (the list says no type).
_BITMAP_SUFFIXES = frozenset(
    (".bmp", ".jpg", ".jpeg", ".png", ".tga", ".tif", ".tiff", ".exr", ".hdr", ".hdri", ".dds",
     ".gif", ".psd", ".ifl", ".cin", ".rla", ".rpf", ".tx", ".jp2", ".pic")
)
_OLD_TYPES = {".max": "XRef", ".maxc": "XRef", ".ies": "Photometric", ".wav": "Sound"}


def decompressed(data: bytes) -> bytes | None:
    """The stream's bytes, gunzipped when 3ds Max compressed it; None if that fails or is too large."""
    if not data.startswith(GZIP_MAGIC):
        return data
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflater.decompress(data, MAX_SCENE_BYTES)
    except zlib.error:
        return None
    return None if inflater.unconsumed_tail else out


def _name_pattern(name: str, width: int, encoding: str) -> re.Pattern[bytes] | None:
    parts: list[bytes] = []
    pad = b"\x00" * (width - 1)
    for ch in name:
        if ch.isascii() and ch.isalpha():
            parts.append(b"[" + ch.upper().encode() + ch.lower().encode() + b"]" + pad)
        else:
            try:
                raw = ch.encode("utf-16-le" if width == 2 else encoding)
            except (UnicodeEncodeError, LookupError):
                return None
            parts.append(re.escape(raw))
    return re.compile(b"".join(parts))


def _start_of_string(data: bytes, end: int, width: int) -> int:
    """Walk back from ``end`` over printable characters to where the string begins."""
    pos = end
    limit = max(0, end - _MAX_CHARS * width)
    while pos - width >= limit:
        unit = int.from_bytes(data[pos - width : pos], "little")
        if unit < 0x20:
            break
        pos -= width
    return pos


def _chunk_text(data: bytes, name_start: int, name_end: int, width: int) -> tuple[int, int] | None:
    """(start, end) of the string chunk that ends with the name at ``name_start``, if the header agrees."""
    if name_start % width:
        return None
    start = _start_of_string(data, name_start, width)
    if start < _HEADER:
        return None
    if start != name_start and chr(int.from_bytes(data[name_start - width : name_start], "little")) not in _SEPARATORS:
        return None  # "xbrick.tga" is not brick.tga
    nul = data[name_end : name_end + width] == b"\x00" * width
    (size,) = struct.unpack_from("<i", data, start - 4)
    length = name_end - start
    if size == _HEADER + length or (nul and size == _HEADER + length + width):
        return start, name_end
    return None


def paths_for(
    data: bytes, names: Iterable[str], *, encoding: str = "cp1252"
) -> dict[str, list[str]]:
    """For each name (case-folded key), the distinct full paths the stream's string chunks hold.

    ``data`` is the (decompressed) ``Scene`` stream; ``encoding`` is the code
    page of 8-bit strings (the summary's). A name no chunk holds is absent.
    """
    found: dict[str, list[str]] = {}
    for name in dict.fromkeys(n for n in names if n.strip()):
        paths: list[str] = []
        for width, codec in ((2, "utf-16-le"), (1, encoding)):
            pattern = _name_pattern(name, width, encoding)
            if pattern is None:
                continue
            for m in pattern.finditer(data):
                span = _chunk_text(data, m.start(), m.end(), width)
                if span is None:
                    continue
                try:
                    text = data[span[0] : span[1]].decode(codec)
                except (UnicodeDecodeError, LookupError):
                    continue
                if text not in paths:
                    paths.append(text)
        if paths:
            found[name.casefold()] = paths
    return found


def old_type(name: str) -> str:
    """The asset type an old scene's dependency most likely has, by its extension.

    >>> old_type("wall.TGA"), old_type("set.max"), old_type("tree.vrmesh")
    ('Bitmap', 'XRef', 'Other')
    """
    suffix = PureWindowsPath(name).suffix.lower()
    return "Bitmap" if suffix in _BITMAP_SUFFIXES else _OLD_TYPES.get(suffix, "Other")


def dependency_records(
    names: Iterable[str], scene: bytes | None, *, encoding: str = "cp1252"
) -> list[AssetRecord]:
    """One record per full path the ``scene`` stream holds for each name, else the bare name."""
    unique = list(dict.fromkeys(names))
    full = paths_for(scene, unique, encoding=encoding) if scene else {}
    return [
        AssetRecord(SUMMARY_ID, old_type(name), written)
        for name in unique
        for written in full.get(name.casefold(), [name])
    ]
