"""Maya's side of the :class:`azrender.apps.AppAdapter` contract, headless.

The command line is Maya's batch renderer, run through bash so that
``$AZ_BATCH_*`` variables in node paths expand::

    /bin/bash -c 'Render -r file -s 1 -e 10 -b 1 -rd "<out>" -im "<stem>" -of png
        -preRender "python(\\"exec(open(r'<remap.py>').read())\\")" "<scene>"'

``-r file`` renders with the renderer saved in the scene; ``-s/-e/-b`` are
start, end and step; ``-rd`` the output folder; ``-im`` the image name;
``-of`` the image format; ``-preRender`` MEL run after the scene is loaded and
before the first frame: it executes the remap script (see
:mod:`azrender_maya.remap`) in Maya's Python. The scene file comes last.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender.apps import RenderInvocation
from azrender.errors import UsageError
from azrender.model import AssetSet, FrameChunk
from azrender.paths import PathMap, is_windows_path
from azrender_maya import remap as remap_module
from azrender_maya.scan import scan_maya
from azrender_maya.settings import MayaSceneSettings, read_settings

# Output format names (presets use Blender-ish spellings too) -> Maya's -of value.
_FORMATS = {
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
    "IFF": "iff",
    "BMP": "bmp",
    "DEEPEXR": "deepexr",
}

MAYA_RENDERERS = ("file", "sw", "hw2", "arnold", "redshift", "vray", "renderman", "mr")


def maya_format(name: str) -> str:
    """Normalise an output format name to what ``Render -of`` accepts.

    >>> maya_format("OPEN_EXR"), maya_format("jpeg")
    ('exr', 'jpg')
    """
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    if key not in _FORMATS:
        raise UsageError(
            f"Maya cannot write output format {name!r}",
            hint=f"use one of {', '.join(sorted(set(_FORMATS)))}",
        )
    return _FORMATS[key]


def bash_double_quote(text: str) -> str:
    """``text`` as a bash double-quoted word in which ``$VARS`` still expand."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    return '"' + out + '"'


def bash_single_quote(text: str) -> str:
    """``text`` as one single-quoted shell word (nothing expands)."""
    return "'" + text.replace("'", "'\\''") + "'"


def frame_runs(chunk: FrameChunk) -> list[tuple[int, int, int]]:
    """``(start, end, step)`` runs covering the chunk's frames in order.

    >>> frame_runs(FrameChunk((1, 2, 3))), frame_runs(FrameChunk((1, 6, 11)))
    ([(1, 3, 1)], [(1, 11, 5)])
    >>> frame_runs(FrameChunk((1, 2, 7)))
    [(1, 2, 1), (7, 7, 1)]
    """
    frames = chunk.frames
    if len(frames) == 1:
        return [(frames[0], frames[0], 1)]
    step = frames[1] - frames[0]
    if step > 0 and all(b - a == step for a, b in itertools.pairwise(frames)):
        return [(frames[0], frames[-1], step)]
    runs: list[tuple[int, int, int]] = []
    start = prev = frames[0]
    for f in frames[1:]:
        if f == prev + 1:
            prev = f
            continue
        runs.append((start, prev, 1))
        start = prev = f
    runs.append((start, prev, 1))
    return runs


def _stem(node_scene: str) -> str:
    name = (
        PureWindowsPath(node_scene).name
        if is_windows_path(node_scene)
        else PurePosixPath(node_scene).name
    )
    for suffix in (".ma", ".mb"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "render"


def pre_render_mel(remap_script: str) -> str:
    """The MEL for ``-preRender`` that runs ``remap_script`` in Maya's Python.

    >>> pre_render_mel("/n/remap.py")
    'python("exec(open(r\\'/n/remap.py\\').read())")'
    """
    if any(c in remap_script for c in "'\"\\\n"):
        raise UsageError(
            f"remap script path {remap_script!r} has a quote, backslash or newline",
            hint="put the job's scripts in a folder with a plain name",
        )
    return f"python(\"exec(open(r'{remap_script}').read())\")"


class MayaAdapter:
    """Scans .ma/.mb files and renders them with Maya's ``Render`` on Linux nodes."""

    name: str = "maya"
    suffixes: tuple[str, ...] = (".ma", ".mb")

    def __init__(self, renderer: str = "file") -> None:
        if renderer not in MAYA_RENDERERS:
            raise UsageError(
                f"unknown Maya renderer {renderer!r}",
                hint=f"use one of {', '.join(MAYA_RENDERERS)}",
            )
        self.renderer = renderer

    def scan(self, scene: Path) -> AssetSet:
        """Every dependency of ``scene`` (see :func:`azrender_maya.scan.scan_maya`)."""
        return scan_maya(scene)

    def scene_settings(self, scene: Path) -> MayaSceneSettings:
        """Renderer, frame range, cameras, layers... saved in ``scene``, for submit defaults.

        Not part of the :class:`~azrender.apps.AppAdapter` protocol: callers
        check for it with ``getattr`` (see :mod:`azrender_maya.settings`).
        """
        return read_settings(scene)

    def command_line(self, invocation: RenderInvocation) -> str:
        """The Batch task command line that renders ``invocation.chunk``."""
        fmt = maya_format(invocation.job.output_format or "PNG")
        commands = []
        for start, end, step in frame_runs(invocation.chunk):
            words = ["Render", "-r", self.renderer]
            words += ["-s", str(start), "-e", str(end), "-b", str(step)]
            words += ["-rd", bash_double_quote(invocation.output_dir.rstrip("/") or "/")]
            words += ["-im", bash_double_quote(_stem(invocation.node_scene)), "-of", fmt]
            if invocation.remap_script:
                words += ["-preRender", bash_double_quote(pre_render_mel(invocation.remap_script))]
            words.append(bash_double_quote(invocation.node_scene))
            commands.append(" ".join(words))
        return "/bin/bash -c " + bash_single_quote(" && ".join(commands))

    def remap_script(self, pathmap: PathMap) -> str:
        """This package's remap module with ``pathmap`` baked in, ready for ``-preRender``."""
        source = Path(remap_module.__file__).read_text(encoding="utf-8")
        config = json.dumps({"version": 1, **pathmap.to_json()}, sort_keys=True)
        return (
            source.rstrip("\n")
            + "\n\n\n# --- azrender: the mapping for this job ---\n"
            + f"AZRENDER_CONFIG = {config!r}\n"
            + "main_from_json(AZRENDER_CONFIG)\n"
        )

    def output_pattern(self) -> str:
        """Glob for the frames ``Render`` writes below ``-rd`` (render layers make subfolders)."""
        return "**/*.*"
