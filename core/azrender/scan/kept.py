"""A scan result as a scan-cache entry keeps it, and back; the entries this process used last.

An entry (:mod:`azrender.scan.cache`) keeps an :class:`AssetSet`'s assets as
six columns (path, kind, exists, size, referrer, read): six lists to decode and
free, not one small list per asset. Reading one back, each leaf (a file no
scanner opens: ``read`` is false) is stat'ed again, so its ``exists`` and
``size`` are today's; the rest is as kept, the cache having checked that the
files read are unchanged.

A process that scans the same scene again and again (the artist's Blender,
Maya or 3ds Max, where Submit is pressed after every small fix) keeps the last
:data:`RECENT_SIZE` entries it read or wrote, decoded (:data:`RECENT`): when
the entry file holds the same bytes again, its JSON is not parsed again nor are
its paths made again. Only the leaves are stat'ed, as on every hit, and an
unchanged leaf is the :class:`Asset` made before (assets and paths are
immutable; each answer is a new :class:`AssetSet` with lists of its own)::

    recent = RECENT.get(entry_path, raw)   # None unless raw is what this process kept
    if recent is not None:
        entry, decoded = recent
        assets = decoded.result(("azrender", "azrender_blender"))
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from azrender.model import Asset, AssetKind, AssetSet
from azrender.scan.codec import decode_value, encode_value
from azrender.scan.pathmaker import PathMaker

#: Decoded entries a process keeps (each a scene's assets: a 10,000-texture scene's are ~5 MB).
RECENT_SIZE = 4

_KINDS = {k.value: k for k in AssetKind}


def encode_result(assets: AssetSet, is_read: Callable[[Asset], bool]) -> dict[str, Any]:
    """``assets`` as an entry's ``result``; ``is_read(asset)`` tells the files a scan opens from leaves."""

    def columns(items: list[Asset], verbatim: bool = False) -> list[list[Any]]:
        return [
            [str(a.path) for a in items], [a.kind.value for a in items], [a.exists for a in items],
            [a.size for a in items], [a.referrer for a in items], [verbatim or is_read(a) for a in items],
        ]  # fmt: skip

    return {
        "scene": str(assets.scene), "app": assets.app, "assets": columns(assets.assets),
        "packed": assets.packed_count, "warnings": assets.warnings,
        "app_files": columns(assets.app_files, verbatim=True),  # the application's own: named, never uploaded
        "app_versions": [[str(p), v] for p, v in assets.app_versions.items()],
        "settings": encode_value(assets.settings), "resolved": assets.resolved,
    }


def decode_result(doc: dict[str, Any], packages: tuple[str, ...]) -> AssetSet:
    """The kept AssetSet, each leaf stat'ed again; settings' classes only from ``packages``.

    Raises ``KeyError``, ``TypeError``, ``ValueError`` or
    :class:`~azrender.scan.codec.Uncacheable` on an entry of another shape.
    """
    return Decoded(doc, _made(doc["assets"]), _made(doc["app_files"])).result(packages)


class Decoded:
    """One entry's result as read (or written) before: its JSON ``doc`` and the assets made from it."""

    __slots__ = ("app_files", "assets", "doc")

    def __init__(self, doc: dict[str, Any], assets: Iterable[Asset], app_files: Iterable[Asset]) -> None:
        self.doc, self.assets, self.app_files = doc, tuple(assets), tuple(app_files)

    def result(self, packages: tuple[str, ...]) -> AssetSet:
        """A new AssetSet of this result with its leaves stat'ed now."""
        doc = self.doc
        result = AssetSet(
            scene=Path(doc["scene"]), app=doc["app"], assets=_restated(doc["assets"], self.assets),
            packed_count=doc["packed"], warnings=list(doc["warnings"]),
            app_files=_restated(doc["app_files"], self.app_files),
            app_versions={Path(p): v for p, v in doc["app_versions"]}, resolved=dict(doc["resolved"]),
        )
        result.settings = decode_value(doc["settings"], packages)
        return result


class RecentEntries:
    """The last ``size`` entries this process read or wrote: entry file -> (its bytes, the entry, its result).

    Writers replace the table rather than change it, so a scan in another
    thread never sees it half-changed (at worst one entry is not kept).
    """

    def __init__(self, size: int = RECENT_SIZE) -> None:
        self.size = size
        self._kept: dict[Path, tuple[bytes, dict[str, Any], Decoded]] = {}

    def get(self, path: Path, raw: bytes) -> tuple[dict[str, Any], Decoded] | None:
        """The entry and result kept for ``path`` if the file now holds ``raw``, the bytes they came from."""
        kept = self._kept.get(path)
        if kept is None or kept[0] != raw:
            return None
        return kept[1], kept[2]

    def put(self, path: Path, raw: bytes, entry: dict[str, Any], result: AssetSet) -> None:
        """Keep ``entry`` (parsed from ``raw``) and ``result``, its answer, for ``path``; the oldest goes."""
        kept = {p: v for p, v in self._kept.items() if p != path}
        kept[path] = (raw, entry, Decoded(entry["result"], result.assets, result.app_files))
        while len(kept) > self.size:
            del kept[next(iter(kept))]
        self._kept = kept

    def clear(self) -> None:
        self._kept = {}


#: This process's recent entries (see the module's docstring).
RECENT = RecentEntries()


def _made(columns: list[list[Any]]) -> list[Asset]:
    """The assets of ``columns`` as kept (leaves not stat'ed yet), each folder's path parsed once."""
    make_path, kinds = PathMaker(), _KINDS
    return [
        Asset(make_path(path), kinds[kind], exists, size, referrer)
        for path, kind, exists, size, referrer in zip(*columns[:5], strict=True)
    ]


def _restated(columns: list[list[Any]], made: tuple[Asset, ...]) -> list[Asset]:
    """``made`` with each leaf's ``exists`` and ``size`` as :meth:`Asset.from_disk` would give them now;
    a leaf that did not change stays the same object."""
    out: list[Asset] = []
    append, leaf, absolute = out.append, _leaf, _absolute  # once, not per row
    for text, read, asset in zip(columns[0], columns[5], made, strict=True):
        if not read:
            exists, size = leaf(text) if absolute(text, asset.path) else (asset.path.is_file(), None)
            if exists != asset.exists or size != asset.size:
                asset = Asset(asset.path, asset.kind, exists, size, asset.referrer)
        append(asset)
    return out


def _absolute(text: str, path: Path) -> bool:
    """``path.is_absolute()``, from the text on POSIX (where it is a leading slash), so a lazy
    Path (Python 3.12+) is not parsed for it."""
    return text.startswith("/") if os.name == "posix" else path.is_absolute()


def _leaf(path: str) -> tuple[bool, int | None]:
    """``exists`` and ``size`` of a leaf as :meth:`Asset.from_disk <azrender.model.Asset.from_disk>` gives them."""
    try:
        st = os.stat(path)
    except OSError:
        return False, None
    return stat.S_ISREG(st.st_mode), st.st_size
