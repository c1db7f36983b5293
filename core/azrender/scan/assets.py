"""Turn one path written in a scene into :class:`azrender.model.Asset` records.

:func:`assets_for` is the one call a scanner makes per referring attribute:
it resolves the path, expands tile/frame tokens or frame sequences against the
disk, and returns one Asset per file. Nothing is dropped: a pattern that
matches no file, an unset variable or a Windows path that does not exist here
all give an Asset with ``exists=False`` naming the referrer.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "a.png").write_text("x")
>>> [a.exists for a in assets_for("a.png", AssetKind.TEXTURE, "file1.ftn", scene_dir=d)]
[True]
>>> missing = assets_for("gone.png", AssetKind.TEXTURE, "file2.ftn", scene_dir=d)[0]
>>> missing.exists, missing.referrer
(False, 'file2.ftn')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from azrender.model import Asset, AssetKind
from azrender.scan.resolve import ResolvedPath, resolve_path
from azrender.scan.tokens import expand_pattern, find_sequence, has_tokens


def asset_at(
    path: str | Path, kind: AssetKind, referrer: str = "", make_path: Callable[[str], Path] = Path,
    stat: os.stat_result | None = None,
) -> Asset:  # fmt: skip
    """Describe one file; a Windows path on a POSIX machine is kept as written (and missing).

    ``make_path`` makes the Path from the text (a scan's
    :class:`~azrender.scan.pathmaker.PathMaker`, where it makes thousands);
    ``stat`` is the file's, when the caller just took it (a resolver's, see
    :attr:`~azrender.scan.resolve.ResolvedPath.stat`), so it is not taken again.

    >>> asset_at("E:/tex/a.png", AssetKind.TEXTURE, "file1").path.as_posix()
    'E:/tex/a.png'
    """
    text = str(path)
    p = make_path(text)
    if not p.is_absolute():
        # Windows path read on Linux (or a relative leftover): do not glue the cwd on.
        return Asset(path=p, kind=kind, exists=p.is_file(), referrer=referrer)
    return Asset.from_disk(p, kind, referrer) if stat is None else Asset.from_stat(p, kind, stat, referrer)


def _missing_note(resolved: ResolvedPath) -> str:
    if resolved.unresolved:
        names = ", ".join("$" + n for n in resolved.unresolved)
        return f" (unset variable {names})"
    return ""


def assets_for(
    written: str,
    kind: AssetKind,
    referrer: str,
    *,
    scene_dir: str | Path,
    search_roots: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
    sequence: bool = False,
) -> list[Asset]:
    """Every file that one scene path stands for, present or missing.

    ``sequence`` asks for the frame siblings of a numbered file (Maya's
    ``useFrameExtension``). Tokens (``<UDIM>``, ``####``...) in the name are
    always expanded. An empty ``written`` gives ``[]``.
    """
    if not written.strip():
        return []
    resolved = resolve_path(written, scene_dir=scene_dir, search_roots=search_roots, env=env)
    return resolved_assets(resolved, kind, referrer, sequence=sequence)


def resolved_assets(
    resolved: ResolvedPath, kind: AssetKind, referrer: str, *, sequence: bool = False,
    make_path: Callable[[str], Path] = Path,
) -> list[Asset]:  # fmt: skip
    """:func:`assets_for` for a path an application's own resolver already resolved (``make_path``: see :func:`asset_at`).

    >>> resolved_assets(ResolvedPath("E:/a.png", "E:/a.png", foreign=True), AssetKind.TEXTURE, "f.ftn")[0].exists
    False
    """
    note = _missing_note(resolved)
    if note:
        return [Asset(path=Path(resolved.path), kind=kind, exists=False, referrer=referrer + note)]
    if resolved.foreign:
        return [asset_at(resolved.path, kind, referrer)]
    if not has_tokens(resolved.path) and not sequence:  # the common case: one plain file
        return [asset_at(resolved.path, kind, referrer, make_path, resolved.stat)]
    files = expand_pattern(resolved.path) if has_tokens(resolved.path) else find_sequence(resolved.path)
    if not files:
        return [Asset(path=Path(resolved.path), kind=kind, exists=False, referrer=referrer)]
    return [asset_at(f, kind, referrer) for f in files]
