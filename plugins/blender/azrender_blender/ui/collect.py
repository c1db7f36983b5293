"""Collect a scene's dependencies inside Blender, from ``bpy.data``, as an :class:`AssetSet`.

The headless scanner (:mod:`azrender_blender.scan`) reads a saved .blend; this
module reads what is loaded right now, unsaved edits included, which is what
the panel's "Check dependencies" button shows. Both produce the same kinds
(``texture``, ``library``, ``audio``, ``font``, ``movie``, ``cache``,
``volume``) and the same referrer text (``Image 'brick wall'``,
``... in library /abs/lib.blend``); a test compares the two on the demo shot.

Sequences and UDIM tiles are expanded against the disk with the core's token
rules; a pattern that matches nothing is reported as one missing asset, never
dropped. Packed files are counted, not listed. Text datablocks are left out,
as the headless scanner leaves them out: a .blend stores their contents even
when they were loaded from a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import bpy

from azrender.model import Asset, AssetKind, AssetSet
from azrender.paths import is_windows_path
from azrender.scan.assets import asset_at
from azrender.scan.tokens import expand_pattern, find_sequence, has_tokens

APP = "blender"


def _abspath(filepath: str, library: Any) -> str:
    """``//``-relative paths resolved against the file that stores them (a library or the scene)."""
    text: str = bpy.path.abspath(filepath, library=library)
    if is_windows_path(text) and os.sep == "/":
        # A path written on Windows: it cannot be on this disk; keep the text for the path map.
        return text
    return os.path.normpath(text)


def _referrer(kind_name: str, block: Any, scene: Path) -> str:
    what = f"{kind_name} '{block.name}'"
    library = getattr(block, "library", None)
    if library is not None:
        lib_path = Path(_abspath(library.filepath, library.parent))
        if lib_path != scene:
            what += f" in library {lib_path}"
    return what


def _files(path: str, kind: AssetKind, referrer: str, *, sequence: bool = False) -> list[Asset]:
    """Every file one path stands for; an empty expansion is one missing asset."""
    if not path:
        return []
    if is_windows_path(path) and os.sep == "/":
        return [asset_at(path, kind, referrer)]
    if sequence:
        files = expand_pattern(path) if has_tokens(Path(path).name) else find_sequence(path)
    else:
        files = [Path(path)]
    if not files:
        return [Asset.from_disk(path, kind, referrer)]
    return [Asset.from_disk(f, kind, referrer) for f in files]


def _images(scene: Path) -> Iterator[Asset]:
    for image in bpy.data.images:
        if image.source not in {"FILE", "SEQUENCE", "TILED", "MOVIE"} or not image.filepath:
            continue
        path = _abspath(image.filepath, image.library)
        referrer = _referrer("Image", image, scene)
        # UDIM sets and image sequences stand for every matching file on disk.
        many = image.source in {"SEQUENCE", "TILED"}
        yield from _files(path, AssetKind.TEXTURE, referrer, sequence=many)


def _simple(
    blocks: Iterable[Any], kind: AssetKind, kind_name: str, scene: Path, *, sequence_attr: str = ""
) -> Iterator[Asset]:
    """Datablocks with one ``filepath`` (sounds, fonts, clips, caches, volumes, texts)."""
    for block in blocks:
        filepath = getattr(block, "filepath", "")
        if not filepath or filepath == "<builtin>":
            continue
        if getattr(block, "packed_file", None) is not None:
            continue
        sequence = bool(sequence_attr and getattr(block, sequence_attr, False))
        path = _abspath(filepath, block.library)
        yield from _files(path, kind, _referrer(kind_name, block, scene), sequence=sequence)


def _libraries(scene: Path) -> Iterator[Asset]:
    for lib in bpy.data.libraries:
        if lib.packed_file is not None:
            continue
        # A library linked by a library stores its path relative to its parent.
        path = _abspath(lib.filepath, lib.parent)
        referrer = _referrer("Library", lib, scene)
        parent = lib.parent
        if parent is not None:
            referrer += f" in library {_abspath(parent.filepath, parent.parent)}"
        yield asset_at(path, AssetKind.LIBRARY, referrer)


def _strips(scene: Path) -> Iterator[Asset]:
    """Image and movie strips of every scene's sequencer (sounds are sound datablocks)."""
    for sc in bpy.data.scenes:
        editor = sc.sequence_editor
        if editor is None:
            continue
        # Blender 4.4 renamed sequences_all to strips_all.
        strips = editor.strips_all if hasattr(editor, "strips_all") else editor.sequences_all
        for strip in strips:
            if strip.type == "IMAGE":
                folder = _abspath(strip.directory, sc.library)
                for element in strip.elements:
                    yield Asset.from_disk(os.path.join(folder, element.filename), AssetKind.TEXTURE,
                                          "Sequencer strip")
            elif strip.type == "MOVIE" and strip.filepath:
                yield from _files(_abspath(strip.filepath, sc.library), AssetKind.MOVIE,
                                  "Sequencer strip")


# Modifiers that read a file, by the DNA struct name the headless scanner names them with.
_CACHE_MODIFIERS = {"MESH_CACHE": "MeshCacheModifierData", "OCEAN": "OceanModifierData"}


def _modifier_caches(scene: Path) -> Iterator[Asset]:
    """Files read by modifiers: mesh caches (.pc2/.mdd) and baked oceans."""
    for obj in bpy.data.objects:
        for index, mod in enumerate(obj.modifiers):
            if mod.type not in _CACHE_MODIFIERS or not mod.filepath:
                continue
            if mod.type == "OCEAN" and not mod.is_cached:
                continue
            referrer = f"Object '{obj.name}' modifier {index} ({_CACHE_MODIFIERS[mod.type]})"
            yield from _files(_abspath(mod.filepath, obj.library), AssetKind.CACHE, referrer)


def _packed_count() -> int:
    groups = (bpy.data.images, bpy.data.libraries, bpy.data.sounds, bpy.data.fonts, bpy.data.volumes)
    return sum(1 for group in groups for block in group if getattr(block, "packed_file", None) is not None)


def collect_scene() -> AssetSet:
    """Every file the open scene needs, the .blend itself first.

    :raises ValueError: when the scene was never saved (there is no file to send).
    """
    if not bpy.data.filepath:
        raise ValueError("the scene has never been saved")
    scene = Path(os.path.normpath(bpy.data.filepath))
    result = AssetSet(scene=scene, app=APP)
    result.add(Asset.from_disk(scene, AssetKind.SCENE, referrer="scene"))
    result.extend(_images(scene))
    result.extend(_libraries(scene))
    result.extend(_simple(bpy.data.sounds, AssetKind.AUDIO, "Sound", scene))
    result.extend(_simple(bpy.data.fonts, AssetKind.FONT, "Font", scene))
    result.extend(_simple(bpy.data.movieclips, AssetKind.MOVIE, "Movie clip", scene))
    result.extend(_simple(bpy.data.cache_files, AssetKind.CACHE, "Cache file", scene,
                          sequence_attr="is_sequence"))
    result.extend(_simple(bpy.data.volumes, AssetKind.VOLUME, "Volume", scene,
                          sequence_attr="is_sequence"))
    result.extend(_strips(scene))
    result.extend(_modifier_caches(scene))
    result.packed_count = _packed_count()
    return result
