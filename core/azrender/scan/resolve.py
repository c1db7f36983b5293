"""Where a path written in a scene points: absolute, scene-relative, project-relative.

Paths stay text until they are known to be local: a Windows path read on
Linux (``E:/show/tex/a.png``, ``\\\\srv\\share\\a.png``) is kept exactly as
written, so the report and the path map see what the artist's machine sees.

>>> resolve_path("tex/a.png", scene_dir="/show/shot", env={}).path
'/show/shot/tex/a.png'
>>> resolve_path("E:/lib/a.png", scene_dir="/show/shot", env={}).path
'E:/lib/a.png'
>>> resolve_path("$LIB/a.png", scene_dir="/s", env={}).unresolved
('LIB',)

An application that looks in more places (Maya's project, file rules and
``//`` marker: ``azrender_maya.project``) passes them as ``search_roots`` or
resolves on its own and hands the result to :func:`azrender.scan.assets.resolved_assets`.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from azrender.paths import is_windows_path
from azrender.scan.envvars import expand_vars
from azrender.scan.tokens import expand_pattern, has_tokens


@dataclass(frozen=True)
class ResolvedPath:
    """A scene path after variables and relative folders were applied.

    ``path`` is absolute POSIX text on this machine, or a Windows path kept as
    written (``foreign``). ``written`` is what the scene file said. ``stat`` is
    the stat a resolver took of ``path`` when it found it there, so the scan
    describes the file without a second one (a relative texture costs one stat).
    """

    written: str
    path: str
    unresolved: tuple[str, ...] = ()
    foreign: bool = False
    stat: os.stat_result | None = field(default=None, compare=False, repr=False)


def found_at(path: str, tokens: bool | None = None) -> tuple[bool, os.stat_result | None]:
    """Whether ``path`` is there, as ``os.path.exists`` answers (for a name with tokens: whether a
    file matches it; ``tokens``: :func:`~azrender.scan.tokens.has_tokens`, when known), and the
    stat taken to know it (None for tokens), for :attr:`ResolvedPath.stat`.

    >>> found_at("/")[0], found_at("/no/such/file")
    (True, (False, None))
    """
    if has_tokens(path) if tokens is None else tokens:
        return bool(expand_pattern(path)), None
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # what os.path.exists answers False for
        return False, None
    return True, st


def resolve_path(
    written: str,
    *,
    scene_dir: str | Path,
    search_roots: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
) -> ResolvedPath:
    """Resolve one path as a DCC would, without touching anything but ``stat``.

    Variables are expanded first (``env`` or ``os.environ``). An absolute POSIX
    path is normalised; a Windows path is kept as written. A relative path is
    tried against each of ``search_roots`` (e.g. the Maya project root) and
    then the scene's folder; the first candidate that exists wins, and when
    none does the first candidate is reported (so a missing texture shows
    where it was expected).

    >>> resolve_path("./a/../b.png", scene_dir="/s", env={}).path
    '/s/b.png'
    """
    expansion = expand_vars(written.strip(), env)
    text = expansion.text
    if is_windows_path(text):
        return ResolvedPath(written, text, expansion.unresolved, foreign=True)
    if text.startswith("/"):
        return ResolvedPath(written, posixpath.normpath(text), expansion.unresolved)
    rel = text.replace("\\", "/")
    roots = [str(r) for r in search_roots] + [str(scene_dir)]
    candidates = [posixpath.normpath(posixpath.join(os.path.abspath(r), rel)) for r in roots]
    for candidate in candidates:
        there, st = found_at(candidate)
        if there:
            return ResolvedPath(written, candidate, expansion.unresolved, stat=st)
    return ResolvedPath(written, candidates[0], expansion.unresolved)


def first_visit(visited: set[Path], scene: Path) -> bool:
    """Record ``scene`` as followed; False when it was already (a reference cycle).

    Files are compared by their real path, so a cycle through a symlink or a
    ``..`` spelling still ends.

    >>> seen: set[Path] = set()
    >>> first_visit(seen, Path("/s/a.ma")), first_visit(seen, Path("/s/x/../a.ma"))
    (True, False)
    """
    key = Path(os.path.realpath(scene))
    if key in visited:
        return False
    visited.add(key)
    return True
