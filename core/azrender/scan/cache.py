"""Scan results kept per scene, so a rescan of an unchanged scene is a lookup.

A scan of a scene with thousands of textures reads the scene and every library
it links; pressing Submit again a minute later reads them all again, though
nothing changed. :class:`ScanCache` keeps each scene's :class:`AssetSet` in
``<cache_dir>/scans/`` (``AZRENDER_CACHE_DIR``, as the hash cache) and serves
it again while all of this still holds:

* the **key**: the scene's path, size and ``mtime_ns``, and the scanner version
  (azrender's version, the adapter's class and its ``scanner_version``
  attribute, and the size and mtime of the adapter's and the core scanner's
  source files, so an edited scanner never answers with an older one's result);
* every **file the scan read** is unchanged (size and ``mtime_ns``): linked
  libraries, references, USD layers, XGen collections... (:func:`is_read`: the
  assets whose kind or suffix is one a scanner opens; anything else it lists is a leaf);
* every **folder** holding a listed file, and the scene's own, has the same
  ``mtime_ns``: a folder's mtime changes when an entry is created, removed or
  renamed in it (POSIX ``stat``; NTFS alike), so a new UDIM tile or sequence
  frame, a deleted texture or a file saved beside the scene is a miss;
* each **environment variable** the scan looked up has the same value
  (:func:`azrender.scan.envvars.recording_env_reads`);
* each file the scan used without listing it (Maya's ``workspace.mel``) is
  unchanged, each it looked for in vain is still missing, and each folder it
  looked in has the same ``mtime_ns`` (:mod:`azrender.scan.inputs`).

On a hit the leaves (textures, caches, sounds...) are stat'ed again, so their
``exists`` and ``size`` are today's, not the cached ones; an entry this process
read or wrote last is not parsed again (:mod:`azrender.scan.kept`). A result with a
missing file is not kept: the application may look for a missing file in more
places than the result names (Maya's file rules), and a later scan must find it
there. Nor is a result kept while a file it depends on changed less than
:data:`RACY_NS` before the scan started: a file rewritten within the same
timestamp tick keeps its mtime (the "racy" case Git's index documents,
https://git-scm.com/docs/racy-git), so such a result could not be told from a
stale one.

The cache is only an accelerator: an unreadable, corrupt or foreign entry is
a miss (logged at debug level), a folder that cannot be written means no
caching, and entries are written atomically (a temporary file renamed over the
old one) and pruned, oldest first, to :data:`MAX_ENTRIES` files and
:data:`MAX_BYTES` in all.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azrender import __version__, settings
from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan.codec import Uncacheable
from azrender.scan.collector import collector_paused
from azrender.scan.envvars import recording_env_reads
from azrender.scan.inputs import Inputs, recording_inputs
from azrender.scan.kept import RECENT, decode_result, encode_result

if TYPE_CHECKING:
    from hashlib import blake2b

    from azrender.apps import AppAdapter


def _debug(message: str, *args: object) -> None:
    """A debug line in ``azrender.scan.cache``'s log (logging is loaded only when there is one)."""
    import logging

    logging.getLogger(__name__).debug(message, *args)


#: The entry format; an entry of another format is a miss (3: the assets as columns, the files missed).
FORMAT = 3
#: Entries kept at most (one per scene), and their total size: the oldest go first.
MAX_ENTRIES = 500
MAX_BYTES = 256 << 20
#: A file changed less than this before the scan started may change again unseen (see above):
#: two seconds covers the coarsest timestamps in use (FAT's), and a kernel's coarse clock.
RACY_NS = 2_000_000_000

#: Kinds of files no scanner opens: their change alters only their own exists and size.
LEAF_KINDS = frozenset({
    AssetKind.TEXTURE, AssetKind.CACHE, AssetKind.VOLUME, AssetKind.AUDIO, AssetKind.MOVIE, AssetKind.FONT,
})
#: Suffixes of files a scanner opens whatever kind it gives them: USD layers (azrender.scan.usd),
#: XGen collections, 3ds Max image file lists, OCIO configs, MaterialX documents, scenes.
READ_SUFFIXES = frozenset({
    ".usd", ".usda", ".usdc", ".usdz", ".xgen", ".ifl", ".ocio", ".mtlx", ".ma", ".mb", ".max", ".blend",
})
_MISSING = -1  # the mtime recorded for a folder that does not exist


def is_read(asset: Asset) -> bool:
    """True for a file a scan may have opened (its content decides what else is listed)."""
    return asset.kind not in LEAF_KINDS or asset.path.suffix.lower() in READ_SUFFIXES


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through a temporary file in the same folder and one rename.

    A reader sees the old file or the new one, never a part; a failed write
    leaves no temporary file behind. Raises ``OSError``.
    """
    import tempfile  # here: a scan the cache answers writes nothing

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class ScanCache:
    """Scan results per scene in a folder (default ``<cache_dir>/scans``); see the module's docstring."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder if folder is not None else settings.cache_dir() / "scans"

    def scan(self, adapter: AppAdapter, scene: Path) -> AssetSet:
        """``adapter.scan(scene)``, or the kept result when nothing it depends on changed."""
        with collector_paused():
            return self._scan(adapter, scene)

    def _scan(self, adapter: AppAdapter, scene: Path) -> AssetSet:
        version = scanner_version(adapter)
        hit = self.lookup(scene, version, adapter)
        if hit is not None:
            return hit
        started = time.time_ns()
        with recording_env_reads() as env, recording_inputs() as inputs:
            assets = adapter.scan(scene)
        self.store(scene, version, assets, env, started_ns=started, inputs=inputs)
        return assets

    def entry_path(self, scene: Path) -> Path:
        """The file that holds ``scene``'s entry."""
        return self.folder / (_blake2b(os.fsencode(scene)).hexdigest() + ".json")

    def lookup(self, scene: Path, version: str, adapter: AppAdapter) -> AssetSet | None:
        """The kept result for ``scene`` with its leaves stat'ed again; None on any doubt."""
        path = self.entry_path(scene)
        packages = ("azrender", _package(adapter))
        try:
            raw = path.read_bytes()
            recent = RECENT.get(path, raw)  # the same bytes this process read or wrote last: decoded already
            entry = recent[0] if recent is not None else json.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError("not an object")
            if not _current(entry, scene, version):
                return None
            if recent is not None:
                assets = recent[1].result(packages)
            else:
                assets = decode_result(entry["result"], packages)
                RECENT.put(path, raw, entry, assets)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, Uncacheable) as exc:
            _debug("scan cache: ignoring %s: %s", path, exc)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # the pruning goes by last use
        return assets

    def store(
        self, scene: Path, version: str, assets: AssetSet, env: dict[str, str | None], *, started_ns: int,
        inputs: Inputs,
    ) -> bool:  # fmt: skip
        """Keep ``assets`` for ``scene`` when it may be kept (see the module's docstring); True if kept."""
        if assets.missing:
            return False
        scene_stat = _stat(scene)
        if scene_stat is None:
            return False
        used = [str(a.path) for a in assets.assets if is_read(a) and a.path != scene]
        read: list[tuple[str, int, int]] = []
        for path in dict.fromkeys([*used, *sorted(inputs.files)]):
            now = _stat(path)
            if now is None:
                return False  # used by the scan, yet no regular file now: nothing to compare with later
            read.append((path, *now))
        if any(_stat(path) is not None for path in inputs.missing):
            return False  # there now, though the scan did not find it: its result is stale already
        watched = dict.fromkeys([*map(str, _folders(scene, assets.assets)), *sorted(inputs.folders)])
        folders = [(f, _mtime(f)) for f in watched]
        newest = max([scene_stat[1], *(m for _, _, m in read), *(m for _, m in folders)])
        if newest > started_ns - RACY_NS:
            _debug("scan cache: %s changed within %d s of its scan; not kept", scene, RACY_NS // 10**9)
            return False
        try:
            entry = {
                "format": FORMAT, "scene": str(scene), "size": scene_stat[0], "mtime_ns": scene_stat[1],
                "scanner": version, "read": read, "folders": folders, "env": env, "result": encode_result(assets, is_read),
                "missing": sorted(inputs.missing),
            }
            data = json.dumps(entry, separators=(",", ":")).encode()
        except Uncacheable as exc:
            _debug("scan cache: %s not kept: %s", scene, exc)
            return False
        if len(data) > MAX_BYTES // 4:
            return False  # one scene may not push every other out
        entry_file = self.entry_path(scene)
        try:
            write_atomically(entry_file, data)
            self.prune()
        except OSError as exc:
            _debug("scan cache: cannot write in %s: %s", self.folder, exc)
            return False
        # Parsed back, not ``entry``: that shares the result's own lists (warnings, resolved), which the
        # caller may change; a lookup must see the entry as written.
        RECENT.put(entry_file, data, json.loads(data), assets)
        return True

    def prune(self) -> None:
        """Remove the least recently used entries beyond :data:`MAX_ENTRIES` or :data:`MAX_BYTES`."""
        entries = []
        with os.scandir(self.folder) as found:
            for e in found:
                if e.name.endswith(".json") and e.is_file():
                    st = e.stat()
                    entries.append((st.st_mtime_ns, st.st_size, e.path))
        entries.sort(reverse=True)
        total = 0
        for count, (_, size, path) in enumerate(entries, 1):
            total += size
            if count > MAX_ENTRIES or total > MAX_BYTES:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def scanner_version(adapter: AppAdapter) -> str:
    """What a kept result is valid for: azrender's version, the adapter, its scanner's code."""
    cls = type(adapter)
    own = getattr(adapter, "scanner_version", "")
    top = sys.modules[_package(adapter)]
    here = Path(__file__).parent
    sources = [here, here.parent / "model.py", *(Path(p) for p in getattr(top, "__path__", ()))]
    digest = _blake2b(b"")
    for source in sources:
        for name, size, mtime in _source_stats(source):
            digest.update(f"{name}\0{size}\0{mtime}\n".encode())
    return f"{__version__} {cls.__module__}.{cls.__qualname__} {own} {digest.hexdigest()[:16]}"


def _blake2b(data: bytes) -> blake2b:
    """A 16-byte BLAKE2b of ``data`` (``.update`` for more): names and versions the cache's entries.

    ``hashlib.blake2b`` is CPython's built-in ``_blake2`` module; importing it
    from there skips ``hashlib``'s import of OpenSSL's ``_hashlib`` (~2 ms of
    every cached scan's start here, for a hash this cache has no need of).
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # another Python: hashlib's, wherever it comes from
        from hashlib import blake2b
    return blake2b(data, digest_size=16)


def _package(adapter: AppAdapter) -> str:
    """The top-level package the adapter's class comes from (``azrender_blender``)."""
    return type(adapter).__module__.partition(".")[0]


def _source_stats(folder: Path) -> Iterable[tuple[str, int, int]]:
    """(path, size, mtime_ns) of each Python file in ``folder`` and below (or of the file ``folder``)."""
    if folder.is_file():
        st = folder.stat()
        yield str(folder), st.st_size, st.st_mtime_ns
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                yield os.path.join(root, name), st.st_size, st.st_mtime_ns


def _stat(path: Path | str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _mtime(path: Path | str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return _MISSING


def _folders(scene: Path, assets: Iterable[Asset]) -> list[Path]:
    """The scene's folder and each folder holding a listed file, once each, in first-seen order."""
    found = {scene.parent: None}
    for a in assets:
        if a.path.is_absolute():
            found.setdefault(a.path.parent, None)
    return list(found)


def _current(entry: dict[str, Any], scene: Path, version: str) -> bool:
    """True while ``entry`` still describes ``scene`` as the scanner ``version`` would find it."""
    if entry.get("format") != FORMAT or entry.get("scene") != str(scene) or entry.get("scanner") != version:
        return False
    if _stat(scene) != (entry["size"], entry["mtime_ns"]):
        return False
    if any(_stat(p) != (size, mtime) for p, size, mtime in entry["read"]):
        return False
    if any(_mtime(f) != mtime for f, mtime in entry["folders"]):
        return False
    if any(_stat(p) is not None for p in entry["missing"]):
        return False
    return all(os.environ.get(name) == value for name, value in entry["env"].items())
