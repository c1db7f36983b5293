"""The blocks a scene really uses: every ID of the scene's file, and in each linked library only what is reached.

The same walk as blender-asset-tracer's ``trace/file2blocks.py`` and
``trace/expanders.py`` (which the scanner used before this reader), so the two
agree block for block:

* the scene's own file: every block but ``DATA``, in file order, *not*
  expanded (all of them are visited anyway, and what the expansion reaches
  in one file holds no asset of its own; the scanner dropped that walk from
  BAT for the same reason);
* an ``ID`` block stands for data linked from a library: it is set aside per
  library path (its ``lib`` pointer's ``Library.name``, made absolute from the
  linking file's folder), and the ``Library`` block is visited;
* then each library that exists, in the order first linked, is opened and
  only the blocks named by those ``ID`` blocks are visited, each expanded
  into what it points to (materials, node trees and their images, objects of
  collections, ...), lowest file offset first, each block once; libraries
  linked from there are followed the same way.

Node trees are followed through both ``compositing_node_group`` (where
Blender 5.0 moved the *scene's* compositor) and ``nodetree`` (materials,
worlds, lights and textures kept it), which BAT 1.23 gets wrong for 5.0 files.
Constants are Blender's, as BAT's ``cdefs.py`` copies them (DNA_node_types.h,
DNA_object_types.h, DNA_sequence_types.h, DNA_ID.h, DNA_particle_types.h).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import BlendError, NoField
from .file import BlendFile, Block, listbase
from .paths import blend_absolute, make_absolute, to_path

_CMP_NODE_R_LAYERS = 221
_SOCKETS_WITH_ID = {8, 9, 11, 12, 13}  # SOCK_OBJECT, IMAGE, COLLECTION, TEXTURE, MATERIAL
_IDP_ID = 7
_OB_DUPLIGROUP = 1 << 8
_PART_DRAW_OB, _PART_DRAW_GR = 7, 8
_SEQ_META = 1
_MOD_NODES = 57
_STRIP_ID_FIELD = {2: b"scene", 6: b"clip", 7: b"mask", 4: b"sound"}  # SCENE, MOVIECLIP, MASK, SOUND_RAM

Found = Iterator[Block | None]


def _animdata(block: Block) -> Found:
    adt = block.deref(b"adt")
    if adt is not None:
        yield adt.deref(b"action")


def _materials(block: Block) -> Found:
    count = block.integer(b"totcol")
    if count == 0:
        return
    array = block.deref(b"mat")
    if array is None:
        raise BlendError(block.file.path, f"{block.type_name} has {count} materials and no material array")
    yield from array.pointers(count)


def _mtex(block: Block) -> Found:
    if not block.has(b"mtex"):  # texture slots were removed in Blender 2.8
        return
    field = block.field(b"mtex")
    for i in range(field.size // block.file.pointer_size):
        mtex = block.file.at(block.pointer_at(field.offset + block.file.pointer_size * i))
        if mtex is not None:
            yield mtex.deref(b"tex")
            yield mtex.deref(b"object")


def nodetree(ntree: Block) -> Found:
    """What a node tree's nodes use: each node's ``id`` and the IDs in its input sockets' values."""
    if ntree.struct.name == b"ID":  # a linked node tree
        yield ntree
        return
    if ntree.struct.name != b"bNodeTree":
        raise BlendError(ntree.file.path, f"a node tree pointer leads to a {ntree.type_name}")
    for node in listbase(ntree.deref(b"nodes", b"first")):
        if node.integer(b"type") == _CMP_NODE_R_LAYERS:
            continue
        yield node.deref(b"id")
        for socket in listbase(node.deref(b"inputs", b"first")):
            if socket.integer(b"type") not in _SOCKETS_WITH_ID:
                continue
            value = socket.deref(b"default_value")
            if value is not None:
                yield value.deref(b"value")


def _nodetree_of(block: Block) -> Found:
    for name in (b"compositing_node_group", b"nodetree"):
        if block.has(name):
            ntree = block.deref(name)
            if ntree is not None:
                yield from nodetree(ntree)


def modifiers(obj: Block) -> Iterator[Block]:
    """The object's modifiers, each as its own struct (``NodesModifierData``...)."""
    return listbase(obj.deref(b"modifiers", b"first"), b"modifier", b"next")


def _idprops(modifier: Block) -> Found:
    props = modifier.deref(b"settings", b"properties")
    if props is None:
        return
    for prop in listbase(props.deref(b"data", b"group", b"first")):
        if prop.integer(b"type") == _IDP_ID:
            yield prop.deref(b"data", b"pointer")


def _group(block: Block) -> Found:
    for item in listbase(block.deref(b"gobject", b"first")):
        yield item.deref(b"ob")
    try:
        children = block.deref(b"children", b"first")
    except NoField:  # child collections came with Blender 2.8
        return
    for child in listbase(children):
        sub = child.deref(b"collection")
        if sub is None:
            continue
        if sub.struct.name == b"ID":
            yield sub
            continue
        yield from _group(sub)


def _object(block: Block) -> Found:
    yield from _animdata(block)
    yield from _materials(block)
    yield block.deref(b"data")
    if block.integer(b"transflag") & _OB_DUPLIGROUP:
        yield block.deref(b"dup_group")
    yield block.deref(b"proxy")
    yield block.deref(b"proxy_group")
    pose = block.deref(b"pose")
    if pose is not None:
        for channel in listbase(pose.deref(b"chanbase", b"first")):
            yield channel.deref(b"custom")
    for system in listbase(block.deref(b"particlesystem", b"first")):
        yield system.deref(b"part")
    for modifier in modifiers(block):
        if modifier.integer(b"modifier", b"type") == _MOD_NODES:
            yield from _idprops(modifier)
            yield modifier.deref(b"node_group")


def strips(editor: Block) -> Iterator[tuple[Block, int]]:
    """Every sequencer strip of a ``SequenceEditor`` with its type, meta strips' contents included."""

    def of(first: Block | None) -> Iterator[tuple[Block, int]]:
        for item in listbase(first):
            if b"Sequence" not in item.file.sdna.index_of:
                raise BlendError(item.file.path, "its SDNA has no struct Sequence (sequencer strips)")
            strip = item.refined(b"Sequence")
            kind = strip.integer(b"type")
            yield strip, kind
            if kind == _SEQ_META:
                yield from of(strip.deref(b"seqbase", b"first"))

    yield from of(editor.deref(b"seqbase", b"first"))


def _scene(block: Block) -> Found:
    yield from _animdata(block)
    yield from _nodetree_of(block)
    yield block.deref(b"camera")
    yield block.deref(b"world")
    yield block.deref_or_none(b"set")
    yield block.deref_or_none(b"clip")
    for base in listbase(block.deref(b"base", b"first")):
        yield base.deref(b"object")
    editor = block.deref(b"ed")
    if editor is None:
        return
    for strip, kind in strips(editor):
        field = _STRIP_ID_FIELD.get(kind)
        if field is not None:
            yield strip.deref(field)


def _particles(block: Block) -> Found:
    yield from _animdata(block)
    yield from _mtex(block)
    draw_as = block.integer(b"ren_as")
    if draw_as == _PART_DRAW_GR:
        yield block.deref(b"dup_group")
    elif draw_as == _PART_DRAW_OB:
        yield block.deref(b"dup_ob")


def _curve(block: Block) -> Found:
    yield from _animdata(block)
    yield from _materials(block)
    for name in (b"vfont", b"vfontb", b"vfonti", b"vfontbi", b"bevobj", b"taperobj", b"textoncurve"):
        yield block.deref(name)


def _material(block: Block) -> Found:
    yield from _animdata(block)
    yield from _nodetree_of(block)
    yield from _mtex(block)
    yield block.deref_or_none(b"group")  # material groups were removed in Blender 2.8


def _chain(*parts: Callable[[Block], Found]) -> Callable[[Block], Found]:
    return lambda block: itertools.chain.from_iterable(part(block) for part in parts)


_EXPANDERS: dict[bytes, Callable[[Block], Found]] = {
    b"AR": _animdata,
    b"CU": _curve,
    b"GR": _group,
    b"LA": _chain(_animdata, _nodetree_of, _mtex),
    b"MA": _material,
    b"MB": _chain(_animdata, _materials),
    b"ME": _chain(_animdata, _materials, lambda b: iter([b.deref(b"texcomesh")])),
    b"NT": _chain(_animdata, nodetree),
    b"OB": _object,
    b"PA": _particles,
    b"SC": _scene,
    b"TE": _chain(_animdata, _nodetree_of, lambda b: iter([b.deref(b"ima")])),
    b"WO": _chain(_animdata, _nodetree_of, _mtex),
}


def expand(block: Block) -> Iterator[Block]:
    """The blocks ``block`` uses (BAT's ``expanders.expand_block``)."""
    expander = _EXPANDERS.get(block.code)
    if expander is not None:
        yield from (found for found in expander(block) if found is not None)


class Walk:
    """One scan's walk: the scene's file, then the libraries, each block yielded once."""

    def __init__(self, top: BlendFile, open_library: Callable[[Path], BlendFile],
                 top_codes: set[bytes] | None = None, top_skip: set[int] | frozenset[int] = frozenset()) -> None:
        """Walk from ``top``; ``top_codes`` limits its blocks to those codes (and ``ID``), ``top_skip`` leaves those out.

        The scene's own blocks are not expanded, so one whose code nothing
        reads, or that the caller knows holds nothing it reads, changes nothing
        when left out (the caller says which).
        """
        self.top = top
        self._top_codes = None if top_codes is None else {*top_codes, b"ID"}
        self._top_skip = top_skip
        self._open = open_library
        self._seen: dict[Path, set[int]] = {}
        self._tick = itertools.count()

    def blocks(self) -> Iterator[Block]:
        top = self.top
        if top.has_code(b"ID"):
            ids = top.ids(self._top_codes, self._top_skip)
            yield from self._file(top, [(block.offset, next(self._tick), block) for block in ids])
            return
        # Nothing linked: the scene's file is its own blocks once each, in file order (what the queue would
        # give); made one at a time, so each block and the data it read go once it is passed on.
        seen = self._seen.setdefault(make_absolute(top.path), set())
        for block in top.ids(self._top_codes, self._top_skip):
            if block.addr not in seen:
                seen.add(block.addr)
                yield block

    def _file(self, bfile: BlendFile, queue: list[tuple[int, int, Block]]) -> Iterator[Block]:
        heapq.heapify(queue)
        seen = self._seen.setdefault(make_absolute(bfile.path), set())
        root = str(make_absolute(bfile.path).parent).encode("utf-8")  # as BAT's BlendPath(Path) encodes it
        linked: dict[bytes, list[Block]] = {}
        expanding = bfile is not self.top
        while queue:
            block = heapq.heappop(queue)[2]
            if block.addr in seen:
                continue
            if block.code == b"ID":
                library = block.deref(b"lib")
                if library is None:
                    raise BlendError(bfile.path, f"linked ID {block.text(b'name')!r} names no library")
                linked.setdefault(blend_absolute(library.text(b"name"), root), []).append(block)
                heapq.heappush(queue, (library.offset, next(self._tick), library))
                continue
            if expanding:
                for found in expand(block):
                    heapq.heappush(queue, (found.offset, next(self._tick), found))
            seen.add(block.addr)
            yield block
        for lib_path, ids in linked.items():
            path = make_absolute(to_path(lib_path))
            if not path.exists():
                continue
            library_file = self._open(path)
            yield from self._file(library_file, list(self._named(library_file, ids)))

    def _named(self, bfile: BlendFile, ids: list[Block]) -> Iterator[tuple[int, int, Block]]:
        for wanted in ids:
            name = wanted.text(b"name")
            for block in bfile.blocks_of(name[:2]):
                if block.id_name() == name:
                    yield block.offset, next(self._tick), block
