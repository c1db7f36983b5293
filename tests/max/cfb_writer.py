"""A small writer for OLE compound files (MS-CFB, version 3), to build ``.max`` test scenes.

olefile reads compound files but cannot create them, so the tests write them
here, per [MS-CFB]: a 512-byte header, 512-byte sectors, a FAT, streams under
4096 bytes in the mini stream (64-byte mini sectors, MiniFAT), a directory of
128-byte entries whose siblings form a binary search tree ordered by name
length, then upper-cased name. Streams sit directly below the root storage,
as in a ``.max`` file. Also writes the ``DocumentSummaryInformation`` property
set 3ds Max fills (heading pairs and document parts).

>>> import olefile, io
>>> data = compound_file({"Scene": b"x" * 5000, "FileAssetMetaData3": b"abc"})
>>> ole = olefile.OleFileIO(io.BytesIO(data))
>>> ole.openstream("Scene").read() == b"x" * 5000, ole.openstream("FileAssetMetaData3").read()
(True, b'abc')
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping, Sequence

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
FMTID_DOC_SUMMARY = uuid.UUID("D5CDD502-2E9C-101B-9397-08002B2CF9AE")


def _ceil(n: int, size: int) -> int:
    return -(-n // size)


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\x00" * (-len(data) % size)


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN


def _dir_entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    assert len(raw) <= 64, name
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBB", len(raw), kind, 1)  # colour: black
        + struct.pack("<III", left, right, child)
        + b"\x00" * 16  # CLSID
        + b"\x00" * 4  # state bits
        + b"\x00" * 16  # creation and modification times
        + struct.pack("<IQ", start, size)
    )


def _tree(ids: Sequence[int]) -> tuple[int, dict[int, tuple[int, int]]]:
    """Balanced binary tree over sorted ``ids``: (root, {id: (left, right)})."""
    links: dict[int, tuple[int, int]] = {}

    def build(lo: int, hi: int) -> int:
        if lo >= hi:
            return NOSTREAM
        mid = (lo + hi) // 2
        links[ids[mid]] = (build(lo, mid), build(mid + 1, hi))
        return ids[mid]

    return build(0, len(ids)), links


def compound_file(streams: Mapping[str, bytes]) -> bytes:
    """The bytes of a compound file holding ``streams`` below its root storage."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    small = [n for n in names if len(streams[n]) < CUTOFF]
    large = [n for n in names if len(streams[n]) >= CUTOFF]

    # Mini stream and MiniFAT.
    mini_start: dict[str, int] = {}
    mini_stream = b""
    minifat: list[int] = []
    for n in small:
        count = _ceil(len(streams[n]), MINI)
        if count == 0:
            continue
        mini_start[n] = len(minifat)
        minifat.extend([0] * count)
        _chain(minifat, mini_start[n], count)
        mini_stream += _pad(streams[n], MINI)

    # Sector layout: large streams, mini stream, MiniFAT, directory, FAT.
    layout: list[tuple[str, bytes]] = [(n, streams[n]) for n in large]
    layout.append(("\x00mini", mini_stream))
    layout.append(("\x00minifat", b"".join(struct.pack("<I", x) for x in minifat)))
    entries = 1 + len(names)
    layout.append(("\x00dir", b"\x00" * (entries * 128)))
    starts: dict[str, int] = {}
    sector = 0
    for key, data in layout:
        count = _ceil(len(data), SECTOR)
        starts[key] = sector if count else ENDOFCHAIN
        sector += count
    data_sectors = sector
    fat_sectors = 1
    while data_sectors + fat_sectors > fat_sectors * (SECTOR // 4):
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("test compound files are limited to 109 FAT sectors (about 7 MB)")
    fat = [FREESECT] * (fat_sectors * (SECTOR // 4))
    for key, data in layout:
        count = _ceil(len(data), SECTOR)
        if count:
            _chain(fat, starts[key], count)
    for i in range(fat_sectors):
        fat[data_sectors + i] = FATSECT

    # Directory: root (id 0) then one entry per stream, ids in sorted order.
    ids = list(range(1, entries))
    root_child, links = _tree(ids)
    directory = _dir_entry(
        "Root Entry", 5, NOSTREAM, NOSTREAM, root_child, starts["\x00mini"], len(mini_stream)
    )
    for sid, n in zip(ids, names, strict=True):
        left, right = links[sid]
        size = len(streams[n])
        start = starts[n] if n in large else mini_start.get(n, ENDOFCHAIN)
        directory += _dir_entry(n, 2, left, right, NOSTREAM, start, size)

    body = {k: d for k, d in layout}
    body["\x00dir"] = directory
    out = bytearray()
    for key, _ in layout:
        out += _pad(body[key], SECTOR)
    out += b"".join(struct.pack("<I", x) for x in fat)

    difat = list(range(data_sectors, data_sectors + fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header = (
        SIGNATURE
        + b"\x00" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\x00" * 6
        + struct.pack(
            "<IIIIIIIII",
            0,
            fat_sectors,
            starts["\x00dir"],
            0,
            CUTOFF,
            starts["\x00minifat"] if minifat else ENDOFCHAIN,
            _ceil(len(minifat) * 4, SECTOR),
            ENDOFCHAIN,
            0,
        )
        + b"".join(struct.pack("<I", x) for x in difat)
    )
    assert len(header) == SECTOR
    return header + bytes(out)


def _lpstr(text: str, encoding: str = "utf-8") -> bytes:
    # 3ds Max counts the padding in the length (as the real files show).
    raw = _pad(text.encode(encoding) + b"\x00", 4)
    return struct.pack("<I", len(raw)) + raw


def doc_summary(groups: Mapping[str, Sequence[str]], *, codepage: int = 65001) -> bytes:
    """A ``DocumentSummaryInformation`` property set with 3ds Max's groups.

    Strings are VT_LPSTR in ``codepage`` (PID 1, a VT_I2), which [MS-OSHARED]
    2.3.3.2.2.1 requires and every string of the set shares: UTF-8 (65001) in
    current 3ds Max files, the ANSI code page (e.g. 1252) in old ones.
    """
    encoding = "utf-8" if codepage == 65001 else f"cp{codepage}"
    pairs = struct.pack("<II", 0x100C, 2 * len(groups))
    for name, items in groups.items():
        pairs += struct.pack("<I", 0x1E) + _lpstr(name, encoding) + struct.pack("<Ii", 3, len(items))
    parts_items = [item for items in groups.values() for item in items]
    parts = struct.pack("<II", 0x101E, len(parts_items)) + b"".join(
        _lpstr(i, encoding) for i in parts_items
    )
    signed = codepage - 0x10000 if codepage >= 0x8000 else codepage  # 65001 is -535 as a VT_I2
    codepage_value = struct.pack("<IhH", 2, signed, 0)
    values = [(1, codepage_value), (12, pairs), (13, parts)]
    offset = 8 + 8 * len(values)
    table = b""
    body = b""
    for pid, value in values:
        table += struct.pack("<II", pid, offset + len(body))
        body += _pad(value, 4)
    section = struct.pack("<II", 8 + len(table) + len(body), len(values)) + table + body
    header = struct.pack("<HHI", 0xFFFE, 0, 0x00020006) + b"\x00" * 16 + struct.pack("<I", 1)
    header += FMTID_DOC_SUMMARY.bytes_le + struct.pack("<I", 48)
    return header + section
