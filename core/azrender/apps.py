"""The contract between the core and an application (Blender, Maya, 3ds Max).

An adapter is registered under the entry-point group ``azrender.apps``::

    [project.entry-points."azrender.apps"]
    blender = "azrender_blender.adapter:BlenderAdapter"

The core only ever talks to this protocol: it never imports ``bpy``,
``maya.cmds`` or ``pymxs``.

An adapter may also have a ``scanner_version`` string: the scan cache
(:mod:`azrender.scan.cache`) keeps a scene's results only for the azrender
version and the scanner version that found them, so an adapter whose scan
changes without a new azrender release bumps it.

:func:`adapter_for_scene` loads only the adapter that owns the scene's suffix:
which suffixes each registered adapter owns is remembered in the user cache
folder (``adapter-suffixes.json``) the first time it is loaded, so a ``.blend``
scan does not import the Maya and 3ds Max packages. A hint is only a hint:
an adapter is always loaded and asked before it is used, and a stale hint
costs one load more, never a wrong answer. The same file remembers the
registered entry points themselves, with the modification time of every
``sys.path`` folder they were read under: installing or removing a
distribution adds or removes its ``.dist-info`` folder there, which changes
that time (POSIX ``mkdir``/``rmdir`` update the parent's mtime), so while
every folder is as it was the scan imports the adapter straight from the
remembered ``module:attr`` and skips ``importlib.metadata`` (about 15 to 30 ms
of a scan's start-up). It remembers the last few ``sys.path`` layouts
(:data:`_SuffixHints.LAYOUTS`), each with its own entry points: the ``azrender``
command, ``python -m azrender`` and a scan inside Maya or 3ds Max (the Qt
dialog) each see a different ``sys.path``, and one machine runs them by turns.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from azrender import settings
from azrender.errors import UsageError
from azrender.lazy import lazy_names
from azrender.model import AssetSet
from azrender.model import SceneSettings as SceneSettings  # part of this contract

if TYPE_CHECKING:  # annotations only: a scan must not load the preset package, the path rules or the job model
    from azrender.model import FrameRange
    from azrender.paths import PathMap
    from azrender.rendering import LocalInstall as LocalInstall
    from azrender.rendering import LocalInstalls as LocalInstalls
    from azrender.rendering import RenderInvocation as RenderInvocation

#: The render half of this contract, imported on first use (a scan needs none of it; azrender.lazy).
__getattr__, __dir__ = lazy_names(globals(), dict.fromkeys(("LocalInstall", "LocalInstalls", "RenderInvocation"),
                                                           "azrender.rendering"))  # fmt: skip

ENTRY_POINT_GROUP = "azrender.apps"


@runtime_checkable
class AppAdapter(Protocol):
    """What each application package provides, headless (no DCC installed).

    An adapter holds no state between calls: what a scan learns travels in the
    :class:`~azrender.model.AssetSet` it returns (files, saved settings, paths
    resolved elsewhere), which submit hands back to :meth:`job_files`.
    """

    name: str
    suffixes: tuple[str, ...]
    #: The render node operating systems the application runs on ("linux", "windows").
    node_systems: tuple[str, ...]
    #: The program a Linux node's render task starts (the local node needs it on PATH).
    renderer_program: str
    #: Renderer names the application has without plug-ins; empty: the adapter cannot tell.
    builtin_renderers: tuple[str, ...]

    def scan(self, scene: Path) -> AssetSet:
        """Find every file ``scene`` needs, recursively; missing files are reported, not dropped.

        The result also carries the scene's saved settings (``settings``) and
        the paths found elsewhere than written (``resolved``); the adapter keeps nothing.
        """
        ...

    def scene_settings(self, scene: Path) -> SceneSettings | None:
        """The render settings saved in ``scene`` (frame range, renderer), read headless.

        None when the adapter does not read them; an unreadable file raises
        :class:`~azrender.errors.SceneError` (or ``OSError``), which the checks
        treat as "not known" (:func:`azrender.preflight.scene.scene_facts`).
        """
        ...

    def command_line(self, invocation: RenderInvocation) -> str:
        """The renderer invocation for one chunk, as a Batch task command line.

        In the form ``invocation.node_os`` runs: Batch starts a task without a
        shell, so a line whose node paths hold variables runs them through
        ``/bin/bash -c`` (Linux) or ``cmd /c`` (Windows).
        """
        ...

    def remap_script(self, pathmap: PathMap, assets: AssetSet | None = None) -> str:
        """Source of the script that rewrites the scene's paths on the node before rendering.

        ``assets`` is the job's :meth:`scan` (None: a scene with no files found).
        """
        ...

    def job_files(self, pathmap: PathMap, assets: AssetSet | None = None) -> dict[str, str]:
        """Every file the job takes to ``$AZ_BATCH_NODE_SHARED_DIR/jobs/<id>/``, by name.

        At least ``remap.py`` (the :meth:`remap_script`, whose node path the
        tasks get as ``RenderInvocation.remap_script``); an app may add more
        next to it (3ds Max: ``remap.ms`` for ``-preRenderScript:``).
        """
        ...

    def output_pattern(self) -> str:
        """Glob, relative to the output folder, that matches the frames this app writes."""
        ...

    def local_stand_in(self, python: str) -> list[str] | None:
        """The argv that stands in for :attr:`renderer_program` on the local node, run by ``python``.

        The local node puts it on its ``PATH`` under that name when this machine
        has no such program (Blender: bpy's runner takes ``blender``'s flags), so
        the very command line a farm node runs renders here. None: the program
        itself must be installed.
        """
        ...

    def local_installs(self, environ: Mapping[str, str]) -> LocalInstalls | None:
        """The installs of the application the local node picks from, each asked its version.

        None: the adapter does not pick; the local node runs :attr:`renderer_program`
        from ``PATH`` (or :meth:`local_stand_in`).

        :raises ~azrender.errors.UsageError: when the machine's setting names an install
            that does not answer like one.
        """
        ...

    def local_program(self, bin_dir: Path, scene_version: str | None, environ: Mapping[str, str]) -> str | None:
        """Make ``bin_dir/<renderer_program>`` run the install a scene saved by ``scene_version`` needs.

        The local node puts ``bin_dir`` first on the ``PATH`` of one job's tasks. Returns
        the line the job's log shows about the choice; None when the adapter does not
        pick (see :meth:`local_installs`) or found nothing to pick.
        """
        ...

    def scene_frames(self, scene: Path) -> FrameRange | None:
        """The frames ``scene`` is saved to render (its start, end and step), read headless.

        The default of ``azrender submit`` without ``--frames``. None when the
        file does not say; an unreadable file raises
        :class:`~azrender.errors.SceneError` as :meth:`scan` does.
        """
        ...


def frames_between(start: int, end: int, step: int = 1) -> FrameRange:
    """The range ``start..end`` every ``step`` frames, as the adapters' :meth:`AppAdapter.scene_frames` give it.

    A step below one counts as one (no application renders backwards by its
    saved settings); an ``end`` before ``start`` is the single frame ``start``.

    >>> frames_between(1, 250).spec, frames_between(10, 50, 5).frames
    ('1-250', (10, 15, 20, 25, 30, 35, 40, 45, 50))
    >>> frames_between(-5, -1).frames, frames_between(7, 7).spec
    ((-5, -4, -3, -2, -1), '7')
    """
    # Imported here: a scan imports this module and needs no frames.
    from azrender.frames import FrameRange

    step = max(1, step)
    if end <= start:
        return FrameRange.parse(str(start))
    return FrameRange.parse(f"{start}-{end}" + (f"x{step}" if step != 1 else ""))


def _registered() -> dict[str, type[AppAdapter]]:
    return {ep.name: ep.load() for ep in _read_entry_points()}


def all_adapters() -> list[AppAdapter]:
    """One adapter of each installed application, by name."""
    return [cls() for _, cls in sorted(_registered().items())]


def adapter_names() -> list[str]:
    """The registered adapters' names (none of them is imported for it)."""
    return sorted(ep.name for ep in _read_entry_points())


def find_adapter(name: str) -> AppAdapter | None:
    """The installed adapter named ``name``, or None (a job's command lines need none to run).

    Only that adapter's package is imported, not every registered one.
    """
    cls = next((ep.load() for ep in _read_entry_points() if ep.name == name), None)
    return cls() if cls is not None else None


def get_adapter(name: str) -> AppAdapter:
    """The installed adapter named ``name``; a one-line error naming the installed ones when none is."""
    adapter = find_adapter(name)
    if adapter is None:
        raise UsageError(
            f"no application adapter named {name!r}",
            hint=f"installed adapters: {', '.join(adapter_names()) or 'none'}",
        )
    return adapter


@dataclass(frozen=True)
class _Registered:
    """One entry point of :data:`ENTRY_POINT_GROUP`, as ``name`` and ``value`` (``module:attr``)."""

    name: str
    value: str

    def load(self) -> type[AppAdapter]:
        module, _, attr = self.value.partition(":")
        found: Any = importlib.import_module(module.strip())
        for part in attr.strip().split(".") if attr.strip() else ():
            found = getattr(found, part)
        return found  # type: ignore[no-any-return]


def _read_entry_points() -> list[_Registered]:
    from importlib.metadata import (
        entry_points,  # only here: its import is a good part of a scan's start
    )

    return [_Registered(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]


def adapter_for_scene(scene: Path) -> AppAdapter:
    """Pick the adapter that owns the scene's file suffix (``.blend`` → blender).

    The registered adapters are asked in their registration order, as before;
    one whose remembered suffixes do not include this one is not loaded,
    unless no loaded adapter owns the suffix (the hint may be stale).
    """
    suffix = scene.suffix.lower()
    hints = _SuffixHints.read()
    skipped: list[_Registered] = []
    try:
        for ep in hints.entry_points():
            if not hints.may_own(ep, suffix):
                skipped.append(ep)
                continue
            adapter = hints.load(ep)
            if suffix in adapter.suffixes:
                return adapter
        for ep in skipped:  # a hint said no; ask the adapter itself before giving up
            adapter = hints.load(ep)
            if suffix in adapter.suffixes:
                return adapter
    finally:
        hints.save()
    known = sorted({s for cls in _registered().values() for s in cls().suffixes})
    raise UsageError(
        f"{scene}: no installed application handles {suffix or 'files without a suffix'!r} scenes",
        hint=f"supported: {', '.join(known) or 'none installed'}",
    )


class _SuffixHints:
    """Which suffixes each registered adapter owned when it was last loaded, by entry point."""

    FILE = "adapter-suffixes.json"

    #: The file's key for the remembered entry points (not a ``name=value`` suffix entry).
    POINTS = "entry-points"

    #: How many ``sys.path`` layouts are remembered, the newest first (each with its entry points).
    LAYOUTS = 4

    def __init__(self, path: Path, known: dict[str, list[str]], layouts: list[dict[str, Any]] | None = None) -> None:
        self.path = path
        self.known = known
        self.layouts = layouts or []
        self.changed = False

    @classmethod
    def read(cls) -> _SuffixHints:
        path = settings.cache_dir() / cls.FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}  # none yet, or unreadable: every adapter is loaded and asked
        if not isinstance(data, dict):
            data = {}
        known = {k: v for k, v in data.items() if _suffix_list(v)}
        kept = data.get(cls.POINTS)
        if isinstance(kept, dict):
            kept = [kept]  # the one layout an earlier version kept
        layouts = [layout for layout in kept if isinstance(layout, dict)] if isinstance(kept, list) else []
        return cls(path, known, layouts)

    def entry_points(self) -> list[_Registered]:
        """The registered adapters: as remembered for this ``sys.path`` while its folders are unchanged,
        else read afresh (and remembered for it, in place of the oldest layout when all are taken)."""
        stamp = _sys_path_stamp()
        folders = _folders(stamp)
        same = next((layout for layout in self.layouts if _folders(layout.get("stamp")) == folders), None)
        if same is not None and same.get("stamp") == stamp and _points_list(same.get("points")):
            points = [_Registered(n, v) for n, v in same["points"]]
            if all(_importable(p) for p in points):
                return points
        points = _read_entry_points()
        fresh = {"stamp": stamp, "points": [[p.name, p.value] for p in points]}
        self.layouts = [fresh, *(layout for layout in self.layouts if layout is not same)][: self.LAYOUTS]
        self.changed = True
        return points

    def may_own(self, ep: _Registered, suffix: str) -> bool:
        owned = self.known.get(_key(ep))
        return owned is None or suffix in owned

    def load(self, ep: _Registered) -> AppAdapter:
        adapter: AppAdapter = ep.load()()
        owned = sorted(adapter.suffixes)
        if self.known.get(_key(ep)) != owned:
            self.known[_key(ep)] = owned
            self.changed = True
        return adapter

    def save(self) -> None:
        """Write what was learned, atomically; a cache folder that cannot be written is no error."""
        if not self.changed:
            return
        import tempfile  # here: most scans learn nothing new and write nothing

        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.FILE, dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({**self.known, **({self.POINTS: self.layouts} if self.layouts else {})}, f, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:  # only a hint: the next scan loads the adapters again
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def _sys_path_stamp() -> list[list[Any]]:
    """Every ``sys.path`` entry with its folder's modification time (None: not a folder here).

    The current folder (``python -m`` puts it first) is left out: it is where an artist
    works, its time changes with every file saved there, and no distribution is
    installed into it.
    """
    stamp: list[list[Any]] = []
    here = os.getcwd()
    for entry in sys.path:
        if entry in ("", ".", here):
            continue
        try:
            stamp.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    return stamp


def _folders(stamp: object) -> list[Any] | None:
    """The ``sys.path`` entries a remembered stamp was taken of, in order; None for anything else."""
    if not isinstance(stamp, list) or not all(isinstance(e, list) and len(e) == 2 for e in stamp):
        return None
    return [entry for entry, _ in stamp]


def _points_list(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    )


def _importable(point: _Registered) -> bool:
    """Whether the remembered entry point's top-level package is still there (nothing is imported)."""
    module = point.value.partition(":")[0].strip().split(".")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _key(ep: _Registered) -> str:
    return f"{ep.name}={ep.value}"


def _suffix_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(s, str) for s in value)
