"""Write a ``.max`` asset metadata stream (``FileAssetMetaData2``/``3``), to build test scenes.

The layout is the one :mod:`azrender_max.assetmeta` reads (and documents): per
record a GUID in Windows byte order, then the type, the stored file name and,
in version 3, the saved resolved path, each a ``uint32`` count of UTF-16 code
units, the UTF-16-LE text and one UTF-16 NUL.

>>> import uuid
>>> from azrender_max.assetmeta import AssetRecord, parse_asset_stream
>>> rec = AssetRecord(uuid.UUID(int=1), "Bitmap", "C:\\\\t\\\\a.png", "C:\\\\t\\\\a.png")
>>> parse_asset_stream(encode_asset_stream([rec], 3), 3) == [rec]
True
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from azrender_max.assetmeta import AssetRecord


def _encode_string(text: str) -> bytes:
    raw = text.encode("utf-16-le")
    return struct.pack("<I", len(raw) // 2) + raw + b"\x00\x00"


def encode_asset_stream(records: Iterable[AssetRecord], version: int) -> bytes:
    """The stream bytes for ``records``."""
    out = bytearray()
    for r in records:
        out += r.asset_id.bytes_le + _encode_string(r.type) + _encode_string(r.path)
        if version >= 3:
            out += _encode_string(r.resolved)
    return bytes(out)
