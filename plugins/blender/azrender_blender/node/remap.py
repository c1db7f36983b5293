"""Rewrite a scene's absolute paths to the render node's mirror, inside Blender.

This module is two things at once:

* a library: :func:`remap_path` computes the node path for one path exactly as
  the scene stores it, testable without Blender;
* the script Blender runs on the node (``blender -b scene --python remap.py``):
  :meth:`azrender_blender.adapter.BlenderAdapter.remap_script` emits this file's
  source, then the source of :mod:`azrender.paths.rules` (the preset's
  ``[[paths]]`` rules: :func:`map_path`), then a call to :func:`run` with the
  job's mapping as JSON.

A path is mapped by the rules first (longest source wins); what no rule covers
goes below the mirror root (``blob-copy``, ``blobfuse``, ``azure-files``); with
no mirror root (``nfs``, ``cifs``) it stays as it is and is reported.

It must stay self-contained: on the node it runs inside Blender, where only
``bpy`` and the standard library exist, so it cannot import ``azrender``.
:func:`mirror_key` therefore repeats ``azrender.paths.mirror_key`` (a test
keeps the two identical); the rules come as embedded source.

Paths stored relative (``//tex/a.png``) are left alone: the whole tree is
mirrored, so they resolve next to the mirrored .blend as they did at home.

>>> remap_path("/mnt/show/tex/a.png", "/node/assets")
'/node/assets/mnt/show/tex/a.png'
>>> remap_path("P:\\\\show\\\\a.<UDIM>.png", "/node/assets")
'/node/assets/P/show/a.<UDIM>.png'
>>> remap_path("//tex/a.png", "/node/assets") is None
True
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import posixpath
import re
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_windows_path(path: str) -> bool:
    """True for ``C:\\x``, ``C:/x`` and UNC ``\\\\server\\share`` paths."""
    return bool(_WINDOWS_DRIVE.match(path)) or path.startswith("\\\\")


def mirror_key(path: str) -> str:
    """The relative, forward-slash key under which an absolute path is mirrored.

    Same rules as ``azrender.paths.mirror_key``: ``P:\\a`` → ``P/a``,
    ``\\\\srv\\share\\a`` → ``unc/srv/share/a``, ``/mnt/a`` → ``mnt/a``.
    """
    if is_windows_path(path):
        text = path.replace("\\", "/")
        if text.startswith("//"):
            parts = [p for p in text[2:].split("/") if p]
            head, rest = "unc/" + "/".join(parts[:2]), "/".join(parts[2:])
        else:
            head, rest = text[0], text[3:]
        joined = posixpath.normpath(f"/{head}/{rest}")
    else:
        joined = posixpath.normpath("/" + path.lstrip("/"))
    return joined.lstrip("/")


def _comparable(path: str, windows: bool) -> str:
    text = path.replace("\\", "/").rstrip("/")
    return text.lower() if windows else text


def _map_by_rules(path: str, rules: Sequence[tuple[str, str]]) -> str | None:
    """``map_path`` of the embedded rules source; imported when used as a library."""
    found = globals().get("map_path")
    if found is None:  # not the emitted script: the very same code, from the package
        found = importlib.import_module("azrender.paths.rules").map_path
    result: str | None = found(path, list(rules))
    return result


def _below(path: str, root: str, windows: bool) -> bool:
    here, top = _comparable(path, windows), _comparable(root, windows)
    return bool(top) and (here == top or here.startswith(top + "/"))


def remap_path(
    old: str,
    mirror_root: str | None,
    node_os: str = "linux",
    rules: Sequence[tuple[str, str]] = (),
) -> str | None:
    """The node path for ``old``, or ``None`` when it must stay as it is.

    ``rules`` (source root, node root) are tried first, longest source wins
    (:func:`map_path`); then ``old`` goes below ``mirror_root`` by its mirror
    key. Unchanged: empty paths, Blender-relative ``//`` paths, ``<builtin>``,
    plain relative paths, paths already below a rule's node root or
    ``mirror_root`` (so running the script twice is harmless), and paths
    nothing covers (``mirror_root`` None: see :func:`is_unmapped`). Roots must
    already be expanded. A trailing separator (image strip folders) is kept.

    >>> remap_path("p:/SHOW/tex/a.png", None, rules=[("P:\\\\show", "/mnt/share")])
    '/mnt/share/tex/a.png'
    """
    if not old or old.startswith("//") or old == "<builtin>":
        return None
    if not (old.startswith("/") or is_windows_path(old)):
        return None
    windows = node_os == "windows"
    targets = [target for _, target in rules] + ([mirror_root] if mirror_root else [])
    if any(_below(old, target, windows) for target in targets):
        return None
    if rules:
        mapped = _map_by_rules(old, rules)
        if mapped is not None:
            return None if mapped == old else mapped
    if not mirror_root:
        return None
    sep = "\\" if windows else "/"
    new = mirror_root.rstrip("/\\") + sep + mirror_key(old).replace("/", sep)
    if old.endswith(("/", "\\")):
        new += sep
    return new


def is_unmapped(old: str, mirror_root: str | None, rules: Sequence[tuple[str, str]] = ()) -> bool:
    """True for an absolute path that neither a rule nor the mirror covers (it stays broken)."""
    if mirror_root or not old or old.startswith("//") or not (old.startswith("/") or is_windows_path(old)):
        return False
    if any(_below(old, target, False) or _below(old, target, True) for _, target in rules):
        return False
    return _map_by_rules(old, rules) is None


def expand_root(mirror_root: str) -> str:
    """Expand ``$VAR``/``${VAR}`` (and ``%VAR%`` on Windows) in a node root, on the node."""
    expanded = os.path.expandvars(mirror_root)
    if "$" in expanded or (os.name == "nt" and "%" in expanded):
        raise RuntimeError(f"azrender remap: node root {mirror_root!r} names an unset variable")
    return expanded


class _Remapper:
    """Applies :func:`remap_path` to one property of one datablock and says so."""

    def __init__(self, root: str | None, node_os: str, rules: Sequence[tuple[str, str]] = ()) -> None:
        self.root = root
        self.node_os = node_os
        self.rules = list(rules)
        self.count = 0
        self.failed = 0
        self.unmapped = 0

    def apply(self, owner: Any, attr: str, label: str) -> bool:
        old = getattr(owner, attr, None)
        if not isinstance(old, str):
            return False
        new = remap_path(old, self.root, self.node_os, self.rules)
        if new is None:
            if is_unmapped(old, self.root, self.rules):
                # Left as it is: the render shows it missing, the log says why.
                self.unmapped += 1
                print(f"azrender remap: {label}: {old} is below no mapped root", flush=True)
            return False
        try:
            setattr(owner, attr, new)
        except (AttributeError, TypeError, RuntimeError) as exc:
            # Linked (library) datablocks are read-only; their paths are the
            # library file's business and resolve relative to it.
            self.failed += 1
            print(f"azrender remap: cannot rewrite {label}: {exc}", flush=True)
            return False
        self.count += 1
        print(f"azrender remap: {label}: {old} -> {new}", flush=True)
        return True


def _local(idblock: Any) -> bool:
    return getattr(idblock, "library", None) is None


class RenderOverrides(NamedTuple):
    """What the artist overrides that Blender's command line cannot: camera and image size.

    (A NamedTuple, not a dataclass: the script is exec'd in a namespace that is
    no module, where dataclasses cannot resolve their annotations.)
    """

    camera: str | None = None
    width: int | None = None
    height: int | None = None


def render_overrides(argv: Sequence[str]) -> RenderOverrides:
    """The ``--azrender-*`` words after ``--`` in Blender's command line; other words are ignored.

    They share the space after ``--`` with other scripts' words (Cycles'
    ``--cycles-device``), so unknown words are skipped, as Cycles does.

    >>> render_overrides(["blender", "-b", "s.blend", "--", "--cycles-device", "CPU",
    ...                   "--azrender-camera", "Cam 2", "--azrender-width", "640"])
    RenderOverrides(camera='Cam 2', width=640, height=None)
    >>> render_overrides(["blender", "--azrender-camera", "X"])  # not after '--': Blender's own
    RenderOverrides(camera=None, width=None, height=None)
    """
    words = list(argv)
    if "--" not in words:
        return RenderOverrides()
    words = words[words.index("--") + 1 :]
    found: dict[str, str] = {}
    for flag, value in itertools.pairwise(words):
        if flag in {"--azrender-camera", "--azrender-width", "--azrender-height"}:
            found[flag[len("--azrender-") :]] = value
    sizes: dict[str, int | None] = {}
    for key in ("width", "height"):
        text = found.get(key)
        if text is not None and not text.isdigit():
            raise RuntimeError(f"azrender: --azrender-{key} {text!r} is not a whole number")
        sizes[key] = int(text) if text is not None else None
    return RenderOverrides(camera=found.get("camera"), width=sizes["width"], height=sizes["height"])


def apply_overrides(scene: Any, overrides: RenderOverrides) -> None:
    """Set ``scene``'s camera and image size; an unknown camera is a one-line error.

    Raised as RuntimeError so that ``--python-exit-code 1`` fails the task
    instead of rendering through the wrong camera.
    """
    if overrides.camera is not None:
        cameras = sorted(o.name for o in scene.objects if o.type == "CAMERA")
        obj = scene.objects.get(overrides.camera)
        if obj is None or obj.type != "CAMERA":
            raise RuntimeError(
                f"azrender: scene '{scene.name}' has no camera named '{overrides.camera}'"
                f" (cameras: {', '.join(cameras) or 'none'})"
            )
        scene.camera = obj
        print(f"azrender: rendering through camera '{obj.name}'", flush=True)
    render = scene.render
    if overrides.width is not None:
        render.resolution_x = overrides.width
    if overrides.height is not None:
        render.resolution_y = overrides.height
    if overrides.width is not None or overrides.height is not None:
        # The asked-for size is the written size, whatever percentage the artist previewed at.
        render.resolution_percentage = 100
        print(f"azrender: image size {render.resolution_x}x{render.resolution_y}", flush=True)


def run(config: dict[str, Any]) -> int:
    """Apply the render overrides, then rewrite every absolute path in the open Blender file.

    Returns how many paths changed.
    """
    import bpy  # only inside Blender

    apply_overrides(bpy.context.scene, render_overrides(sys.argv))
    mirror = config.get("mirror_root")
    root = expand_root(str(mirror)) if mirror else None
    rules = [(str(source), expand_root(str(target))) for source, target in config.get("rules", ())]
    remap = _Remapper(root, str(config.get("node_os", "linux")), rules)

    # Libraries first, and reload each one: the datablocks linked from it (and
    # the textures they use) then come from the mirrored file.
    for lib in list(bpy.data.libraries):
        if remap.apply(lib, "filepath", f"Library '{lib.name}'"):
            try:
                lib.reload()
            except RuntimeError as exc:
                print(f"azrender remap: reloading library '{lib.name}' failed: {exc}", flush=True)

    for image in bpy.data.images:
        if _local(image) and image.source in {"FILE", "SEQUENCE", "MOVIE", "TILED"}:
            remap.apply(image, "filepath", f"Image '{image.name}'")
    for collection, label in (
        (bpy.data.movieclips, "Movie clip"),
        (bpy.data.sounds, "Sound"),
        (bpy.data.fonts, "Font"),
        (bpy.data.cache_files, "Cache file"),
        (bpy.data.volumes, "Volume"),
    ):
        for block in collection:
            if _local(block):
                remap.apply(block, "filepath", f"{label} '{block.name}'")

    for obj in bpy.data.objects:
        if not _local(obj):
            continue
        for mod in obj.modifiers:
            # Ocean (cache folder), Mesh Cache (file), Fluid domain (cache folder).
            remap.apply(mod, "filepath", f"Object '{obj.name}' modifier '{mod.name}'")
            remap.apply(mod, "cache_directory", f"Object '{obj.name}' modifier '{mod.name}'")
            settings = getattr(mod, "domain_settings", None)
            if settings is not None:
                remap.apply(settings, "cache_directory", f"Object '{obj.name}' fluid cache")
        for psys in getattr(obj, "particle_systems", ()):
            cache = psys.point_cache
            if cache.use_external:
                remap.apply(cache, "filepath", f"Object '{obj.name}' particle cache")

    for scene in bpy.data.scenes:
        editor = scene.sequence_editor
        if editor is None or not _local(scene):
            continue
        # Blender 4.4+ calls them strips; older versions sequences.
        strips = getattr(editor, "strips_all", None)
        if strips is None:
            strips = editor.sequences_all
        for strip in strips:
            label = f"Strip '{strip.name}' in scene '{scene.name}'"
            remap.apply(strip, "directory", label)  # image strips: folder + file names
            remap.apply(strip, "filepath", label)  # movie strips

    where = ", ".join([t for _, t in rules] + ([root] if root else [])) or "nothing (no mapping)"
    print(f"azrender remap: {remap.count} path(s) rewritten below {where}", flush=True)
    return remap.count


def main_from_json(config_json: str) -> int:
    """Entry used by the emitted script: the adapter bakes the mapping in as JSON."""
    return run(json.loads(config_json))
