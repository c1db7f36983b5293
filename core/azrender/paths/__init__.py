"""Where a file of the artist's machine lives on the render node.

Paths are handled as text, in the form the scene wrote them: a Windows path
read on Linux stays a Windows path. Two pure functions do the work:

>>> mirror_key("P:\\\\show\\\\tex\\\\a.png")
'P/show/tex/a.png'
>>> mirror_key("/mnt/show/x.exr")
'mnt/show/x.exr'
>>> PathMap(mirror_root="/node/shared/assets").to_node("/mnt/show/x.exr")
'/node/shared/assets/mnt/show/x.exr'
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender.errors import UsageError

_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_windows_path(path: str) -> bool:
    """True for ``C:\\x``, ``C:/x`` and UNC ``\\\\server\\share`` paths."""
    return bool(_WINDOWS_DRIVE.match(path)) or path.startswith("\\\\")


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


@dataclass(frozen=True)
class PathMap:
    """Rewrite rules from the artist's paths to the node's paths.

    ``mirror_root`` is the node folder that holds the mirrored asset tree (for
    ``blob-copy``: ``$AZ_BATCH_NODE_SHARED_DIR/assets``). It may contain
    environment variables; the node expands them when the remap script runs.
    """

    mirror_root: str
    node_os: str = "linux"

    def to_node(self, local: str | Path) -> str:
        sep = "\\" if self.node_os == "windows" else "/"
        key = mirror_key(local)
        root = self.mirror_root.rstrip("/\\")
        return root + sep + key.replace("/", sep)

    def to_json(self) -> dict[str, str]:
        return {"mirror_root": self.mirror_root, "node_os": self.node_os}
