"""Find every file a .blend scene needs, without Blender, using blender-asset-tracer.

BAT reads the .blend structure directly (plain, gzip and zstd files) and follows
linked libraries recursively, visiting only the datablocks the scene really uses.
We turn its :class:`~blender_asset_tracer.trace.result.BlockUsage` records into
:class:`azrender.model.Asset` entries: one per file on disk (sequences and UDIM
tiles expanded), missing files kept with ``exists=False``, packed files counted.

>>> from pathlib import Path
>>> scan_blend(Path("shot.blend")).assets[0].kind  # doctest: +SKIP
<AssetKind.SCENE: 'scene'>
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from blender_asset_tracer import blendfile, trace
from blender_asset_tracer.blendfile import exceptions as bat_exceptions
from blender_asset_tracer.blendfile import magic_compression
from blender_asset_tracer.trace import blocks2assets, expanders, file2blocks, file_sequence
from blender_asset_tracer.trace.result import BlockUsage

from azrender.errors import SceneError
from azrender.model import Asset, AssetKind, AssetSet
from azrender.paths import is_windows_path
from azrender.scan.usd import follow_usd_layers

from . import sdna
from .versions import version_text

APP = "blender"

# Two-letter ID codes (the prefix of every datablock name in a .blend) to what
# the file is for. ME is a mesh with external custom data (multires .btx);
# OB usages come from modifiers (ocean, mesh cache, point caches).
_KIND_BY_CODE: dict[bytes, AssetKind] = {
    b"IM": AssetKind.TEXTURE,
    b"LI": AssetKind.LIBRARY,
    b"SO": AssetKind.AUDIO,
    b"VF": AssetKind.FONT,
    b"MC": AssetKind.MOVIE,
    b"CF": AssetKind.CACHE,
    b"VO": AssetKind.VOLUME,
    b"TX": AssetKind.SCRIPT,
    b"ME": AssetKind.CACHE,
    b"OB": AssetKind.CACHE,
}

# Human names for the referrer text ("Image 'brick wall'").
_TYPE_NAMES: dict[bytes, str] = {
    b"IM": "Image",
    b"LI": "Library",
    b"SO": "Sound",
    b"VF": "Font",
    b"MC": "Movie clip",
    b"CF": "Cache file",
    b"VO": "Volume",
    b"TX": "Text",
    b"ME": "Mesh",
    b"OB": "Object",
    b"LA": "Light",
    b"SC": "Scene",
}

# Datablock types that can hold a packed file; BAT skips them when packed, so
# we look at the flag ourselves to count them.
_PACKABLE = {b"IM", b"LI", b"SO", b"VF", b"VO"}

_AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".flac", ".aac", ".aif", ".aiff", ".m4a", ".opus"}


def _expand_nodetree_id(block: blendfile.BlendFileBlock) -> Iterator[blendfile.BlendFileBlock]:
    """Node trees of a material, world, light, texture or scene, in any Blender version.

    BAT 1.23 reads ``compositing_node_group`` for *every* ID type in Blender
    5.0 files, but only scenes moved their node tree there; materials, worlds
    and lights keep ``nodetree``. In the main file that goes unnoticed (all
    blocks are visited), but in a linked library only what the linked objects
    reach is visited, so a library material's textures were silently missed.
    We follow both fields when present.
    """
    for field_name in (b"compositing_node_group", b"nodetree"):
        if not block.dna_type.has_field(field_name):
            continue
        ntree = block.get_pointer(field_name, None)
        if ntree is not None:
            yield from expanders._expand_generic_nodetree(ntree)


if not getattr(expanders, "_azrender_patched", False):
    # The expanders call this helper through the module's globals, so replacing
    # the attribute fixes all of them (MA, WO, LA, TE, SC) in one place.
    expanders._expand_generic_nodetree_id = _expand_nodetree_id
    setattr(expanders, "_azrender_patched", True)  # noqa: B010  (BAT declares no such attribute)


class _BlockIterator(file2blocks.BlockIterator):
    """BAT's block iterator without the dependency expansion of the scene's own blocks.

    BAT queues *every* non-DATA block of the top file, then, for each one,
    expands the blocks it points to (material → node tree → nodes...) and
    queues them too. In the top file that second walk finds nothing new:
    expanders follow pointers inside one file, the ID blocks that stand for
    linked data are already queued, and the DATA blocks it reaches hold no
    asset of their own (``asset_holding_blocks`` skips them). It was 85% of
    a scan of a 2000-material scene. Libraries (visited with ``limit_to``)
    still need it: there only what the scene uses is followed.
    """

    def __init__(self, top: blendfile.BlendFile) -> None:
        super().__init__()
        self._top = top

    def _queue_dependencies(self, block: blendfile.BlendFileBlock) -> None:
        if block.bfile is self._top:
            return
        super()._queue_dependencies(block)


_bat_open = magic_compression.open


def _open_decompressed(
    path: Path, mode: str, buffer_size: int
) -> magic_compression.DecompressedFileInfo:
    """BAT's ``magic_compression.open``, decompressing into an anonymous temporary file.

    BAT decompresses into a ``NamedTemporaryFile``, whose wrapper object puts a
    Python call in front of every ``read``/``seek``/``tell`` of the file: for
    a compressed scene (Blender's default since 4.x) that was half a million
    calls, a third of the scan of a 2000-material scene. ``TemporaryFile``
    gives the plain buffered file, removed when closed. Errors keep naming
    the scene, not a temporary path.
    """
    with path.open(mode, buffering=buffer_size) as probe:
        compression = magic_compression.find_compression_type(probe)
    if compression in (
        magic_compression.Compression.NONE,
        magic_compression.Compression.UNRECOGNISED,
    ):
        return _bat_open(path, mode, buffer_size)
    out = tempfile.TemporaryFile()  # noqa: SIM115  (BAT owns and closes it)
    try:
        with (
            path.open(mode, buffering=buffer_size) as packed,
            magic_compression._decompressor(packed, mode, compression) as source,
        ):
            magic = source.read(len(magic_compression.BLENDFILE_MAGIC))
            if magic != magic_compression.BLENDFILE_MAGIC:
                raise bat_exceptions.BlendFileError("Compressed file is not a blend file", path)
            out.write(magic)
            shutil.copyfileobj(source, out, buffer_size)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return magic_compression.DecompressedFileInfo(is_compressed=True, path=path, fileobj=out)


if magic_compression.open is not _open_decompressed:
    magic_compression.open = _open_decompressed


@contextlib.contextmanager
def quiet_bat() -> Iterator[None]:
    """Silence BAT's ``logging`` warnings for the duration of a scan.

    BAT warns about every missing file; we report those as data, and without a
    configured handler Python's last-resort handler would print them to stderr.
    """
    logger = logging.getLogger("blender_asset_tracer")
    saved = logger.propagate, logger.level
    handler = logging.NullHandler()
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _referrer(usage: BlockUsage, scene: Path) -> str:
    """Name the datablock that needs the file, and the library it lives in."""
    name = bytes(usage.block_name)
    if usage.path_dir_field is not None:
        what = "Sequencer strip"
    elif b".modifiers[" in name and name[:2] == b"OB":
        obj, _, index = name[2:].partition(b".modifiers")
        what = f"Object '{_text(obj)}' modifier {_text(index.strip(b'[]'))} ({usage.block.dna_type_name})"
    elif name[:2] in _TYPE_NAMES and usage.block.code != b"DATA":
        what = f"{_TYPE_NAMES[name[:2]]} '{_text(name[2:])}'"
    else:
        what = usage.block.dna_type_name
    source = Path(usage.block.bfile.filepath)
    if source.absolute() != scene:
        what += f" in library {source.absolute()}"
    return what


def _kind(usage: BlockUsage, path: str) -> AssetKind:
    if usage.path_dir_field is not None:
        # Sequencer strips: BAT does not say the strip type, the path does.
        if usage.is_sequence:
            return AssetKind.TEXTURE
        if Path(path).suffix.lower() in _AUDIO_SUFFIXES:
            return AssetKind.AUDIO
        return AssetKind.MOVIE
    code = usage.block.code if usage.block.code != b"DATA" else bytes(usage.block_name)[:2]
    return _KIND_BY_CODE.get(code, AssetKind.OTHER)


def _raw_path(usage: BlockUsage) -> str:
    """The path as stored in the .blend, for paths BAT cannot make absolute."""
    return _text(bytes(usage.asset_path))


def _assets_of(usage: BlockUsage, scene: Path) -> Iterator[Asset]:
    raw = _raw_path(usage)
    referrer = _referrer(usage, scene)
    if is_windows_path(raw) and not is_windows_path(str(Path.cwd())):
        # A scene saved on Windows with absolute paths, scanned elsewhere: the
        # file cannot be on this disk, and Path.absolute() would glue the cwd
        # in front of it. Keep the text as written so the path map sees it.
        yield Asset(path=Path(raw), kind=_kind(usage, raw), exists=False, referrer=referrer)
        return
    pattern = Path(usage.abspath)
    kind = _kind(usage, str(pattern))
    if not usage.is_sequence:
        yield Asset.from_disk(pattern, kind, referrer)
        return
    try:
        files = list(file_sequence.expand_sequence(pattern))
    except file_sequence.DoesNotExist:
        files = []
    if not files:
        # A sequence or UDIM set with nothing on disk: report the pattern itself
        # so the missing-files report shows what the scene asked for.
        yield Asset.from_disk(pattern, kind, referrer)
        return
    for f in files:
        yield Asset.from_disk(f, kind, referrer)


# BAT's wording for a header layout it cannot decode. Blender refuses those too
# (``BlenderHeaderUnknown`` in ``BLO_readfile_blender_header_decode``): without
# the header the block headers and the SDNA cannot be found.
_NEWER_HEADER = ("unsupported file format version", "unknown file header size")


def _label(path: Path, scene: Path) -> str:
    """The scene by its path; a library by its path and the scene that links it."""
    return f"{path}" if path.absolute() == scene else f"library {path} (linked from {scene})"


def _newer_header(path: Path, scene: Path) -> SceneError:
    tested = version_text(sdna.NEWEST_TESTED_BLENDER_VERSION)
    return SceneError(
        f"{_label(path, scene)} has a .blend header layout this scanner cannot decode "
        f"(a newer file format than Blender {tested} writes)",
        hint="update azrender, or save a copy with the Blender you render with",
    )


def _missing_field(missing: sdna.MissingField, scene: Path) -> SceneError:
    what = missing.message()
    if missing.path.absolute() != scene:
        what = f"library {what} (linked from {scene})"
    return SceneError(what, hint="update azrender, or save a copy with the Blender you render with")


def _file_warnings(bfile: blendfile.BlendFile, scene: Path) -> list[str]:
    newer = sdna.newer_than_tested(bfile)
    if newer is None:
        return []
    tested = version_text(sdna.NEWEST_TESTED_BLENDER_VERSION)
    return [
        f"{_label(Path(bfile.filepath), scene)} was saved by Blender {newer}, newer than the newest "
        f"this scanner is tested with ({tested}); read through the file's own SDNA"
    ]


def _field_error(scene: Path) -> SceneError | None:
    """The error for the first .blend the scan opened whose SDNA lacks (or retypes) a field we read."""
    # BAT's open_cached keeps every file it opened (the scene, each library it
    # followed) in this module-level dict until close_all_cached.
    for bfile in list(blendfile._cached_bfiles.values()):
        missing = sdna.check_fields(bfile)
        if missing is not None:
            return _missing_field(missing, scene)
    return None


def _check_opened(scene: Path) -> list[str]:
    """Check every .blend the scan opened (the scene and each library BAT followed).

    :returns: one warning per file saved by a Blender newer than we test.
    :raises SceneError: naming the file and the ``Struct.field`` its SDNA lacks.
    """
    error = _field_error(scene)
    if error is not None:
        raise error
    return [w for bfile in list(blendfile._cached_bfiles.values()) for w in _file_warnings(bfile, scene)]


def unreadable_error(path: Path, reason: str) -> SceneError:
    """The one-line error for a scene or library that does not read, with what to do about it."""
    if "zstandard" in reason.lower():
        # BAT says so when the file is zstd-compressed (Blender's "Compress" option) and the
        # module is missing: the file is fine, this Python is not.
        return SceneError(
            f"{path} is zstd-compressed and this Python has no zstandard module to read it",
            hint=f"install it with `{Path(sys.executable).name} -m pip install zstandard`; "
                 "azrender declares it, so reinstalling azrender brings it too",
        )
    return SceneError(
        f"{path} is not a readable .blend file: {reason}",
        hint="it is damaged or not a .blend: open it in Blender and save it again",
    )


def scan_blend(path: Path) -> AssetSet:
    """Every file ``path`` needs on a render node, the scene itself first.

    Linked libraries are followed recursively (only what the scene uses);
    missing files are listed with ``exists=False``; packed files are only
    counted in :attr:`AssetSet.packed_count`.

    :raises SceneError: when the scene or one of its libraries cannot be parsed.
    """
    scene = Path(path).absolute()
    if not scene.is_file():
        raise SceneError(f"{scene} does not exist", hint="check the scene path")
    result = AssetSet(scene=scene, app=APP)
    result.add(Asset.from_disk(scene, AssetKind.SCENE, referrer="scene"))
    packed: set[tuple[Path, int]] = set()
    with quiet_bat():
        try:
            bfile = blendfile.open_cached(scene)
            # The scene's own SDNA first, before anything is read through it;
            # libraries (opened as BAT reaches them) are checked at the end.
            missing = sdna.check_fields(bfile)
            if missing is not None:
                raise _missing_field(missing, scene)
            iterator = _BlockIterator(bfile)
            for block in trace.asset_holding_blocks(iterator.iter_blocks(bfile)):
                if block.code in _PACKABLE and block.get(b"packedfile", default=0):
                    packed.add((Path(block.bfile.filepath), block.addr_old))
                    continue
                for usage in blocks2assets.iter_assets(block):
                    result.extend(_assets_of(usage, scene))
            result.warnings.extend(_check_opened(scene))
        except bat_exceptions.BlendFileError as exc:
            bad = Path(getattr(exc, "filepath", scene))
            if any(words in str(exc.args[0] if exc.args else "") for words in _NEWER_HEADER):
                raise _newer_header(bad, scene) from exc
            raise unreadable_error(bad, str(exc.args[0]) if exc.args else type(exc).__name__) from exc
        except KeyError as exc:
            # BAT reads most fields without a default: a field the file's SDNA
            # lacks is named, with the file, rather than called corruption.
            missing = sdna.missing_field_from(exc, blendfile._cached_bfiles.values())
            if missing is not None:
                raise _missing_field(missing, scene) from exc
            raise _field_error(scene) or unreadable_error(scene, f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        except (
            struct.error,
            EOFError,
            ValueError,
            IndexError,
            OSError,
            bat_exceptions.SegmentationFault,
            bat_exceptions.NoReaderImplemented,
        ) as exc:
            # A truncated or damaged file surfaces as whatever the byte reader
            # tripped over; the user only needs to know the file is bad. Unless
            # a file's SDNA retyped a field we read: then that is the reason.
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
            raise _field_error(scene) or unreadable_error(scene, reason) from exc
        finally:
            # BAT caches open files process-wide; a later scan must see edits.
            blendfile.close_all_cached()
    result.packed_count = len(packed)
    # A USD cache file (CacheFile datablock, MeshSequenceCache) brings its stage's layers and textures.
    follow_usd_layers(result)
    return result
