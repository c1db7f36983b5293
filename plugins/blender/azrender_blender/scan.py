"""Find every file a .blend scene needs, without Blender, with azrender's own .blend reader.

The reader (:mod:`azrender_blender.blend`) reads the .blend structure directly
(plain, gzip and zstd files) and follows linked libraries recursively,
visiting only the datablocks the scene really uses, as blender-asset-tracer
did for this scanner before (``tests/blender/test_blend_reader.py`` holds the
two side by side on every .blend the tests have). Its
:class:`~azrender_blender.blend.Usage` records become
:class:`azrender.model.Asset` entries: one per file on disk (sequences and
UDIM tiles expanded), missing files kept with ``exists=False``, packed files counted.

>>> from pathlib import Path
>>> scan_blend(Path("shot.blend")).assets[0].kind  # doctest: +SKIP
<AssetKind.SCENE: 'scene'>
"""

from __future__ import annotations

import functools
import struct
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from azrender.errors import SceneError
from azrender.model import Asset, AssetKind, AssetSet
from azrender.paths import is_windows_path
from azrender.scan.pathmaker import PathMaker
from azrender.scan.stages import follow_usd_layers

from . import sdna
from .blend import BlendError, BlendFile, NewerHeader, NoField, Usage, Walk, trace
from .blend.paths import expand_sequence, make_absolute, resolve
from .blend.usages import READ_CODES, holding_nothing, read_from_scene
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

_AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".flac", ".aac", ".aif", ".aiff", ".m4a", ".opus"}


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _referrer(usage: Usage, scene: Path) -> str:
    """Name the datablock that needs the file, and the library it lives in."""
    name = usage.name
    if usage.strip:
        what = "Sequencer strip"
    elif b".modifiers[" in name and name[:2] == b"OB":
        obj, _, index = name[2:].partition(b".modifiers")
        what = f"Object '{_text(obj)}' modifier {_text(index.strip(b'[]'))} ({usage.struct})"
    elif name[:2] in _TYPE_NAMES and usage.code != b"DATA":
        what = f"{_TYPE_NAMES[name[:2]]} '{_text(name[2:])}'"
    else:
        what = usage.struct
    blend = _absolute(usage.blend)
    if blend != scene:
        what += f" in library {blend}"
    return what


@functools.lru_cache(maxsize=64)
def _absolute(blend: Path) -> Path:
    """``blend.absolute()`` once per file, not once per path it holds (the scan opens files by absolute path,
    so the working directory never changes the answer)."""
    return blend.absolute()


def _kind(usage: Usage, path: str) -> AssetKind:
    if usage.strip:
        # Sequencer strips: the reader does not say the strip type, the path does.
        if usage.is_sequence:
            return AssetKind.TEXTURE
        if Path(path).suffix.lower() in _AUDIO_SUFFIXES:
            return AssetKind.AUDIO
        return AssetKind.MOVIE
    code = usage.code if usage.code != b"DATA" else usage.name[:2]
    return _KIND_BY_CODE.get(code, AssetKind.OTHER)


def assets_from(found: Iterable[tuple[Usage, Path]], scene: Path) -> Iterator[Asset]:
    """The assets of each path a scan found (with its absolute path): sequences expanded, missing kept.

    Public for the tests, which feed it blender-asset-tracer's answer to compare with the reader's.
    """
    windows_here = is_windows_path(str(Path.cwd()))
    for usage, absolute in found:
        raw = _text(usage.path)
        referrer = _referrer(usage, scene)
        if is_windows_path(raw) and not windows_here:
            # A scene saved on Windows with absolute paths, scanned elsewhere: the
            # file cannot be on this disk, and Path.absolute() would glue the cwd
            # in front of it. Keep the text as written so the path map sees it.
            yield Asset(path=Path(raw), kind=_kind(usage, raw), exists=False, referrer=referrer)
            continue
        kind = _kind(usage, str(absolute))
        try:
            files = list(expand_sequence(absolute)) if usage.is_sequence else [absolute]
        except FileNotFoundError:
            files = []
        # A sequence or UDIM set with nothing on disk: the pattern itself, so the
        # missing-files report shows what the scene asked for.
        for f in files or [absolute]:
            yield Asset.from_disk(f, kind, referrer)


def _label(path: Path, scene: Path) -> str:
    """The scene by its path; a library by its path and the scene that links it."""
    return f"{path}" if path.absolute() == scene else f"library {path} (linked from {scene})"


def _newer_header(path: Path, scene: Path) -> SceneError:
    # Blender refuses those too (``BlenderHeaderUnknown`` in ``BLO_readfile_blender_header_decode``):
    # without the header the block headers and the SDNA cannot be found.
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


def unreadable_error(path: Path, reason: str) -> SceneError:
    """The one-line error for a scene or library that does not read, with what to do about it."""
    if "zstandard" in reason.lower():
        # The reader says so when the file is zstd-compressed (Blender's "Compress" option) and
        # the module is missing: the file is fine, this Python is not.
        return SceneError(
            f"{path} is zstd-compressed and this Python has no zstandard module to read it",
            hint=f"install it with `{Path(sys.executable).name} -m pip install zstandard`; "
                 "azrender declares it, so reinstalling azrender brings it too",
        )
    return SceneError(
        f"{path} is not a readable .blend file: {reason}",
        hint="it is damaged or not a .blend: open it in Blender and save it again",
    )


class _Opened:
    """The .blend files one scan opened, each once (by absolute path), in the order opened; closes them."""

    def __init__(self) -> None:
        self.files: dict[Path, BlendFile] = {}

    def open(self, path: Path) -> BlendFile:
        key = make_absolute(path)
        if key not in self.files:
            # The scene's own file is read for its paths only: a smaller address map will do.
            self.files[key] = BlendFile(path, read_from_scene if not self.files else None)
        return self.files[key]

    def field_error(self, scene: Path) -> SceneError | None:
        """The error for the first opened .blend whose SDNA lacks (or retypes) a field we read."""
        for bfile in self.files.values():
            missing = sdna.check_fields(bfile)
            if missing is not None:
                return _missing_field(missing, scene)
        return None

    def warnings(self, scene: Path) -> list[str]:
        """One line per opened file saved by a Blender newer than we test."""
        tested = version_text(sdna.NEWEST_TESTED_BLENDER_VERSION)
        return [f"{_label(bfile.path, scene)} was saved by Blender {newer}, newer than the newest "
                f"this scanner is tested with ({tested}); read through the file's own SDNA"
                for bfile in self.files.values() if (newer := sdna.newer_than_tested(bfile)) is not None]  # fmt: skip

    def close(self) -> None:
        for bfile in self.files.values():
            bfile.close()


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
    opened = _Opened()
    try:
        top = opened.open(scene)
        # The scene's own SDNA first, before anything is read through it;
        # libraries (opened as the walk reaches them) are checked at the end.
        missing = sdna.check_fields(top)
        if missing is not None:
            raise _missing_field(missing, scene)
        found = trace(Walk(top, opened.open, READ_CODES, holding_nothing(top)))
        error = opened.field_error(scene)
        if error is not None:
            raise error
        result.warnings.extend(opened.warnings(scene))
        make_path = PathMaker()
        result.extend(assets_from(((u, resolve(u.path, u.blend, make_path)) for u in found.usages), scene))
    except NewerHeader as exc:
        raise _newer_header(exc.path, scene) from exc
    except NoField as exc:
        # A field the reader needs and a file's SDNA lacks: named, with the file, not called corruption.
        raise _missing_field(sdna.from_no_field(exc), scene) from exc
    except BlendError as exc:
        # Unless a file's SDNA retyped a field we read: then that is the reason.
        raise opened.field_error(scene) or unreadable_error(exc.path, exc.reason) from exc
    except (struct.error, EOFError, ValueError, IndexError, KeyError, OSError) as exc:
        # A truncated or damaged file surfaces as whatever the byte reader tripped over.
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise opened.field_error(scene) or unreadable_error(scene, reason) from exc
    finally:
        opened.close()
    result.packed_count = len(found.packed)
    # A USD cache file (CacheFile datablock, MeshSequenceCache) brings its stage's layers and textures.
    follow_usd_layers(result)
    return result
