"""Paths as a .blend stores them, made absolute the way blender-asset-tracer (and so the scanner) always has.

A path in a .blend is bytes; ``//`` starts one relative to the .blend's folder,
and Windows separators are turned into ``/`` (``bpathlib.BlendPath``). The
absolute path is the folder joined with the rest (``BlendPath.absolute``),
normalised with ``os.path.abspath`` but never resolving symlinks
(``bpathlib.make_absolute``). A sequence, UDIM set or cache folder expands
to the files on disk as ``trace/file_sequence.expand_sequence`` does.
"""

from __future__ import annotations

import functools
import glob
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath


def blend_path(raw: bytes) -> bytes:
    """``raw`` with ``\\`` as ``/``, as every path BAT reports."""
    return raw.replace(b"\\", b"/")


def is_absolute(path: bytes) -> bool:
    """``/...`` or ``X:/...``, but not ``//...`` (relative to the .blend)."""
    if path[:2] == b"//":
        return False
    if path[:1] == b"/":
        return True
    return (len(path) >= 3 and chr(path[0]).isascii() and chr(path[0]).isalpha() and path[1:2] == b":"
            and path[2:3] in (b"\\", b"/"))  # fmt: skip


def blend_absolute(raw: bytes, root: bytes) -> bytes:
    """``raw`` (a .blend's path) joined to ``root`` (that .blend's folder) unless already absolute."""
    path = blend_path(raw)
    if is_absolute(path):
        return path
    rest = path[2:] if path[:2] == b"//" else path
    return blend_path(os.path.join(root, rest))


def to_path(path: bytes) -> PurePath:
    """Bytes to a path: UTF-8, else this system's file name encoding."""
    try:
        text = path.decode("utf-8")
    except UnicodeDecodeError:
        text = path.decode(sys.getfilesystemencoding())
    return PurePath(text)


def make_absolute(path: PurePath) -> Path:
    """Absolute and without ``..``, symlinks kept; a Windows drive path stays one on other systems."""
    text = path.as_posix()
    if len(text) >= 2 and text[0].isalpha() and text[1] == ":" and sys.platform != "win32":
        return Path(text[:2] + os.path.normpath(text[2:]))
    return Path(os.path.abspath(text))


def resolve(path: bytes, blend: Path, make_path: Callable[[str], Path] = Path) -> Path:
    """The absolute file a path of ``blend`` names (``BlockUsage.abspath``): folder made absolute, name kept.

    ``make_path`` makes the answer from its normalised text (a
    :class:`azrender.scan.pathmaker.PathMaker` when a scan resolves thousands).
    """
    if not is_absolute(path):
        path = blend_absolute(path, _folder_of(blend))
    text = str(to_path(path)) if os.name != "posix" else _decoded(path)
    folder, _, name = text.rpartition("/")
    if os.name == "posix" and folder[:1] == "/" and name not in ("", ".", "..") and "//" not in folder \
            and "/./" not in folder + "/":  # fmt: skip
        # What pathlib would make of it, without building three Paths per texture.
        try:
            return make_path(f"{_absolute_text(folder)}/{name}")
        except FileNotFoundError:
            return Path(text)
    as_path = Path(text)
    try:
        return _absolute_folder(as_path.parent) / as_path.name
    except FileNotFoundError:  # the working directory is gone
        return as_path


def _decoded(path: bytes) -> str:
    try:
        return path.decode("utf-8")
    except UnicodeDecodeError:
        return path.decode(sys.getfilesystemencoding())


@functools.lru_cache(maxsize=256)
def _folder_of(blend: Path) -> bytes:
    return str(blend.absolute().parent).encode("utf-8")


@functools.lru_cache(maxsize=4096)  # thousands of textures share a few folders
def _absolute_folder(folder: PurePath) -> Path:
    return make_absolute(folder)


@functools.lru_cache(maxsize=4096)
def _absolute_text(folder: str) -> str:
    """:func:`_absolute_folder` keyed by the text: no PurePath made per texture just to look it up."""
    return str(_absolute_folder(PurePath(folder)))


def expand_sequence(path: Path) -> Iterator[Path]:
    """The files of a sequence: a glob (``*``, ``<UDIM>``), every file of a folder, or siblings by frame digits.

    :raises FileNotFoundError: when ``path`` is neither a glob nor on disk.
    """
    if "<UDIM>" in path.name:
        path = path.with_name(path.name.replace("<UDIM>", "*"))
    if "*" in str(path):
        for name in sorted(glob.glob(str(path), recursive=True)):
            yield Path(name)
        return
    if not path.exists():
        raise FileNotFoundError(path)
    if path.is_dir():
        yield from (sub for sub in path.rglob("*") if sub.is_file())
        return
    stem = path.stem.rstrip("0123456789")
    if stem == path.stem:
        yield path
        return
    yield from sorted(path.parent.glob(f"{stem}*{path.suffix}"))
