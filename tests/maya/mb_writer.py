"""Write Maya binary (``.mb``) chunks and forms, to build test scenes for the reader.

The layout is the one :mod:`azrender_maya.mayabinary` reads (and documents):
a chunk is a 4-byte tag and a big-endian size (4 bytes in ``FOR4`` files; 4
unused bytes then 8 of size in ``FOR8`` files), its data padded to the
alignment; a group chunk's data starts with its 4-byte type.

>>> iff_chunk(b"STR ", b"ftn\\x00 a.png\\x00", 8)[:16]
b'STR \\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x0b'
"""

from __future__ import annotations

import struct


def iff_chunk(tag: bytes, data: bytes, align: int) -> bytes:
    """Encode one data chunk as Maya writes it."""
    if align == 8:
        header = tag + b"\x00\x00\x00\x00" + struct.pack(">Q", len(data))
    else:
        header = tag + struct.pack(">I", len(data))
    return header + data + b"\x00" * (-len(data) % align)


def iff_form(tag: bytes, group_type: bytes, children: bytes, align: int) -> bytes:
    """Encode a group chunk (``FOR8``/``FOR4``...) around already-encoded ``children``."""
    body = group_type + children
    if align == 8:
        return tag + b"\x00\x00\x00\x00" + struct.pack(">Q", len(body)) + body
    return tag + struct.pack(">I", len(body)) + body + b"\x00" * (-len(body) % align)
