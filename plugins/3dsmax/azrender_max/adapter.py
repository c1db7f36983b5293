"""3ds Max's side of the :class:`azrender.apps.AppAdapter` contract, headless.

3ds Max renders on Windows nodes, so a task is a ``cmd /c`` command line in
which ``%AZ_BATCH_*%`` variables expand. The seed's example, as this adapter
writes it::

    cmd /c "3dsmaxcmdio.exe -v:5 -rfw:0 -start:1 -end:10 -w:1280 -h:720
        -outputName:"<out>\\shot_.png" -pathFile:"<pathfile>" "<scene>""

``-v:5`` logs everything (with time stamps) to the task's stdout, ``-rfw:0``
keeps the rendered frame window closed on a node nobody looks at.
``-start:``/``-end:`` (with ``-nthFrame:`` for every n-th frame, or
``-frames:1,3,5-7`` for any other chunk) pick the frames, ``-outputName:`` the
output file (3ds Max appends the frame number), ``-w:``/``-h:`` the size read
from the scene file (or given in :class:`MaxRenderOptions`), ``-pathFile:`` the
node's search paths (an MXP file) for bitmaps and xrefs whose saved path does
not exist (see :meth:`MaxAdapter.remap_script`). ``cmd /c`` strips the outer pair of quotes
and runs the rest as written.

``3dsmaxcmdio.exe`` (3ds Max 2020 and later) writes its log to stdout, which
Batch captures; older versions only have ``3dsmaxcmd.exe``: set
``AZRENDER_MAX_CMD=3dsmaxcmd.exe`` (or a full path) on the submitting machine.

>>> from azrender.model import FrameChunk
>>> max_frame_flags(FrameChunk((1, 2, 3))), max_frame_flags(FrameChunk((1, 5, 9)))
(['-start:1', '-end:3'], ['-start:1', '-end:9', '-nthFrame:4'])
>>> max_frame_flags(FrameChunk((1, 3, 5, 6, 7)))
['-frames:1,3,5-7']
"""

from __future__ import annotations

import ntpath
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender import shell
from azrender.apps import RenderInvocation, frames_between
from azrender.errors import UsageError
from azrender.model import (
    Asset,
    AssetKind,
    AssetSet,
    FrameChunk,
    FrameRange,
    RenderOptions,
    SceneSettings,
)
from azrender.naming import IMAGE_EXTENSIONS, lookup_format
from azrender.paths import PathMap, is_windows_path
from azrender.scan.collector import collector_paused
from azrender_max.remap import max_remap
from azrender_max.scan import read_max_scene, scan_max, scene_info

EXECUTABLE = "3dsmaxcmdio.exe"
FALLBACK_EXECUTABLE = "3dsmaxcmd.exe"
#: Names the command-line renderer (either executable, or a full path to one).
EXECUTABLE_ENV = "AZRENDER_MAX_CMD"
_EXECUTABLES = (EXECUTABLE, FALLBACK_EXECUTABLE)
#: The pre-render MAXScript's name in the job's folder, next to the ``-pathFile:``.
PRE_RENDER_SCRIPT_NAME = "remap.ms"

# Output format names -> the extension 3ds Max writes by.
_EXTENSIONS = IMAGE_EXTENSIONS


def max_extension(name: str) -> str:
    """The output file extension for a format name.

    >>> max_extension("OPEN_EXR"), max_extension("png")
    ('exr', 'png')
    """
    return lookup_format(name, _EXTENSIONS, "3ds Max")


def frame_list(frames: Sequence[int]) -> str:
    """Frames in ``-frames:`` syntax: ascending runs of three or more become ``a-b``.

    >>> frame_list([1, 3, 5, 6, 7]), frame_list([10, 9, 8]), frame_list([4, 5])
    ('1,3,5-7', '10,9,8', '4,5')
    """
    parts: list[str] = []
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1] == frames[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{frames[i]}-{frames[j]}")
        else:
            parts.extend(str(f) for f in frames[i : j + 1])
        i = j + 1
    return ",".join(parts)


def max_frame_flags(chunk: FrameChunk) -> list[str]:
    """``-start:/-end:`` (plus ``-nthFrame:`` for an even step), else ``-frames:`` with the list."""
    frames = chunk.frames
    if chunk.is_contiguous:
        return [f"-start:{chunk.first}", f"-end:{chunk.last}"]
    steps = {b - a for a, b in pairwise(frames)}
    if len(steps) == 1 and (step := steps.pop()) > 1:
        return [f"-start:{chunk.first}", f"-end:{chunk.last}", f"-nthFrame:{step}"]
    return ["-frames:" + frame_list(frames)]


def cmd_quote(text: str, *, name: bool = False) -> str:
    r"""``text`` as one double-quoted argument for ``cmd /c`` and 3ds Max's C runtime.

    A node path keeps its leading ``%VAR%``; a ``name`` (a camera) has none. What
    cmd.exe would expand or end the word at (``%``, ``!``, ``"``, a line
    break) is refused (:func:`azrender.shell.cmd_literal`).

    >>> print(cmd_quote("C:\\a b\\"))
    "C:\a b\\"
    """
    return shell.cmd_quote(text, to="3ds Max", what="name" if name else "node path", expand=not name)


def _word(text: str, *, name: bool = False) -> str:
    """A bare word when it needs no quotes, else :func:`cmd_quote`; either way checked for cmd.exe."""
    if text and not any(c in text for c in ' \t&^|<>()"'):
        return shell.cmd_literal(text, to="3ds Max", what="name" if name else "node path", expand=not name)
    return cmd_quote(text, name=name)


def _stem(node_scene: str) -> str:
    name = (
        PureWindowsPath(node_scene).name
        if is_windows_path(node_scene) or "\\" in node_scene
        else PurePosixPath(node_scene).name
    )
    if name.lower().endswith(".max"):
        name = name[:-4]
    return name or "render"


def executable_from_env(environ: Mapping[str, str]) -> str:
    """The renderer ``AZRENDER_MAX_CMD`` names (default ``3dsmaxcmdio.exe``), checked.

    >>> executable_from_env({}), executable_from_env({"AZRENDER_MAX_CMD": "3dsmaxcmd.exe"})
    ('3dsmaxcmdio.exe', '3dsmaxcmd.exe')
    """
    value = environ.get(EXECUTABLE_ENV, "").strip()
    if not value:
        return EXECUTABLE
    if PureWindowsPath(value).name.lower() not in _EXECUTABLES:
        raise UsageError(
            f"{EXECUTABLE_ENV}={value!r} is not 3ds Max's command-line renderer",
            hint=f"set it to {EXECUTABLE} (3ds Max 2020+), {FALLBACK_EXECUTABLE} for older "
            "versions, or a full path to one of them",
        )
    return value


@dataclass(frozen=True)
class MaxRenderOptions:
    """What a task passes to 3ds Max beyond frames, output and scene.

    ``None`` / empty means "as saved in the scene" and the flag is left out.
    ``width``/``height`` left at None are filled from the scene file's summary
    by :meth:`MaxAdapter.scan`, so the planned job shows the size it renders at.
    """

    executable: str = EXECUTABLE
    verbosity: int = 5
    width: int | None = None
    height: int | None = None
    camera: str = ""
    pre_render_script: str = ""
    continue_on_error: bool = False
    gamma_correction: bool | None = None

    def flags(self) -> list[str]:
        """The switches in the order 3ds Max's own examples use (after the frame flags)."""
        words: list[str] = []
        if self.width is not None and self.height is not None:
            if self.width < 1 or self.height < 1:
                raise UsageError(
                    f"render size {self.width}x{self.height} is not positive",
                    hint="give a width and height of at least 1 pixel",
                )
            words += [f"-w:{self.width}", f"-h:{self.height}"]
        if self.camera:
            words.append("-camera:" + _word(self.camera, name=True))
        if self.pre_render_script:
            words.append("-preRenderScript:" + cmd_quote(self.pre_render_script))
        return words

    def trailing_flags(self) -> list[str]:
        words: list[str] = []
        if self.continue_on_error:
            words.append("-continueOnError")
        if self.gamma_correction is not None:
            words.append(f"-gammaCorrection:{int(self.gamma_correction)}")
        return words


@dataclass(frozen=True)
class MaxSceneSettings:
    """What a scan reads from the scene for its command lines: the saved render size.

    The checks get no frame range or renderer from it (``start``/``end``/
    ``renderer`` are None): :meth:`MaxAdapter.scene_settings` reads none.
    """

    width: int
    height: int
    start: None = None
    end: None = None
    renderer: None = None


def _files(assets: AssetSet | None) -> list[Asset]:
    """The scan's files but the scene: their node folders are the node's search paths."""
    return [a for a in assets.assets if a.kind is not AssetKind.SCENE] if assets is not None else []


class MaxAdapter:
    """Scans ``.max`` files and renders them with ``3dsmaxcmdio.exe`` on Windows nodes."""

    name: str = "max"
    suffixes: tuple[str, ...] = (".max",)
    node_systems: tuple[str, ...] = ("windows",)  # 3ds Max exists for Windows only
    renderer_program: str = EXECUTABLE
    builtin_renderers: tuple[str, ...] = ()

    def __init__(
        self,
        map_paths: Sequence[str | Path] = (),
        options: MaxRenderOptions | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.map_paths = tuple(map_paths)
        env = os.environ if environ is None else environ
        self.options = options or MaxRenderOptions(executable=executable_from_env(env))

    def scan(self, scene: Path) -> AssetSet:
        """Every dependency of ``scene`` (see :func:`azrender_max.scan.scan_max`), and its render size
        (``settings``: a :class:`MaxSceneSettings`)."""
        with collector_paused():
            parsed = read_max_scene(scene.absolute())  # once: the assets and the render size both come from it
            assets = scan_max(scene, map_paths=self.map_paths, parsed=parsed)
        info = parsed.info
        if info.width and info.height:
            assets.settings = MaxSceneSettings(width=info.width, height=info.height)
        return assets

    def scene_settings(self, scene: Path) -> None:
        """None: the summary's time segment is :meth:`scene_frames`; the renderer is not read headless."""
        return None

    def scene_frames(self, scene: Path) -> FrameRange | None:
        """The active time segment saved in the summary (``Animation Start``/``End``); None without one."""
        info = scene_info(scene)
        if info.frame_start is None or info.frame_end is None:
            return None
        return frames_between(info.frame_start, info.frame_end)

    def with_render(
        self, render: RenderOptions, remap_script: str = "", settings: SceneSettings | None = None
    ) -> MaxRenderOptions:
        """This adapter's options with the scene's saved size (``settings``, from the scan), the job's
        overrides and the job's ``remap.ms``.

        ``3dsmaxcmd`` renders with the renderer saved in the scene (it has no
        switch to change it) and knows no threads, device or render layers, so
        asking for those is an error rather than a silent no-op.
        """
        for value, what in ((render.renderer, "renderer"), (render.threads, "thread count"),
                            (render.device, "render device"), (render.layers, "render layers")):
            if value:
                raise UsageError(
                    f"3ds Max's command-line renderer cannot set the {what} ({value!r})",
                    hint="set it in the scene's Render Setup and save the file",
                )
        opts = self.options
        saved = settings if isinstance(settings, MaxSceneSettings) else None
        if saved is not None and (opts.width is None or opts.height is None):
            opts = replace(opts, width=saved.width, height=saved.height)  # the scene's, when not given
        if render.camera:
            opts = replace(opts, camera=render.camera)
        if render.width is not None or render.height is not None:
            opts = replace(opts, width=render.width or opts.width, height=render.height or opts.height)
        if remap_script and not opts.pre_render_script:
            opts = replace(opts, pre_render_script=ntpath.join(ntpath.dirname(remap_script), PRE_RENDER_SCRIPT_NAME))
        return opts

    def command_line(self, invocation: RenderInvocation) -> str:
        """The Batch task command line (``cmd /c``) that renders ``invocation.chunk``.

        3ds Max exists only for Windows, so this is the one form there is: the
        job's ``node_os`` should be ``"windows"`` (``[pool] os = "windows"``).
        A Linux plan (the local node emulates Linux) still gets this line, with
        its POSIX node paths, for a dry run to show; no Linux node can run it.
        """
        ext = max_extension(invocation.job.output_format or "PNG")
        out_dir = invocation.output_dir.rstrip("\\/")
        output = (
            ntpath.join(out_dir, _stem(invocation.node_scene) + "_." + ext)
            if out_dir
            else f"{_stem(invocation.node_scene)}_.{ext}"
        )
        opts = self.with_render(invocation.job.render, invocation.remap_script, invocation.settings)
        words = [_word(opts.executable), f"-v:{opts.verbosity}", "-rfw:0"]
        words += max_frame_flags(invocation.chunk)
        words += opts.flags()
        words.append("-outputName:" + cmd_quote(output))
        if invocation.remap_script:
            words.append("-pathFile:" + cmd_quote(invocation.remap_script))
        words += opts.trailing_flags()
        words.append(cmd_quote(invocation.node_scene))
        return 'cmd /c "' + " ".join(words) + '"'

    def remap_script(self, pathmap: PathMap, assets: AssetSet | None = None) -> str:
        """The ``-pathFile:`` text (MXP): node folders of the scan's (``assets``) files.

        3ds Max looks for a bitmap or xref whose saved path does not exist by
        its file name in these folders ([BitmapDirs], [XReferenceDirs]), so the
        node's copies are found without editing the scene (see
        :func:`azrender_max.remap.max_remap`).
        """
        return max_remap(pathmap, _files(assets)).path_file

    def job_files(self, pathmap: PathMap, assets: AssetSet | None = None) -> dict[str, str]:
        """``remap.py`` (the ``-pathFile:`` MXP text) and ``remap.ms`` (the ``-preRenderScript:``)."""
        from azrender.jobs import REMAP_SCRIPT_NAME  # here: every scan loads the adapter

        remap = max_remap(pathmap, _files(assets))
        return {REMAP_SCRIPT_NAME: remap.path_file, PRE_RENDER_SCRIPT_NAME: remap.pre_render_script}

    def local_stand_in(self, python: str) -> None:
        """None: nothing stands in for the renderer; the local node needs it installed."""
        return None

    def local_installs(self, environ: Mapping[str, str]) -> None:
        """None: the local node runs the renderer on ``PATH``; it picks no version."""
        return None

    def local_program(self, bin_dir: Path, scene_version: str | None, environ: Mapping[str, str]) -> None:
        """None: nothing to put in place (see :meth:`local_installs`)."""
        return None

    def output_pattern(self) -> str:
        """Glob for the frames ``3dsmaxcmdio`` writes into the output folder."""
        return "*.*"
