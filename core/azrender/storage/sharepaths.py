"""Where each local file goes on an Azure Files share, and the names the service accepts (pure).

Render nodes see the share on a drive letter, a UNC path or a CIFS mount (the
share root is the plan's ``node_root``), so a file's share path is its node
path with that root taken off::

    items, outside = items_for_share(paths, plan)   # blob = share path; outside: seen elsewhere
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from azrender.errors import StorageError
from azrender.storage.hashing import hash_bytes
from azrender.storage.items import UploadItem
from azrender.storage.modes import StoragePlan

__all__ = ["PART_PREFIX", "items_for_share", "name_problem", "parent_dirs", "part_name", "share_path"]

#: Part files are hidden (leading dot) and named by target and content.
PART_PREFIX = ".azpart-"

# Characters Azure Files refuses in a name (and control characters); a trailing
# dot would be silently stripped by the SDK, so it is refused as well.
_BAD_NAME = re.compile(r'["\\:|<>*?\x00-\x1f]')
_MAX_COMPONENT = 255
_MAX_PATH = 2048


def _parts(path: str, node_os: str) -> list[str]:
    pattern = r"[\\/]" if node_os == "windows" else r"/"
    return [p for p in re.split(pattern, path) if p]


def share_path(local: str | Path, plan: StoragePlan) -> str | None:
    """The path on the share of a local file, or None when the node sees it elsewhere.

    It is the file's node path with the share root (the drive, UNC path or
    mount folder of ``plan.node_root``) taken off; a ``[[paths]]`` rule with an
    absolute target outside the share puts a file elsewhere.

    >>> from azrender.paths import PathMap
    >>> plan = StoragePlan("azure-files", "windows", "S:", PathMap("S:", "windows"), "file-share", False)
    >>> share_path("P:\\\\show\\\\tex\\\\a b.png", plan)
    'P/show/tex/a b.png'
    """
    node = plan.pathmap.map(str(local))
    if node is None:
        return None
    root = _parts(plan.node_root, plan.node_os)
    parts = _parts(node, plan.node_os)
    head = parts[: len(root)]
    if plan.node_os == "windows":
        root, head = [p.casefold() for p in root], [p.casefold() for p in head]
    if head != root or len(parts) == len(root):
        return None
    return posixpath.normpath("/".join(parts[len(root) :]))


def name_problem(path: str) -> str | None:
    """Why Azure Files cannot hold ``path`` (a share path), or None when it can.

    >>> name_problem("P/show/a b ü.png") is None
    True
    >>> name_problem("mnt/show/what?.png")
    "'what?.png' contains a character Azure Files refuses"
    """
    if len(path) > _MAX_PATH:
        return f"the path is longer than {_MAX_PATH} characters"
    for part in path.split("/"):
        if _BAD_NAME.search(part):
            return f"{part!r} contains a character Azure Files refuses"
        if part.endswith("."):
            return f"{part!r} ends with a dot"
        if len(part) > _MAX_COMPONENT:
            return f"{part[:40]!r}... is longer than {_MAX_COMPONENT} characters"
    return None


def items_for_share(
    paths: Iterable[str | Path], plan: StoragePlan
) -> tuple[list[UploadItem], list[str]]:
    """Upload items (``blob`` = share path) and the files the node sees outside the share.

    Raises :class:`StorageError` listing files whose names Azure Files cannot hold.
    """
    items: list[UploadItem] = []
    outside: list[str] = []
    bad: list[str] = []
    # Azure Files names are case-insensitive: /show/A.png and /show/a.png would be one file.
    seen: dict[str, str] = {}
    for p in paths:
        target = share_path(p, plan)
        if target is None:
            outside.append(str(p))
            continue
        problem = name_problem(target)
        if problem is None and seen.setdefault(target.casefold(), target) != target:
            problem = f"differs only in case from {seen[target.casefold()]!r}"
        if problem:
            bad.append(f"{p} ({problem})")
            continue
        items.append(UploadItem(local=Path(p), blob=target))
    if bad:
        shown = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        raise StorageError(
            f"{len(bad)} file(s) cannot be stored on Azure Files: {shown}",
            hint='rename them, or use storage mode "blob-copy"',
        )
    return items, outside


def part_name(path: str, content_hash: str) -> str:
    """The hidden part file a share path is written to before it is renamed into place.

    Named by target and content, so the same file and content reuse one name
    and two files in a folder never share one.

    >>> part_name("P/show/a.png", "ab" * 16).startswith("P/show/.azpart-")
    True
    """
    folder, _, _ = path.rpartition("/")
    name = PART_PREFIX + hash_bytes(f"{path}\n{content_hash}".encode())
    return f"{folder}/{name}" if folder else name


def parent_dirs(paths: Iterable[str]) -> list[str]:
    """Every folder the paths need, parents before children.

    >>> parent_dirs(["a/b/c.png", "a/d.png", "e.png"])
    ['a', 'a/b']
    """
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return sorted(dirs, key=lambda d: (d.count("/"), d))
