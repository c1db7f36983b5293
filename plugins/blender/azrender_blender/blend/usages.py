"""Which file paths the used blocks hold: images, libraries, sounds, fonts, caches, modifiers' files, strips.

One reader per ID code and per modifier type, reading the fields
blender-asset-tracer reads (``trace/blocks2assets.py`` and
``trace/modifier_walkers.py``), so a scan lists what it listed:

* ``IM`` ``name`` when ``source`` is a file, sequence, movie or UDIM tiles;
  ``LI``/``SO``/``VF``/``VO``/``MC``/``CF`` their path (``<builtin>`` fonts skipped);
  a block with a ``packedfile`` (images, libraries, sounds, fonts, volumes) is
  counted as packed instead;
* ``ME`` the external custom data file (multires ``.btx``), ``LA`` the IES
  files of its nodes;
* ``OB`` its modifiers: mesh cache, mesh sequence cache, ocean bake, the
  image of displace/wave/weight/UV-project textures, point caches of particles,
  cloth, smoke and dynamic paint, fluid caches, geometry-nodes bakes;
* ``SC`` its sequencer's image, movie and sound strips (folder + file name).

Modifier numbers, flags and the point-cache file naming (``//blendcache_<blend
stem>/<name>_*.bphys``, ``ptcache_path`` in Blender's ``pointcache.cc``) are
Blender's, as BAT's ``cdefs.py`` copies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import NoField
from .file import BlendFile, Block, listbase
from .paths import blend_path, is_absolute
from .walk import Walk, modifiers, strips

_SKIP = {b"ID", b"WM", b"SN", b"GR", b"WO", b"BR", b"LS"}  # BAT's trace.codes_to_skip
PACKABLE = {b"IM", b"LI", b"SO", b"VF", b"VO"}
_IMAGE_FROM_FILE = {1, 2, 3, 6}  # IMA_SRC_FILE, SEQUENCE, MOVIE, TILED
_IMAGE_SERIES = {2, 6}
_STRIP_SINGLE = {3, 4, 5}  # SEQ_TYPE_MOVIE, SOUND_RAM, SOUND_HD
_STRIP_FILES = _STRIP_SINGLE | {0}  # and SEQ_TYPE_IMAGE
_PTCACHE_DISK, _PTCACHE_EXTERNAL = 64, 512
_BAKE_CUSTOM_PATH, _BAKE_INHERIT, _BAKE_PACKED = 1 << 1, 0, 1


@dataclass(frozen=True, slots=True)
class Usage:
    """One path a block holds: the file it is in, the block, the name to report it by, the path as stored."""

    blend: Path  # the .blend holding the path, as it was opened
    code: bytes  # the holding block's code (b"IM", b"DATA", ...)
    struct: str  # the holding block's struct ("Image", "PointCache", ...)
    name: bytes  # b"IMbrick", b"OBPlane.modifiers[0]", b"-unnamed-"
    path: bytes  # with "/" separators
    is_sequence: bool
    strip: bool = False  # a sequencer strip's folder + file name


def _usage(block: Block, path: bytes, is_sequence: bool = False, name: bytes = b"", strip: bool = False) -> Usage:
    return Usage(block.file.path, block.code, block.type_name, name or _guess_name(block), blend_path(path),
                 is_sequence, strip)  # fmt: skip


def _guess_name(block: Block) -> bytes:
    """``id.name``, else a ``name`` char array, else ``-unnamed-`` (BAT's ``guess_block_name``)."""
    for path in ((b"id", b"name"), (b"name",)):
        try:
            return block.text(*path)
        except NoField:
            continue
    return b"-unnamed-"


def _image(block: Block) -> Iterator[Usage]:
    source = block.integer(b"source", default=1)  # very old files have no source: a file
    if source in _IMAGE_FROM_FILE:
        yield _usage(block, block.text(b"name"), source in _IMAGE_SERIES)


def _named(block: Block) -> Iterator[Usage]:
    yield _usage(block, block.text(b"name"))


def _font(block: Block) -> Iterator[Usage]:
    path = block.text(b"name")
    if path != b"<builtin>":
        yield _usage(block, path)


def _filepath(block: Block) -> Iterator[Usage]:
    yield _usage(block, block.text(b"filepath"))


def _volume(block: Block) -> Iterator[Usage]:
    yield _usage(block, block.text(b"filepath"), bool(block.integer(b"is_sequence")))


def _mesh(block: Block) -> Iterator[Usage]:
    external = block.deref_or_none(b"ldata", b"external") or block.deref_or_none(b"fdata", b"external")
    if external is not None:
        yield _usage(block, external.text(b"filename"))


def _light(block: Block) -> Iterator[Usage]:
    ntree = block.deref_or_none(b"nodetree")
    if ntree is None:
        return
    for node in listbase(ntree.deref(b"nodes", b"first")):
        storage = node.deref(b"storage")
        if storage is not None and storage.has(b"filepath"):  # NodeShaderTexIES
            yield _usage(storage, storage.text(b"filepath"))


def _scene(block: Block) -> Iterator[Usage]:
    editor = block.deref(b"ed")
    if editor is None:
        return
    for seq, kind in strips(editor):
        if kind not in _STRIP_FILES:
            continue
        data = seq.deref(b"strip")
        element = data.deref(b"stripdata") if data is not None else None
        if data is None or element is None:
            continue
        folder, name = blend_path(data.text(b"dir")), blend_path(element.text(b"name"))
        if is_absolute(name):  # BAT's BlendPath "/" refuses an absolute second part
            raise ValueError("'a / b' only works when 'b' is a relative path")
        yield _usage(data, folder.rstrip(b"/") + b"/" + name, kind not in _STRIP_SINGLE, strip=True)


# --- modifiers -------------------------------------------------------------------

Modifier = Callable[[Block, Block, bytes], Iterator[Usage]]


def _image_of(holder: Block | None, field: bytes, name: bytes) -> Iterator[Usage]:
    if holder is None:
        return
    image = holder.deref_or_none(field)
    if image is not None:
        yield _usage(image, image.text(b"name"), name=name)


def _point_cache(owner: Block, cache: Block | None, name: bytes, extension: bytes = b".bphys") -> Iterator[Usage]:
    if cache is None:
        return
    flag = cache.integer(b"flag")
    if flag & _PTCACHE_EXTERNAL:
        yield _usage(cache, cache.text(b"path"), True, name)
    elif flag & _PTCACHE_DISK:
        stem = cache.text(b"name") or owner.text(b"id", b"name")[2:].hex().upper().encode()
        folder = b"//blendcache_" + owner.file.path.stem.encode()
        yield _usage(cache, b"%s/%s_*%s" % (folder, stem, extension), True, name)


def _mesh_cache(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    yield _usage(mod, mod.text(b"filepath"), name=name)


def _sequence_cache(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    cache = mod.deref(b"cache_file")
    if cache is not None:
        yield _usage(cache, cache.text(b"filepath"), bool(cache.integer(b"is_sequence")), cache.id_name() or b"")


def _ocean(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    if mod.integer(b"cached"):
        yield _usage(mod, mod.text(b"cachepath"), True, name)


def _texture(field: bytes) -> Modifier:
    return lambda obj, mod, name: _image_of(mod.deref(field), b"ima", name)


def _uv_project(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    yield from _image_of(mod, b"image", name)


def _particles(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    system = mod.deref(b"psys")
    yield from _point_cache(obj, system.deref(b"pointcache") if system is not None else None, name)


def _fluidsim(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    settings = mod.deref(b"fss")
    if settings is not None:
        yield _usage(settings, settings.text(b"surfdataPath"), True, name)


def _smoke(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    domain = mod.deref(b"domain")
    cache = domain.deref(b"point_cache") if domain is not None else None
    if domain is not None and cache is not None:
        extension = {0: b".bphys", 1: b".vdb"}[domain.integer(b"cache_file_format")]
        yield from _point_cache(obj, cache, name, extension)


def _fluid(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    domain = mod.deref(b"domain")
    if domain is not None:
        yield _usage(domain, domain.text(b"cache_directory"), True, name)


def _cloth(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    yield from _point_cache(obj, mod.deref(b"point_cache"), name)


def _dynamic_paint(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    canvas = mod.deref(b"canvas")
    if canvas is None:
        return
    for i, surface in enumerate(listbase(canvas.deref(b"surfaces", b"first"))):
        yield from _point_cache(obj, surface.deref(b"pointcache"), name + b".canvas_settings.surfaces[%d]" % i)


def _nodes(obj: Block, mod: Block, name: bytes) -> Iterator[Usage]:
    if not mod.has(b"simulation_bake_directory"):
        return
    bakes = mod.deref_or_none(b"bakes")
    if bakes is None:
        return
    inherited = mod.integer(b"bake_target", default=-1)
    for i, bake in enumerate(bakes.elements()):
        target = bake.integer(b"bake_target", default=-1)
        if (inherited if target == _BAKE_INHERIT else target) == _BAKE_PACKED:
            continue  # baked into the .blend
        holder = bake if bake.integer(b"flag") & _BAKE_CUSTOM_PATH else mod
        field = b"directory" if holder is bake else b"simulation_bake_directory"
        folder = holder.file.at(holder.pointer(field))
        if folder is not None:
            yield _usage(holder, folder.as_string(), True, name + b".bakes[%d]" % i)


_MODIFIERS: dict[int, Modifier] = {
    46: _mesh_cache, 52: _sequence_cache, 39: _ocean, 14: _texture(b"texture"), 7: _texture(b"texture"),
    36: _texture(b"mask_texture"), 37: _texture(b"mask_texture"), 38: _texture(b"mask_texture"),
    15: _uv_project, 19: _particles, 26: _fluidsim, 31: _smoke, 56: _fluid, 22: _cloth, 40: _dynamic_paint,
    57: _nodes,
}  # fmt: skip


def _object(block: Block) -> Iterator[Usage]:
    for i, mod in enumerate(modifiers(block)):
        handler = _MODIFIERS.get(mod.integer(b"modifier", b"type"))
        if handler is not None:
            yield from handler(block, mod, b"%s.modifiers[%d]" % (block.id_name() or b"", i))


_READERS: dict[bytes, Callable[[Block], Iterator[Usage]]] = {
    b"CF": _filepath, b"IM": _image, b"LI": _named, b"ME": _mesh, b"MC": _named, b"OB": _object,
    b"SC": _scene, b"SO": _named, b"VF": _font, b"LA": _light, b"VO": _volume,
}  # fmt: skip


def read_from_scene(struct_name: bytes) -> bool:
    """Whether a reader above can follow a pointer of the scene's own file to a block of this struct.

    Modifiers, their settings and caches, mesh external data, light node
    trees and their nodes' storage, sequencer strips, geometry-nodes bakes
    and the strings they point to (``raw_data``, or struct 0 in older files).
    """
    return struct_name.endswith(b"ModifierData") or struct_name.startswith(_SCENE_TARGET_PREFIXES) \
        or struct_name in _SCENE_TARGETS  # fmt: skip


_SCENE_TARGET_PREFIXES = (b"Node", b"Fluid", b"Smoke", b"DynamicPaint", b"Strip", b"Sequence")
_SCENE_TARGETS = {b"CustomDataExternal", b"bNodeTree", b"bNode", b"Editing", b"PointCache", b"ParticleSystem",
                  b"raw_data", b"Link", b"ListBase"}  # fmt: skip


# The readers above that follow nothing but these pointers: a block whose pointers are all null holds no
# path. Per code: the pointers its reader reads (a struct without one is for the reader to name), and those
# it reads only where the struct has them.
_NOTHING_WHEN_NULL: dict[bytes, tuple[tuple[tuple[bytes, ...], ...], tuple[tuple[bytes, ...], ...]]] = {
    b"OB": (((b"modifiers", b"first"),), ()),  # _object: its modifiers
    b"ME": ((), ((b"ldata", b"external"), (b"fdata", b"external"))),  # _mesh: external custom data
}


def holding_nothing(bfile: BlendFile) -> set[int]:
    """The blocks of ``bfile`` a reader above would find no path in, told apart without reading each as a Block.

    A scene of 10,000 objects without modifiers and 10,000 meshes without
    external data is 20,000 blocks a walk need not make; :class:`Walk` leaves them out.
    """
    return set().union(*(bfile.where_null(code, *fields) for code, fields in _NOTHING_WHEN_NULL.items()))


@dataclass
class Trace:
    """What a walk found: the paths, and the packed blocks (by file and address)."""

    usages: list[Usage]
    packed: set[tuple[Path, int]]


READ_CODES = {*_READERS, *PACKABLE}  # the codes trace() reads a path or a packed flag from


def trace(walk: Walk) -> Trace:
    """Every path held by the blocks ``walk`` visits, packed blocks counted instead."""
    found = Trace([], set())
    for block in walk.blocks():
        code = block.code
        if len(code) > 2 or code in _SKIP:
            continue
        if code in PACKABLE and block.integer(b"packedfile", default=0):
            found.packed.add((block.file.path, block.addr))
            continue
        reader = _READERS.get(code)
        if reader is not None:
            found.usages.extend(reader(block))
    return found
