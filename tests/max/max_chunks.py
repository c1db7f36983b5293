"""A writer for the chunk tree of a ``.max`` file's ``Scene`` stream, to build old (3ds Max 9) scenes.

Layout as 3ds Max's ``ISave`` writes it and the public ``.max`` importers read it
(Blender's ``io_import_max``, libg3d's ``imp_max``): ``uint16`` id, ``int32``
size counting the 6-byte header, high bit set on containers; a bitmap's file
name is a ``0x1230`` leaf holding NUL-terminated UTF-16-LE text.

>>> leaf(0x1230, b"ab")
b'0\\x12\\x08\\x00\\x00\\x00ab'
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence

CONTAINER_BIT = 0x80000000
ROOT_NODE = 0x200B  # the root node id libg3d lists for the 3ds Max 8/9 generation
BITMAP_FILE_NAME = 0x1230


def leaf(chunk_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", chunk_id, 6 + len(data)) + data


def container(chunk_id: int, children: Sequence[bytes]) -> bytes:
    body = b"".join(children)
    return struct.pack("<HI", chunk_id, (6 + len(body)) | CONTAINER_BIT) + body


def wide(text: str) -> bytes:
    return (text + "\0").encode("utf-16-le")


def bitmap(path: str) -> bytes:
    """A bitmap texture's chunks: its file name, and the type string beside it."""
    return container(0x0003, [leaf(BITMAP_FILE_NAME, wide(path)), leaf(0x1240, wide("Bitmap"))])


def scene_stream(children: Sequence[bytes], *, compressed: bool = False) -> bytes:
    data = container(ROOT_NODE, children)
    return gzip.compress(data, mtime=0) if compressed else data
