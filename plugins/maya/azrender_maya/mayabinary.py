"""A reader for Maya binary (``.mb``) files: IFF forms and chunks, into a :class:`MayaScene`.

The layout, as the real files in ``shared/fixtures`` show it:

* The file is one ``FOR4`` (32-bit, Maya ≤ 2013) or ``FOR8`` (64-bit) form of
  type ``Maya``. A chunk header is a 4-byte tag and a big-endian size: 4 bytes
  in ``FOR4`` files; in ``FOR8`` files 4 bytes Maya leaves unused, then 8
  bytes of size. Chunk data is padded to 4 (``FOR4``) or 8 (``FOR8``) bytes
  counted from the start of the data; a form's size already covers its
  4-byte type and padded children.
* Group chunks are ``FOR*`` (form), ``LIS*`` (list) and ``CAT*``; their data
  starts with a 4-byte type, then child chunks.
* The ``HEAD`` form carries the version (``VERS``), file info (``FINF``:
  key and value), plug-ins (``PLUG``: name, version, requirements, then for
  each node type the plug-in defines, its name and 4-byte type id) and file
  references (``FREF``: path, namespace, reference node, file type).
* Every other form is one node: its type is the form's type id (``RTFT`` is
  ``file``; plug-in node types use the ids ``PLUG`` declared), ``CREA``
  creates it (a flag byte, the name, the parent name), ``STR `` sets a string
  attribute (attribute name, a flag byte, the value), all NUL-terminated.

>>> iff_chunk(b"STR ", b"ftn\\x00 a.png\\x00", 8)[:16]
b'STR \\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\r'
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from azrender_maya.mel import MayaNode, MayaReference, MayaScene

GROUP_TAGS = frozenset({b"FOR4", b"FOR8", b"LIS4", b"LIS8", b"CAT4", b"CAT8"})

# Built-in node type ids seen in Maya-written files (the form type of a node).
# Plug-in node types are not listed: each file declares them in its PLUG chunks.
BUILTIN_TYPE_IDS: dict[bytes, str] = {
    b"RTFT": "file",
    b"RFRN": "reference",
    b"XFRM": "transform",
    b"DCAM": "camera",
    b"DMSH": "mesh",
    b"SCRP": "script",
    b"RLAM": "lambert",
    b"RPL2": "place2dTexture",
    b"SHAD": "shadingEngine",
    b"DMTI": "materialInfo",
}


class MayaBinaryError(ValueError):
    """The bytes are not a well-formed Maya binary file."""


@dataclass(frozen=True)
class Chunk:
    """One chunk: ``tag``, its data, and for groups the group type (else ``b""``)."""

    tag: bytes
    data: bytes
    group_type: bytes = b""


def iff_chunk(tag: bytes, data: bytes, align: int) -> bytes:
    """Encode one data chunk as Maya writes it (used by tests to build .mb files)."""
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


def _walk(data: bytes, start: int, end: int, align: int) -> Iterator[tuple[Chunk, int, int]]:
    """Yield (chunk, children start, children end) for the chunks between ``start`` and ``end``."""
    header = 16 if align == 8 else 8
    off = start
    while off < end:
        if off + header > end:
            raise MayaBinaryError(f"chunk header at byte {off} runs past the end of its form")
        tag = data[off : off + 4]
        if align == 8:
            (size,) = struct.unpack_from(">Q", data, off + 8)
        else:
            (size,) = struct.unpack_from(">I", data, off + 4)
        body = off + header
        if body + size > end:
            raise MayaBinaryError(
                f"chunk {tag!r} at byte {off} claims {size} bytes, only {end - body} are left"
            )
        if tag in GROUP_TAGS:
            if size < 4:
                raise MayaBinaryError(f"group chunk {tag!r} at byte {off} has no type")
            yield Chunk(tag, b"", data[body : body + 4]), body + 4, body + size
            off = body + size
            if align == 4:
                off += -size % 4
        else:
            yield Chunk(tag, data[body : body + size]), 0, 0
            off = body + size + (-size % align)


def _cstrings(data: bytes) -> list[bytes]:
    return data.split(b"\x00")


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _plug_types(data: bytes) -> dict[bytes, str]:
    """Node type ids a ``PLUG`` chunk declares: after name, version and requirements,
    each type is its name, NUL, and a 4-byte id."""
    found: dict[bytes, str] = {}
    parts = data.split(b"\x00", 3)
    if len(parts) < 4:
        return found
    rest = parts[3]
    while rest:
        nul = rest.find(b"\x00")
        if nul <= 0 or nul + 5 > len(rest):
            break
        found[rest[nul + 1 : nul + 5]] = _text(rest[:nul])
        rest = rest[nul + 5 :]
    return found


def parse_mb(data: bytes) -> MayaScene:
    """Read a Maya binary file's bytes into a :class:`MayaScene`.

    Raises :class:`MayaBinaryError` when the bytes are not a Maya IFF file or
    the chunk structure is broken (truncated, sizes past the end).
    """
    if len(data) < 12 or data[:4] not in (b"FOR4", b"FOR8"):
        raise MayaBinaryError("it does not start with a FOR4/FOR8 IFF form")
    align = 8 if data[:4] == b"FOR8" else 4
    top = list(_walk(data, 0, len(data), align))
    if not top or top[0][0].group_type != b"Maya":
        raise MayaBinaryError("its top form is not of type 'Maya'")
    scene = MayaScene()
    type_names = dict(BUILTIN_TYPE_IDS)
    _, start, end = top[0]
    for chunk, cstart, cend in _walk(data, start, end, align):
        if not chunk.group_type:
            continue
        children = [c for c, _, _ in _walk(data, cstart, cend, align)]
        if chunk.group_type == b"HEAD":
            _read_head(scene, children, type_names)
        elif chunk.tag[:3] == b"FOR":
            _read_node(scene, chunk.group_type, children, type_names)
    return scene


def _read_head(scene: MayaScene, children: list[Chunk], type_names: dict[bytes, str]) -> None:
    for c in children:
        parts = _cstrings(c.data)
        if c.tag == b"FINF" and len(parts) >= 2:
            scene.file_info[_text(parts[0])] = _text(parts[1])
        elif c.tag == b"PLUG" and len(parts) >= 2:
            scene.requires.append((_text(parts[0]), _text(parts[1])))
            type_names.update(_plug_types(c.data))
        elif c.tag == b"FREF" and parts and parts[0]:
            scene.references.append(
                MayaReference(
                    path=_text(parts[0]),
                    namespace=_text(parts[1]) if len(parts) > 1 else "",
                    reference_node=_text(parts[2]) if len(parts) > 2 else "",
                    file_type=_text(parts[3]) if len(parts) > 3 else "",
                )
            )


def _read_node(
    scene: MayaScene, type_id: bytes, children: list[Chunk], type_names: dict[bytes, str]
) -> None:
    node: MayaNode | None = None
    for c in children:
        if c.tag == b"CREA" and len(c.data) > 1:
            name = _text(_cstrings(c.data[1:])[0])
            node = MayaNode(type_names.get(type_id, type_id.hex()), name)
            scene.nodes.append(node)
        elif c.tag == b"STR " and node is not None:
            attr, _, rest = c.data.partition(b"\x00")
            if rest:
                node.attrs[_text(attr)] = _text(rest[1:].split(b"\x00", 1)[0])
