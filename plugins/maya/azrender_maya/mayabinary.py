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

>>> fps("ntsc"), fps("film")
(30.0, 24.0)
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


def _walk(data: bytes, start: int, end: int, align: int) -> Iterator[tuple[bytes, int, int, bytes]]:
    """Yield (tag, start, end, group type) for the chunks between ``start`` and ``end``.

    For a group chunk, start and end delimit its children and the group type is
    its 4-byte type; for a data chunk they delimit its data and the group type
    is ``b""``. No data is copied: callers slice only the chunks they read.
    """
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
            yield tag, body + 4, body + size, data[body : body + 4]
            off = body + size
            if align == 4:
                off += -size % 4
        else:
            yield tag, body, body + size, b""
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
    if not top or top[0][3] != b"Maya":
        raise MayaBinaryError("its top form is not of type 'Maya'")
    reader = _Reader(data, type_names=dict(BUILTIN_TYPE_IDS))
    _, start, end, _ = top[0]
    for tag, cstart, cend, group_type in _walk(data, start, end, align):
        if not group_type:
            continue
        children = list(_walk(data, cstart, cend, align))
        if group_type == b"HEAD":
            chunks = [Chunk(t, b"" if g else data[a:b], g) for t, a, b, g in children]
            _read_head(reader.scene, chunks, reader.type_names, reader.clock)
        elif group_type == b"SLCT":
            reader.select(children)
        elif tag[:3] == b"FOR":
            reader.node(group_type, children)
    return reader.scene


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


# The chunk tags that set an attribute value (see _set_attrs); a node's other chunks are skipped.
_ATTR_TAGS = frozenset({b"STR ", *_SCALARS})


def _set_attrs(node: MayaNode, tag: bytes, data: bytes, clock: _Clock) -> None:
    """Apply one attribute chunk (``STR ``, ``DBLE``, ``FLT ``, ``INT ``) to ``node``."""
    attr_raw, _, rest = data.partition(b"\x00")
    if not rest:
        return
    attr = _text(attr_raw)
    if tag == b"STR ":
        node.attrs[attr] = _text(rest[1:].split(b"\x00", 1)[0])
        return
    fmt = _SCALARS.get(tag)
    payload = rest[1:]
    # Only single values, like .ma's one-word setAttr: arrays are not settings.
    if fmt is None or len(payload) != struct.calcsize(fmt):
        return
    if tag == b"DBLE" and (node.name.lstrip(":"), attr) in TIME_PLUGS:
        (ticks,) = struct.unpack(">q", payload)
        node.attrs[attr] = _number_text(clock.frames(ticks))
        return
    (value,) = struct.unpack(fmt, payload)
    node.attrs[attr] = _number_text(float(value))


class _Reader:
    """The scene being read, with a name index: ``node(name)`` of :class:`MayaScene`
    (the last node with that name) without walking the node list."""

    def __init__(self, data: bytes, type_names: dict[bytes, str]) -> None:
        self.data = data
        self.scene = MayaScene()
        self.type_names = type_names
        self.clock = _Clock()
        self._by_name: dict[str, MayaNode] = {}

    def _add(self, node: MayaNode) -> MayaNode:
        self.scene.nodes.append(node)
        self._by_name[node.name.lstrip(":")] = node
        return node

    def select(self, children: list[tuple[bytes, int, int, bytes]]) -> None:
        """A ``SLCT`` form: attributes set on an existing (shared) node such as ``:time1``."""
        data = self.data
        node: MayaNode | None = None
        for tag, start, end, group_type in children:
            if group_type:
                continue
            if tag == b"SLCT" and end > start:
                name = _text(data[start:end].split(b"\x00", 1)[0])
                node = self._by_name.get(name.lstrip(":")) or self._add(MayaNode("", name))
            elif node is not None and tag in _ATTR_TAGS:
                _set_attrs(node, tag, data[start:end], self.clock)

    def node(self, type_id: bytes, children: list[tuple[bytes, int, int, bytes]]) -> None:
        """A node's form: ``CREA`` creates it, attribute chunks set its values."""
        data = self.data
        node: MayaNode | None = None
        for tag, start, end, group_type in children:
            if group_type:
                continue
            if tag == b"CREA" and end - start > 1:
                name = _text(data[start + 1 : end].split(b"\x00", 1)[0])
                node = self._add(MayaNode(self.type_names.get(type_id, type_id.hex()), name))
            elif node is not None and tag in _ATTR_TAGS:
                _set_attrs(node, tag, data[start:end], self.clock)
