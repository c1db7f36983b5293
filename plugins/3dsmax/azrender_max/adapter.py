"""3ds Max's side of the :class:`azrender.apps.AppAdapter` contract, headless.

3ds Max renders on Windows nodes, so a task is a ``cmd /c`` command line in
which ``%AZ_BATCH_*%`` variables expand::

    cmd /c "3dsmaxcmdio.exe -start:1 -end:10 -outputName:"<out>\\shot_.png"
        -pathFile:"<pathfile>" -v:5 "<scene>""

``-start:``/``-end:`` (or ``-frames:`` for an uneven chunk) pick the frames,
``-outputName:`` the output file (3ds Max appends the frame number),
``-pathFile:`` a text file listing, one per line, the node folders where 3ds
Max looks for a bitmap whose saved path does not exist (see
:meth:`MaxAdapter.remap_script`). ``cmd /c`` strips the outer pair of quotes
and runs the rest as written.

>>> from azrender.model import FrameChunk
>>> max_frame_flags(FrameChunk((1, 2, 3))), max_frame_flags(FrameChunk((1, 5)))
(['-start:1', '-end:3'], ['-frames:1,5'])
"""

from __future__ import annotations

import ntpath
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender.apps import RenderInvocation
from azrender.errors import UsageError
from azrender.model import AssetSet, FrameChunk
from azrender.paths import PathMap, is_windows_path
from azrender_max.scan import scan_max

EXECUTABLE = "3dsmaxcmdio.exe"

# Output format names (presets use Blender-ish spellings) -> the extension 3ds Max writes by.
_EXTENSIONS = {
    "PNG": "png",
    "EXR": "exr",
    "OPEN_EXR": "exr",
    "OPENEXR": "exr",
    "JPEG": "jpg",
    "JPG": "jpg",
    "TIFF": "tif",
    "TIF": "tif",
    "TGA": "tga",
    "TARGA": "tga",
    "BMP": "bmp",
}


def max_extension(name: str) -> str:
    """The output file extension for a format name.

    >>> max_extension("OPEN_EXR"), max_extension("png")
    ('exr', 'png')
    """
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    if key not in _EXTENSIONS:
        raise UsageError(
            f"3ds Max output format {name!r} is not supported",
            hint=f"use one of {', '.join(sorted(set(_EXTENSIONS)))}",
        )
    return _EXTENSIONS[key]


def max_frame_flags(chunk: FrameChunk) -> list[str]:
    """``-start:/-end:`` for a contiguous chunk, else ``-frames:`` with the list."""
    if chunk.is_contiguous:
        return [f"-start:{chunk.first}", f"-end:{chunk.last}"]
    return ["-frames:" + ",".join(str(f) for f in chunk.frames)]


def cmd_quote(text: str) -> str:
    """``text`` as one double-quoted argument for ``cmd``; a ``"`` cannot be passed safely."""
    if '"' in text or "\n" in text or "\r" in text:
        raise UsageError(
            f"path {text!r} has a double quote or a line break",
            hint="rename the file or folder: cmd.exe cannot pass it to 3ds Max",
        )
    return f'"{text}"'


def _stem(node_scene: str) -> str:
    name = (
        PureWindowsPath(node_scene).name
        if is_windows_path(node_scene) or "\\" in node_scene
        else PurePosixPath(node_scene).name
    )
    if name.lower().endswith(".max"):
        name = name[:-4]
    return name or "render"


def path_file(folders: Sequence[str]) -> str:
    """The ``-pathFile:`` text: one folder per line, each once, in the given order (CRLF, as on Windows).

    >>> path_file(["S:\\\\a", "S:\\\\b", "S:\\\\a"])
    'S:\\\\a\\r\\nS:\\\\b\\r\\n'
    """
    unique = list(dict.fromkeys(f.rstrip("\\/") for f in folders if f.strip()))
    return "".join(f + "\r\n" for f in unique)


class MaxAdapter:
    """Scans ``.max`` files and renders them with ``3dsmaxcmdio.exe`` on Windows nodes."""

    name: str = "max"
    suffixes: tuple[str, ...] = (".max",)

    def __init__(self, map_paths: Sequence[str | Path] = ()) -> None:
        self.map_paths = tuple(map_paths)
        # Folders of the files the last scan found: the node's bitmap search path.
        self._asset_folders: list[Path] = []

    def scan(self, scene: Path) -> AssetSet:
        """Every dependency of ``scene`` (see :func:`azrender_max.scan.scan_max`)."""
        assets = scan_max(scene, map_paths=self.map_paths)
        self._asset_folders = list(dict.fromkeys(a.path.parent for a in assets.present))
        return assets

    def command_line(self, invocation: RenderInvocation) -> str:
        """The Batch task command line (``cmd /c``) that renders ``invocation.chunk``."""
        ext = max_extension(invocation.job.output_format or "PNG")
        out_dir = invocation.output_dir.rstrip("\\/")
        output = (
            ntpath.join(out_dir, _stem(invocation.node_scene) + "_." + ext)
            if out_dir
            else f"{_stem(invocation.node_scene)}_.{ext}"
        )
        words = [EXECUTABLE, *max_frame_flags(invocation.chunk)]
        words.append("-outputName:" + cmd_quote(output))
        if invocation.remap_script:
            words.append("-pathFile:" + cmd_quote(invocation.remap_script))
        words += ["-v:5", cmd_quote(invocation.node_scene)]
        return 'cmd /c "' + " ".join(words) + '"'

    def remap_script(self, pathmap: PathMap) -> str:
        """The ``-pathFile:`` text: node folders of the last scan's files, one per line.

        3ds Max looks for a bitmap whose saved path does not exist by its file
        name in these folders, so the node's copies are found without editing
        the scene.
        """
        return path_file([pathmap.to_node(folder) for folder in self._asset_folders])

    def output_pattern(self) -> str:
        """Glob for the frames ``3dsmaxcmdio`` writes into the output folder."""
        return "*.*"
