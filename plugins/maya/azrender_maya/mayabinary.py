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
  It also carries the units (``LUNI``, ``AUNI``, ``TUNI``: the same names as
  ``currentUnit``) and ``TDUR``, the number of time ticks in one second.
* Every other form is one node: its type is the form's type id (``RTFT`` is
  ``file``; plug-in node types use the ids ``PLUG`` declared), ``CREA``
  creates it (a flag byte, the name, the parent name), ``STR `` sets a string
  attribute (attribute name, a flag byte, the value), all NUL-terminated.
* ``SLCT`` forms set attributes on a node that already exists (``.ma``'s
  ``select -ne :defaultRenderGlobals``): their ``SLCT`` chunk names it.
* Numbers: ``DBLE`` (attribute name, a flag byte, big-endian 8-byte doubles),
  ``FLT `` (4-byte floats) and ``INT `` (4-byte signed). Maya writes most
  scalars, booleans included, as one ``DBLE``. *Time* attributes are the
  exception: their ``DBLE`` holds a signed 8-byte integer count of ticks
  (``:time1.o`` at frame 1 in ``film`` is 5880000 = 141120000 / 24 in every
  real file), which :func:`parse_mb` turns into frames of the scene's time
  unit, the number ``.ma`` writes.

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
    b"RNDL": "renderLayer",
    b"RNLM": "renderLayerManager",
    b"DSPL": "displayLayer",
    b"DPLM": "displayLayerManager",
}

# (node name, attribute) pairs whose DBLE holds ticks, not a double. Only the
# shared nodes a submitter reads: other time plugs do not matter to azrender.
TIME_PLUGS = frozenset(
    (node, attr)
    for node in ("time1", "defaultRenderGlobals")
    for attr in (
        "o", "outTime", "unw", "unwarpedTime",
        "fs", "startFrame", "ef", "endFrame", "bfs", "byFrameStep",
    )
)  # fmt: skip

# Maya's tick before 2019-ish files carried TDUR: 6000 per second.
DEFAULT_TICKS_PER_SECOND = 6000


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
    clock = _Clock()
    _, start, end = top[0]
    for chunk, cstart, cend in _walk(data, start, end, align):
        if not chunk.group_type:
            continue
        children = [c for c, _, _ in _walk(data, cstart, cend, align)]
        if chunk.group_type == b"HEAD":
            _read_head(scene, children, type_names, clock)
        elif chunk.group_type == b"SLCT":
            _read_select(scene, children, clock)
        elif chunk.tag[:3] == b"FOR":
            _read_node(scene, chunk.group_type, children, type_names, clock)
    return scene


@dataclass
class _Clock:
    """What turns a tick count into frames: ticks per second and the time unit's rate."""

    ticks_per_second: int = DEFAULT_TICKS_PER_SECOND
    unit: str = "film"

    def frames(self, ticks: int) -> float:
        return ticks * fps(self.unit) / self.ticks_per_second


_FPS_NAMES = {
    "game": 15.0,
    "film": 24.0,
    "pal": 25.0,
    "ntsc": 30.0,
    "show": 48.0,
    "palf": 50.0,
    "ntscf": 60.0,
    "29.97df": 30000 / 1001,
    "hour": 1 / 3600,
    "min": 1 / 60,
    "sec": 1.0,
    "millisec": 1000.0,
}


def fps(unit: str) -> float:
    """Frames per second of a Maya time unit (``currentUnit -t``): names and ``<N>fps``.

    >>> fps("film"), fps("ntsc"), round(fps("23.976fps"), 3), fps("120fps")
    (24.0, 30.0, 23.976, 120.0)

    Raises :class:`ValueError` for a name Maya does not write.
    """
    if unit in _FPS_NAMES:
        return _FPS_NAMES[unit]
    if unit.endswith("fps"):
        rate = float(unit[:-3])
        if rate > 0:
            return rate
    raise ValueError(f"unknown Maya time unit {unit!r}")


def _read_head(
    scene: MayaScene, children: list[Chunk], type_names: dict[bytes, str], clock: _Clock
) -> None:
    for c in children:
        parts = _cstrings(c.data)
        if c.tag in _UNIT_TAGS and parts[0]:
            scene.units[_UNIT_TAGS[c.tag]] = _text(parts[0])
            if c.tag == b"TUNI":
                clock.unit = _text(parts[0])
        elif c.tag == b"TDUR" and parts[0].isdigit() and int(parts[0]) > 0:
            clock.ticks_per_second = int(parts[0])
        elif c.tag == b"FINF" and len(parts) >= 2:
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


_UNIT_TAGS = {b"LUNI": "linear", b"AUNI": "angle", b"TUNI": "time"}

# Numeric chunk tag -> struct format of one value.
_SCALARS = {b"DBLE": ">d", b"FLT ": ">f", b"INT ": ">i"}


def _number_text(value: float) -> str:
    """A number as ``.ma`` writes it: integral values without a decimal point."""
    return str(int(value)) if value.is_integer() else repr(value)


def _set_attrs(node: MayaNode, c: Chunk, clock: _Clock) -> None:
    """Apply one attribute chunk (``STR ``, ``DBLE``, ``FLT ``, ``INT ``) to ``node``."""
    attr_raw, _, rest = c.data.partition(b"\x00")
    if not rest:
        return
    attr = _text(attr_raw)
    if c.tag == b"STR ":
        node.attrs[attr] = _text(rest[1:].split(b"\x00", 1)[0])
        return
    fmt = _SCALARS.get(c.tag)
    payload = rest[1:]
    # Only single values, like .ma's one-word setAttr: arrays are not settings.
    if fmt is None or len(payload) != struct.calcsize(fmt):
        return
    if c.tag == b"DBLE" and (node.name.lstrip(":"), attr) in TIME_PLUGS:
        (ticks,) = struct.unpack(">q", payload)
        node.attrs[attr] = _number_text(clock.frames(ticks))
        return
    (value,) = struct.unpack(fmt, payload)
    node.attrs[attr] = _number_text(float(value))


def _read_select(scene: MayaScene, children: list[Chunk], clock: _Clock) -> None:
    """A ``SLCT`` form: attributes set on an existing (shared) node such as ``:time1``."""
    node: MayaNode | None = None
    for c in children:
        if c.tag == b"SLCT" and c.data:
            name = _text(c.data.split(b"\x00", 1)[0])
            node = scene.node(name)
            if node is None:
                node = MayaNode("", name)
                scene.nodes.append(node)
        elif node is not None:
            _set_attrs(node, c, clock)


def _read_node(
    scene: MayaScene,
    type_id: bytes,
    children: list[Chunk],
    type_names: dict[bytes, str],
    clock: _Clock,
) -> None:
    node: MayaNode | None = None
    for c in children:
        if c.tag == b"CREA" and len(c.data) > 1:
            name = _text(_cstrings(c.data[1:])[0])
            node = MayaNode(type_names.get(type_id, type_id.hex()), name)
            scene.nodes.append(node)
        elif node is not None:
            _set_attrs(node, c, clock)
