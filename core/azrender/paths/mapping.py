"""Path mapping: ordered :class:`MapRule` s and a mirror root in a :class:`PathMap`, and :func:`mirror_key`.

Named by :mod:`azrender.paths` (``from azrender.paths import PathMap``),
which a scan imports without this module.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender.errors import UsageError
from azrender.paths import is_windows_path
from azrender.paths.rules import (
    is_absolute_target,
    join_node,
    map_path,
    node_separator,
    split_path,
)


def mirror_key(path: str | Path) -> str:
    """The relative, forward-slash key under which an absolute path is mirrored.

    The same key names the blob in the assets container and the file below the
    node's mirror root, so a blobfuse mount of the container shows the same tree.
    Drive letters become the first component (``P:`` → ``P``), UNC paths start
    with ``unc/<server>/<share>``; ``.`` and ``..`` are resolved as text.
    """
    text = str(path)
    if is_windows_path(text):
        win = PureWindowsPath(text)
        if win.drive.startswith("\\\\"):
            server_share = win.drive.strip("\\").replace("\\", "/")
            head = f"unc/{server_share}"
        else:
            head = win.drive.rstrip(":")
        rest = "/".join(win.parts[1:])
    else:
        posix = PurePosixPath(text)
        if not posix.is_absolute():
            raise UsageError(f"cannot map relative path {text!r}", hint="resolve it against the scene first")
        head, rest = "", "/".join(posix.parts[1:])
    joined = posixpath.normpath(f"/{head}/{rest}" if head else f"/{rest}")
    return joined.lstrip("/")


def _components(text: str) -> list[str]:
    return [p for p in re.split(r"[\\/]", text) if p]


@dataclass(frozen=True)
class MapRule:
    """One path-mapping rule: files below ``source`` (as the artist's machine
    writes it: ``P:\\show``, ``\\\\srv\\projects``, ``/mnt/show``) live below
    ``target`` on the node (``$AZ_BATCH_NODE_MOUNTS_DIR/show``, ``S:\\show``)."""

    source: str
    target: str

    def __post_init__(self) -> None:
        if split_path(self.source) is None:
            raise UsageError(
                f"path mapping source {self.source!r} is not an absolute path",
                hint="write a drive (P:\\show), UNC (\\\\server\\share) or POSIX (/mnt/show) root",
            )
        if not is_absolute_target(self.target):
            raise UsageError(
                f"path mapping target {self.target!r} is not an absolute node path",
                hint="start it with /, a drive letter, \\\\, $VAR or %VAR%",
            )


class UnmappedPathError(UsageError):
    """Files that no path-mapping rule covers; ``paths`` lists them all."""

    def __init__(self, paths: list[str], *, hint: str) -> None:
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        noun = "file is" if len(paths) == 1 else "files are"
        super().__init__(f"{len(paths)} {noun} not below any mapped root: {shown}", hint=hint)
        self.paths = paths


UNMAPPED_HINT = (
    "move them below a shared root, or add a [[paths]] rule for their folder to the preset "
    "(see docs/presets.md, \"Path mapping\")"
)


@dataclass(frozen=True)
class PathMap:
    """Rewrite rules from the artist's paths to the node's paths.

    ``rules`` are tried first, longest matching source wins (see
    :mod:`azrender.paths.rules`). Paths no rule covers go below ``mirror_root``
    (the node folder or mount that holds the mirrored asset tree; for
    ``blob-copy``: ``$AZ_BATCH_NODE_SHARED_DIR/assets``) under their
    :func:`mirror_key`; with no ``mirror_root`` they are *unmapped*. Roots may
    contain environment variables; the node expands them when the remap script runs.

    >>> pm = PathMap(rules=(MapRule("P:\\\\show", "/mnt/show"),))
    >>> pm.to_node("p:/SHOW/tex/a b.png")
    '/mnt/show/tex/a b.png'
    >>> pm.map("D:\\\\elsewhere\\\\x.png") is None
    True
    """

    mirror_root: str | None = None
    node_os: str = "linux"
    rules: tuple[MapRule, ...] = ()

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The rules as (source, target) pairs, the form the node scripts use."""
        return [(r.source, r.target) for r in self.rules]

    def map(self, local: str | Path) -> str | None:
        """The node path for ``local``, or None when nothing covers it."""
        text = str(local)
        mapped = map_path(text, self.pairs)
        if mapped is not None or self.mirror_root is None:
            return mapped
        sep = "\\" if self.node_os == "windows" else "/"
        key = mirror_key(text)
        root = self.mirror_root.rstrip("/\\")
        return root + sep + key.replace("/", sep)

    def to_node(self, local: str | Path) -> str:
        """The node path for ``local``; raises :class:`UnmappedPathError` when nothing covers it."""
        mapped = self.map(local)
        if mapped is None:
            raise UnmappedPathError([str(local)], hint=UNMAPPED_HINT)
        return mapped

    def to_local(self, node: str) -> str | None:
        """The artist's path for a node path below a rule's target (outputs), or None.

        The inverse of :meth:`to_node` for rule-mapped paths: the source root as
        the rule spells it, then the rest with the source's separator.
        """
        parts = _components(node)
        best: tuple[int, MapRule] | None = None
        for rule in self.rules:
            windows = node_separator(rule.target) == "\\"
            prefix = _components(rule.target)
            here = parts[: len(prefix)]
            if windows:
                prefix, here = [p.casefold() for p in prefix], [p.casefold() for p in here]
            if here == prefix and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rule)
        if best is None:
            return None
        depth, rule = best
        return join_node(rule.source, parts[depth:])

    def unmapped(self, paths: Iterable[str | Path]) -> list[str]:
        """The paths (as given, in order) that no rule or mirror root covers."""
        return [str(p) for p in paths if self.map(p) is None]

    def check_mapped(self, paths: Iterable[str | Path]) -> None:
        """Raise :class:`UnmappedPathError` listing every path nothing covers.

        Share modes (``nfs``, ``cifs``) upload nothing: a file outside every
        mapped root would be missing on the node, so the job is refused.
        """
        stragglers = self.unmapped(paths)
        if stragglers:
            raise UnmappedPathError(stragglers, hint=UNMAPPED_HINT)

    def to_json(self) -> dict[str, object]:
        """The mapping the remap scripts get (``rules`` only when there are any)."""
        out: dict[str, object] = {"mirror_root": self.mirror_root, "node_os": self.node_os}
        if self.rules:
            out["rules"] = [[r.source, r.target] for r in self.rules]
        return out
