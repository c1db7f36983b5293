"""The asset metadata stream of a ``.max`` file: which files the scene's asset manager tracks.

Since 3ds Max 2010 a scene file (an OLE compound file) carries its assets in a
stream of its own so that tools can list and repath them without 3ds Max
(MAXScript's ``getMAXFileAssetMetadata`` reads the same data). The stream is
``FileAssetMetaData2``, and ``FileAssetMetaData3`` in newer files. Each record,
little-endian, one after the other until the end of the stream:

==========  ===========================================================
bytes       field
==========  ===========================================================
16          asset id, a GUID (Windows byte order)
string      asset type (``Bitmap``, ``XRef``, ``Photometric``, ...)
string      file name as the scene stores it
string      (``FileAssetMetaData3`` only) the full path the file was
            resolved to when the scene was saved, often empty
==========  ===========================================================

A *string* is a ``uint32`` count of UTF-16 code units, the UTF-16-LE text and
one UTF-16 NUL (not counted). This is what the real files in
``shared/fixtures/real/BabylonJS__Exporters`` contain (3ds Max 2017 to 2019).

>>> name = struct.pack("<I", 5) + "a.png".encode("utf-16-le") + b"\\x00\\x00"
>>> kind = struct.pack("<I", 6) + "Bitmap".encode("utf-16-le") + b"\\x00\\x00"
>>> parse_asset_stream(uuid.UUID(int=1).bytes_le + kind + name, 2)[0].path
'a.png'
"""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass

STREAM_PREFIX = "FileAssetMetaData"
# The versions this reader knows; a higher one is a newer 3ds Max's format.
KNOWN_VERSIONS = (2, 3)
_STREAM_NAME = re.compile(r"FileAssetMetaData([0-9]+)")
# A path longer than this is not a path but corruption (Windows' long-path limit).
_MAX_CHARS = 32767


class AssetStreamError(ValueError):
    """The stream's bytes do not follow the record layout (truncated or corrupt)."""


@dataclass(frozen=True)
class AssetRecord:
    """One tracked asset: id, type name, stored file name and saved resolved path."""

    asset_id: uuid.UUID
    type: str
    path: str
    resolved: str = ""


def stream_version(name: str) -> int | None:
    """The version of an asset metadata stream name, else None.

    >>> stream_version("FileAssetMetaData3"), stream_version("Scene")
    (3, None)
    """
    m = _STREAM_NAME.fullmatch(name)
    return int(m.group(1)) if m else None


def _read_string(data: bytes, off: int) -> tuple[str, int]:
    if off + 4 > len(data):
        raise AssetStreamError(f"string length at byte {off} runs past the end")
    (count,) = struct.unpack_from("<I", data, off)
    if count > _MAX_CHARS:
        raise AssetStreamError(f"string at byte {off} claims {count} characters")
    start = off + 4
    end = start + 2 * count
    if end + 2 > len(data):
        raise AssetStreamError(f"string at byte {off} ({count} characters) runs past the end")
    if data[end : end + 2] != b"\x00\x00":
        raise AssetStreamError(f"string at byte {off} is not NUL-terminated")
    try:
        text = data[start:end].decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise AssetStreamError(f"string at byte {off} is not UTF-16: {exc.reason}") from None
    return text, end + 2


def parse_asset_stream(data: bytes, version: int) -> list[AssetRecord]:
    """Every record of a ``FileAssetMetaData<version>`` stream.

    Raises :class:`AssetStreamError` when the bytes stop inside a record or a
    string is implausible; the loop always advances, so it ends.
    """
    if version not in KNOWN_VERSIONS:
        raise AssetStreamError(f"unknown asset metadata version {version}")
    records: list[AssetRecord] = []
    off = 0
    while off < len(data):
        if off + 16 > len(data):
            raise AssetStreamError(f"asset id at byte {off} runs past the end")
        asset_id = uuid.UUID(bytes_le=data[off : off + 16])
        kind, off = _read_string(data, off + 16)
        path, off = _read_string(data, off)
        resolved = ""
        if version >= 3:
            resolved, off = _read_string(data, off)
        records.append(AssetRecord(asset_id, kind, path, resolved))
    return records

