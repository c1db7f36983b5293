r"""Blender's side of the :class:`azrender.apps.AppAdapter` contract, headless.

The command line is Blender's own CLI. Batch starts a task without a shell,
so on Linux nodes it runs through bash, where ``$AZ_BATCH_*`` variables in
node paths expand::

    /bin/bash -c 'blender -b <scene> -E CYCLES -t 8 --python-exit-code 1 --python <remap.py>
        -o <out>/<stem>_#### -F PNG -s 1 -e 10 -a
        -- --cycles-device OPTIX --azrender-camera <camera> --azrender-width 1920 --azrender-height 1080'

where each node path is one word in which only its leading variable expands
(``"$AZ_BATCH_NODE_SHARED_DIR"'/assets/shot $1.blend'``) and the camera name is
single-quoted (:mod:`azrender.shell`): nothing from a scene or a preset runs as
shell text on the node;

and on Windows nodes through ``cmd /c``, where ``%AZ_BATCH_*%`` expand (the
same words, Windows paths, as the Maya and 3ds Max adapters write them)::

    cmd /c "blender.exe -b "%AZ_BATCH_NODE_SHARED_DIR%\assets\P\show\shot.blend" -E CYCLES -t 8
        --python-exit-code 1 --python "%AZ_BATCH_NODE_SHARED_DIR%\jobs\<job>\remap.py"
        -o "%AZ_BATCH_TASK_WORKING_DIR%\out\shot_####" -F PNG -s 1 -e 10 -a -- ..."

``cmd /c`` strips the outer pair of quotes and runs the rest as written; every
path is one double-quoted word (spaces, ``&``, ``^``, ``(`` are literal
inside), and Blender splits the rest by the Windows C runtime's rules. A name
holding what cmd.exe would still expand or end the word at (``%``, ``!``, ``"``,
a line break) is refused with one line saying what to rename.
Which form is :attr:`RenderInvocation.node_os
<azrender.apps.RenderInvocation.node_os>`'s choice, never guessed from a path.

Blender handles its arguments strictly in order, so the scene is loaded first,
then its engine and threads are set (``-E`` must follow the file it applies
to), then the remap script runs on it, then output path and format are set,
and only then the frames are rendered (``-a`` or ``-f``) with those settings.

Everything after ``--`` is for scripts: Cycles reads ``--cycles-device`` from
there when it starts, and the remap script reads the ``--azrender-*`` render
overrides (camera, resolution), which Blender's own command line cannot set.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING

from azrender.apps import frames_between
from azrender.errors import SceneError, UsageError
from azrender.scan.collector import collector_paused
from azrender_blender.blend import BlendError, BlendFile, Block
from azrender_blender.scan import scan_blend, unreadable_error
from azrender_blender.versions import note_versions

if TYPE_CHECKING:
    from azrender.model import AssetSet, FrameChunk, FrameRange, RenderOptions
    from azrender.paths import PathMap
    from azrender.rendering import LocalInstalls, RenderInvocation

# The render side (shell quoting, output naming, the remap script) is imported where it
# is used: every scan loads this adapter, and must not pay for what only a submit needs.

# Values Blender's ``-F/--render-format`` accepts (``blender --help``).
BLENDER_FORMATS = (
    "TGA", "RAWTGA", "JPEG", "IRIS", "PNG", "BMP", "HDR", "TIFF", "OPEN_EXR",
    "OPEN_EXR_MULTILAYER", "CINEON", "DPX", "JP2", "WEBP", "FFMPEG",
)  # fmt: skip

# Spellings artists and presets use for the same formats.
_FORMAT_ALIASES = {
    "EXR": "OPEN_EXR",
    "MULTILAYER": "OPEN_EXR_MULTILAYER",
    "EXR_MULTILAYER": "OPEN_EXR_MULTILAYER",
    "JPG": "JPEG",
    "TIF": "TIFF",
    "TARGA": "TGA",
    "JPEG2000": "JP2",
}

#: Blender's console executable on Windows nodes (``blender`` on Linux), found on the PATH.
WINDOWS_EXECUTABLE = "blender.exe"



def blender_format(name: str) -> str:
    """Normalise an output format name to what ``blender -F`` accepts."""
    from azrender.naming import format_key, lookup_format

    key = format_key(name)
    return lookup_format(_FORMAT_ALIASES.get(key, key), {f: f for f in BLENDER_FORMATS}, "Blender")


# Short names artists use for Blender's render engines (``-E`` takes the RNA id).
_ENGINE_ALIASES = {
    "CYCLES": "CYCLES",
    "EEVEE": "BLENDER_EEVEE",
    "BLENDER_EEVEE": "BLENDER_EEVEE",
    "BLENDER_EEVEE_NEXT": "BLENDER_EEVEE_NEXT",  # Blender 4.2 to 4.5's id for EEVEE
    "WORKBENCH": "BLENDER_WORKBENCH",
    "BLENDER_WORKBENCH": "BLENDER_WORKBENCH",
}
# Add-on engines (Octane, LuxCore, ...) register their own ids; -E takes any of them.
_ENGINE_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")

# What Cycles' own ``--cycles-device`` accepts (addons_core/cycles/engine.py);
# a GPU type may end in ``+CPU`` for hybrid rendering.
CYCLES_DEVICES = ("CPU", "CUDA", "OPTIX", "HIP", "ONEAPI", "METAL")


def blender_engine(name: str) -> str:
    """The ``-E`` value for an engine name (``cycles`` → ``CYCLES``, ``eevee`` → ``BLENDER_EEVEE``).

    >>> blender_engine("eevee"), blender_engine("Cycles"), blender_engine("OCTANE")
    ('BLENDER_EEVEE', 'CYCLES', 'OCTANE')
    """
    key = name.strip().upper().replace("-", "_").replace(" ", "_")
    key = _ENGINE_ALIASES.get(key, key)
    if not _ENGINE_ID.match(key):
        raise UsageError(
            f"{name!r} is not a Blender render engine name",
            hint="use CYCLES, BLENDER_EEVEE, BLENDER_WORKBENCH or an add-on engine's id",
        )
    return key


def cycles_device(name: str) -> str:
    """The ``--cycles-device`` value (``optix`` → ``OPTIX``, ``cuda+cpu`` → ``CUDA+CPU``).

    >>> cycles_device("optix"), cycles_device("hip+cpu")
    ('OPTIX', 'HIP+CPU')
    """
    key = name.strip().upper().replace(" ", "")
    gpu, plus, cpu = key.partition("+")
    if gpu not in CYCLES_DEVICES or (plus and (cpu != "CPU" or gpu == "CPU")):
        raise UsageError(
            f"Cycles cannot render on device {name!r}",
            hint=f"use one of {', '.join(CYCLES_DEVICES)}, or a GPU type with +CPU (e.g. CUDA+CPU)",
        )
    return key


def render_words(
    render: RenderOptions, *, has_script: bool, quote: Callable[[str], str] | None = None
) -> tuple[list[str], list[str]]:
    """Blender words for ``render``: (``-E``/``-t`` after the scene, script words after ``--``).

    Layers are not set here: Blender renders every view layer marked for
    rendering, and the scene decides which. ``quote`` makes the camera name
    one literal word of the node's shell (default :func:`bash_single_quote`;
    Windows nodes: :func:`cmd_literal_quote`).

    >>> from azrender.model import RenderOptions
    >>> render_words(RenderOptions(renderer="cycles", threads=4, device="cuda"), has_script=True)
    (['-E', 'CYCLES', '-t', '4'], ['--cycles-device', 'CUDA'])
    """
    from azrender.shell import bash_single_quote

    engine = blender_engine(render.renderer) if render.renderer else None
    early: list[str] = []
    if engine:
        early += ["-E", engine]
    if render.threads is not None:
        if render.threads < 0:
            raise UsageError(f"render threads must be 0 (all) or more, got {render.threads}")
        early += ["-t", str(render.threads)]
    late: list[str] = []
    if render.device:
        if engine and engine != "CYCLES":
            raise UsageError(
                f"a render device ({render.device}) is a Cycles setting, but the engine is {engine}",
                hint="drop the device, or render with CYCLES",
            )
        late += ["--cycles-device", cycles_device(render.device)]
    overrides: list[str] = []
    if render.camera:
        overrides += ["--azrender-camera", (quote or bash_single_quote)(render.camera)]
    for flag, value in (("--azrender-width", render.width), ("--azrender-height", render.height)):
        if value is not None:
            if not 4 <= value <= 65536:  # the range of Blender's resolution_x/_y
                raise UsageError(f"Blender renders 4 to 65536 pixels a side, not {value}")
            overrides += [flag, str(value)]
    if overrides and not has_script:
        raise UsageError(
            "a camera or resolution override needs the job's remap script on the node",
            hint="submit through azrender, which always writes it",
        )
    return early, late + overrides


def cmd_quote(text: str) -> str:
    r"""``text`` (a node path) as one double-quoted word for ``cmd /c`` and Blender's Windows argument parser.

    >>> print(cmd_quote("%AZ_BATCH_TASK_WORKING_DIR%\\out dir\\"))
    "%AZ_BATCH_TASK_WORKING_DIR%\out dir\\"
    """
    from azrender.shell import cmd_quote as shell_cmd_quote

    return shell_cmd_quote(text, to="Blender", what="node path")


def cmd_literal_quote(text: str) -> str:
    """:func:`cmd_quote` for a name that must arrive as written (a camera): no leading ``%VAR%`` either.

    cmd.exe expands ``%NAME%`` even inside double quotes and has no escape for
    ``%`` there, so a name holding one cannot be passed unchanged.
    """
    from azrender.shell import cmd_quote as shell_cmd_quote

    return shell_cmd_quote(text, to="Blender", what="camera", expand=False)


def frame_args(chunk: FrameChunk) -> list[str]:
    """``-s S -e E -a`` for an ascending run, else ``-f a,b,c`` (Blender's list syntax)."""
    for f in chunk.frames:
        if f < 0:
            # Blender reads a leading '-' in -s/-e/-f as "relative to the end".
            raise UsageError(
                f"Blender's command line cannot address negative frame {f}",
                hint="offset the scene's frame range to start at 0 or later",
            )
    if len(chunk.frames) > 1 and chunk.is_contiguous:
        return ["-s", str(chunk.first), "-e", str(chunk.last), "-a"]
    return ["-f", ",".join(str(f) for f in chunk.frames)]


def current_scene(bfile: BlendFile) -> Block | None:
    """The scene ``blender -b file -a`` renders: the one the file was saved showing.

    Blender writes it as ``FileGlobal.curscene`` (the GLOB block), taken from
    the active window when saving; files without it fall back, as Blender's
    loader does, to the first window's scene and then to the first scene.
    """
    for glob in bfile.blocks_of(b"GLOB"):
        scene = glob.deref(b"curscene")
        if scene is not None:
            return scene
    for wm in bfile.blocks_of(b"WM"):
        window = wm.deref(b"windows", b"first")
        scene = window.deref(b"scene") if window is not None else None
        if scene is not None:
            return scene
    scenes = bfile.blocks_of(b"SC")
    return scenes[0] if scenes else None


def blend_frames(path: Path) -> FrameRange | None:
    """Frame start, end and step of the current scene of ``path``, read with azrender's .blend reader (no Blender).

    :raises SceneError: when the file is not a .blend this reader can parse.
    """
    scene = Path(path).absolute()
    if not scene.is_file():
        raise SceneError(f"{scene} does not exist", hint="check the scene path")
    bfile: BlendFile | None = None
    try:
        # The pointers followed lead to IDs (always in the first address map) and wmWindow blocks.
        bfile = BlendFile(scene, lambda struct_name: struct_name == b"wmWindow")
        block = current_scene(bfile)
        if block is None:
            return None
        start, end, step = (block.integer(b"r", field) for field in (b"sfra", b"efra", b"frame_step"))
    except BlendError as exc:
        raise unreadable_error(exc.path, exc.reason) from exc
    except (struct.error, EOFError, ValueError, KeyError, IndexError, OSError) as exc:
        raise unreadable_error(scene, f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
    finally:
        if bfile is not None:
            bfile.close()
    return frames_between(start, end, step)


def _stem(node_scene: str, windows: bool) -> str:
    name = PureWindowsPath(node_scene).name if windows else PurePosixPath(node_scene).name
    stem = name[: -len(".blend")] if name.lower().endswith(".blend") else name
    # '#' in the output path is Blender's frame-number placeholder.
    return stem.replace("#", "_") or "render"


class BlenderAdapter:
    """Scans .blend files and renders them with ``blender -b`` on Linux and Windows nodes."""

    name: str = "blender"
    suffixes: tuple[str, ...] = (".blend",)
    node_systems: tuple[str, ...] = ("linux", "windows")
    renderer_program: str = "blender"
    #: Blender's own engines and their short names (``scene.render.engine`` ids: EEVEE was
    #: BLENDER_EEVEE_NEXT in 4.2 to 4.5, BLENDER_EEVEE before and since 5.0; checked against
    #: what bpy 4.5, 5.0 and 5.3 accept in the tests).
    builtin_renderers: tuple[str, ...] = tuple(_ENGINE_ALIASES)

    def scan(self, scene: Path) -> AssetSet:
        """Every dependency of ``scene`` (see :func:`azrender_blender.scan.scan_blend`), with the
        Blender version that saved it and each library (:func:`azrender_blender.versions.note_versions`)."""
        with collector_paused():
            return note_versions(scan_blend(scene))

    def scene_settings(self, scene: Path) -> None:
        """None: the checks need no saved settings beyond :meth:`scene_frames` for Blender."""
        return None

    def scene_frames(self, scene: Path) -> FrameRange | None:
        """The current scene's ``frame_start``-``frame_end`` every ``frame_step`` (see :func:`blend_frames`)."""
        return blend_frames(scene)

    def command_line(self, invocation: RenderInvocation) -> str:
        """The Batch task command line that renders ``invocation.chunk`` on a ``node_os`` node."""
        from azrender.naming import DEFAULT_TEMPLATE, NamingContext
        from azrender.shell import bash_single_quote, bash_word
        from azrender_blender.naming import blender_output

        windows = invocation.node_os == "windows"
        quote = cmd_quote if windows else bash_word
        sep = "\\" if windows else "/"
        fmt = blender_format(invocation.job.output_format or "PNG")
        name = blender_output(DEFAULT_TEMPLATE, NamingContext(scene=_stem(invocation.node_scene, windows)))
        out = invocation.output_dir.rstrip("/\\" if windows else "/") + sep + name
        early, late = render_words(
            invocation.job.render,
            has_script=bool(invocation.remap_script),
            quote=cmd_literal_quote if windows else bash_single_quote,
        )
        words = [WINDOWS_EXECUTABLE if windows else "blender", "-b", quote(invocation.node_scene), *early]
        if invocation.remap_script:
            # Without --python-exit-code a failing remap would be printed and
            # ignored, and the frames rendered with missing (magenta) textures.
            words += ["--python-exit-code", "1", "--python", quote(invocation.remap_script)]
        words += ["-o", quote(out), "-F", fmt, *frame_args(invocation.chunk)]
        if late:
            words += ["--", *late]
        if windows:
            # cmd /c strips the outer pair of quotes and runs the rest as written.
            return 'cmd /c "' + " ".join(words) + '"'
        return "/bin/bash -c " + bash_single_quote(" ".join(words))

    def remap_script(self, pathmap: PathMap, assets: AssetSet | None = None) -> str:
        """This package's remap module, the rules' code and ``pathmap``, ready for ``--python``.

        The script needs nothing from the scan (``assets``): it maps every path the open scene holds.

        The rules module (:mod:`azrender.paths.rules`) is standard library only
        and is embedded as source, so the node maps exactly like the submitter.
        """
        from azrender.paths import rules as rules_module
        from azrender_blender.node import remap as remap_module

        source = Path(remap_module.__file__).read_text(encoding="utf-8")
        rules_source = Path(rules_module.__file__).read_text(encoding="utf-8")
        config = json.dumps({"version": 1, **pathmap.to_json()}, sort_keys=True)
        return (
            source.rstrip("\n")
            + "\n\n\n# --- azrender.paths.rules, embedded: map_path for the [[paths]] rules ---\n"
            + rules_source.rstrip("\n")
            + "\n\n\n# --- azrender: the mapping for this job ---\n"
            + f"AZRENDER_CONFIG = {config!r}\n"
            + 'if __name__ == "__main__":\n'
            + "    main_from_json(AZRENDER_CONFIG)\n"
        )

    def job_files(self, pathmap: PathMap, assets: AssetSet | None = None) -> dict[str, str]:
        """The job's own files: just the remap script."""
        from azrender.jobs import REMAP_SCRIPT_NAME

        return {REMAP_SCRIPT_NAME: self.remap_script(pathmap, assets)}

    def local_stand_in(self, python: str) -> list[str]:
        """``python -m azrender_blender.node.runner``: renders with ``bpy`` and takes the flags our ``blender`` lines use."""
        return [python, "-m", "azrender_blender.node.runner"]

    def local_installs(self, environ: Mapping[str, str]) -> LocalInstalls:
        """The Blenders (and bpy environments) of ``$AZRENDER_LOCAL_BLENDERS`` or ``PATH``, newest first."""
        from azrender.rendering import LocalInstall, LocalInstalls

        from .localnode import LOCAL_BLENDERS_ENV, installed_blenders

        found = installed_blenders(environ)
        return LocalInstalls(
            "Blender",
            tuple(LocalInstall(b.path, b.text) for b in found),
            searched=f"none in {LOCAL_BLENDERS_ENV}, none on PATH",
            fix=f"install Blender, or list Blender executables or bpy environments in {LOCAL_BLENDERS_ENV}",
        )

    def local_program(self, bin_dir: Path, scene_version: str | None, environ: Mapping[str, str]) -> str | None:
        """``bin_dir/blender``: the newest installed Blender not older than the scene (see :mod:`.localnode`)."""
        from .localnode import choice_line, choose_blender, installed_blenders, write_blender_shim

        choice = choose_blender(installed_blenders(environ), scene_version)
        if write_blender_shim(bin_dir, choice, environ) and choice.blender:
            return choice_line(choice)
        return None

    def output_pattern(self) -> str:
        """Glob for the frames written by ``-o <dir>/<stem>_####`` (frame 10000+ too)."""
        return "*_[0-9][0-9][0-9][0-9]*.*"
