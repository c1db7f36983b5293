"""Maya's side of the :class:`azrender.apps.AppAdapter` contract, headless.

The command line is Maya's batch renderer. On Linux nodes it runs through bash
so that ``$AZ_BATCH_*`` variables in node paths expand; on Windows nodes it is
``Render.exe`` under ``cmd /c`` with ``%AZ_BATCH_*%``. Which of the two is
:attr:`RenderInvocation.node_os <azrender.apps.RenderInvocation.node_os>`'s
choice (the job's storage plan), never guessed from a path::

    /bin/bash -c 'Render -r arnold -s 1 -e 10 -b 1 -rd <out> -im <stem> -of png
        -cam <camShape> -rl <defaultRenderLayer,rs_fg> -proj <project> -x 1920 -y 1080
        -ai:lve 1 -preRender <MEL> <scene>'

Every path is one word in which only its leading variable expands, every name
(``-im``, ``-cam``, ``-rl``) and the MEL are single-quoted on Linux
(:mod:`azrender.shell`); on Windows they are double-quoted, and a name or path
holding what cmd.exe would expand or end the word at (``%``, ``!``, ``"``, a
line break) is refused. Nothing from a scene or a preset runs as shell text.

``-r`` is the renderer (from :class:`~azrender.model.RenderOptions`, else the
one saved in the scene, else ``file``: whatever the scene says); ``-s/-e/-b``
start, end and step; ``-rd`` the output folder; ``-im`` the image name; ``-of``
the image format; ``-cam``/``-rl`` camera and render layers (from the options,
else the scene's renderable camera and layers); ``-proj`` the project (the
node copy of the folder holding the scene's ``workspace.mel``); ``-x/-y`` the
size; then the renderer's own flags. The scene file comes last.

The remap runs in ``-preRender``: MEL that executes the job's remap script
(:meth:`MayaAdapter.remap_script`) in Maya's Python. That script first turns
on Maya's directory mapping (``dirmap -en true; dirmap -m "<from>" "<to>"`` as
``cmds.dirmap``) for every ``[[paths]]`` rule and every mirrored folder, then
rewrites path attributes and reloads references from their node paths.
Why ``-preRender`` and not a hook before the scene loads: ``Render`` has no
flag that runs code before it opens the scene (``-preRender``, ``-preLayer``
and ``-preFrame`` all run after the load), and a ``userSetup`` on the node
would apply to every job on it. dirmap set in ``-preRender`` still covers
every path Maya resolves while rendering (textures, caches, proxies read per
frame); references, which resolve on load, are reloaded from their mapped
paths by the same script.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from azrender import shell
from azrender.apps import RenderInvocation
from azrender.errors import SceneError, UsageError
from azrender.model import AssetKind, AssetSet, FrameChunk, FrameRange, RenderOptions
from azrender.naming import IMAGE_EXTENSIONS, lookup_format
from azrender.paths import PathMap
from azrender.scan.collector import collector_paused
from azrender.shell import bash_single_quote, bash_word
from azrender_maya.node import remap as remap_module
from azrender_maya.project import find_maya_project
from azrender_maya.scan import read_maya_scene, scan_maya_paths
from azrender_maya.settings import MayaSceneSettings, read_settings, settings_of

# Output format names -> Maya's -of value: the common ones, and Maya's own IFF and deep EXR.
_FORMATS = {**IMAGE_EXTENSIONS, "IFF": "iff", "DEEPEXR": "deepexr"}

MAYA_RENDERERS = ("file", "sw", "hw2", "arnold", "redshift", "vray", "renderman", "mr")

# defaultRenderGlobals.currentRenderer (what the scene saves) -> the name ``Render -r`` takes.
_RENDERER_NAMES = {
    "mayasoftware": "sw",
    "sw": "sw",
    "software": "sw",
    "mayahardware2": "hw2",
    "hw2": "hw2",
    "arnold": "arnold",
    "redshift": "redshift",
    "vray": "vray",
    "renderman": "renderman",
    "renderman_maya": "renderman",
    "mentalray": "mr",
    "mr": "mr",
    "file": "file",
}

# Flags each renderer gets on every task. Arnold's ``-ai:lve 1`` (log
# verbosity: warnings) keeps the task log readable; others use their defaults.
_RENDERER_FLAGS: dict[str, tuple[str, ...]] = {"arnold": ("-ai:lve", "1")}

# How far up from the scene ``workspace.mel`` (the project) is looked for.
_PROJECT_DEPTH = 4

_WIN_VAR = re.compile(r"%([A-Za-z_][A-Za-z0-9_]*)%")
_POSIX_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def maya_renderer(name: str) -> str:
    """The ``Render -r`` name for a renderer as scenes and artists spell it.

    >>> maya_renderer("mayaSoftware"), maya_renderer("Arnold"), maya_renderer("mayaHardware2")
    ('sw', 'arnold', 'hw2')
    """
    key = name.strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    key = {k.replace("_", ""): v for k, v in _RENDERER_NAMES.items()}.get(key, key)
    if key not in MAYA_RENDERERS:
        raise UsageError(
            f"unknown Maya renderer {name!r}",
            hint=f"use one of {', '.join(MAYA_RENDERERS)} (or mayaSoftware, mayaHardware2)",
        )
    return key


def maya_format(name: str) -> str:
    """Normalise an output format name to what ``Render -of`` accepts.

    >>> maya_format("OPEN_EXR"), maya_format("jpeg")
    ('exr', 'jpg')
    """
    return lookup_format(name, _FORMATS, "Maya")


def cmd_quote(text: str) -> str:
    r"""``text`` (the ``-preRender`` MEL) as one double-quoted argument for ``cmd`` and ``Render.exe``'s C runtime.

    Embedded quotes become ``\"`` and backslashes before one are doubled (the
    C runtime's rules). Each ``\"`` also turns cmd.exe's own quoting off or
    on, so this is only for MEL this module writes (:func:`pre_render_mel`,
    whose one outside part, the remap script's path, holds no quote and only
    a job id's letters); names and paths go through :func:`cmd_word`, which
    refuses quotes. ``%``, ``!`` and line breaks are refused here too.

    >>> print(cmd_quote('C:\\a b\\'))
    "C:\a b\\"
    >>> print(cmd_quote('python("x")'))
    "python(\"x\")"
    """
    shell.cmd_literal(text.replace('"', ""), to="Render.exe", what="-preRender MEL", expand=False)
    out = re.sub(r'(\\*)"', lambda m: m.group(1) * 2 + '\\"', text)
    trailing = len(out) - len(out.rstrip("\\"))
    return f'"{out}{chr(92) * trailing}"'


def cmd_word(text: str, *, name: bool = False) -> str:
    r"""A node path (``name=False``: its leading ``%VAR%`` expands) or a name as one ``cmd /c`` word.

    >>> print(cmd_word("%AZ_BATCH_TASK_WORKING_DIR%\\out\\"))
    "%AZ_BATCH_TASK_WORKING_DIR%\out\\"
    """
    return shell.cmd_quote(text, to="Render.exe", what="name" if name else "node path", expand=not name)


def mel_string_expr(node_path: str) -> str:
    r"""A MEL expression for a node path: ``getenv`` for its variables, forward slashes.

    MEL reads backslashes in string literals as escapes, and a Windows node's
    ``%AZ_BATCH_NODE_SHARED_DIR%`` expands to backslashes; ``getenv`` results
    are not escape-processed, so the variables are read inside Maya instead.

    >>> print(mel_string_expr("%AZ_BATCH_NODE_SHARED_DIR%\\jobs\\j\\remap.py"))
    getenv("AZ_BATCH_NODE_SHARED_DIR") + "/jobs/j/remap.py"
    >>> print(mel_string_expr("$AZ_BATCH_NODE_SHARED_DIR/jobs/j/remap.py"))
    getenv("AZ_BATCH_NODE_SHARED_DIR") + "/jobs/j/remap.py"
    """
    if any(c in node_path for c in "'\"\n"):
        raise UsageError(
            f"remap script path {node_path!r} has a quote or newline",
            hint="put the job's scripts in a folder with a plain name",
        )
    pattern = _WIN_VAR if "%" in node_path else _POSIX_VAR
    parts: list[str] = []
    pos = 0
    for m in pattern.finditer(node_path):
        if m.start() > pos:
            parts.append('"' + node_path[pos : m.start()].replace("\\", "/") + '"')
        parts.append(f'getenv("{m.group(1)}")')
        pos = m.end()
    if pos < len(node_path):
        parts.append('"' + node_path[pos:].replace("\\", "/") + '"')
    return " + ".join(parts) or '""'


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


def _stem(node_scene: str, windows: bool) -> str:
    name = PureWindowsPath(node_scene).name if windows else PurePosixPath(node_scene).name
    for suffix in (".ma", ".mb"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name or "render"


def pre_render_mel(remap_script: str) -> str:
    """The MEL for ``-preRender`` that runs ``remap_script`` in Maya's Python.

    >>> print(pre_render_mel("/n/remap.py"))
    python("exec(open(r'" + "/n/remap.py" + "').read())")
    """
    return f"python(\"exec(open(r'\" + {mel_string_expr(remap_script)} + \"').read())\")"


def dirmap_pairs(pathmap: PathMap, folders: list[str]) -> list[tuple[str, str]]:
    r"""``dirmap -m`` pairs: each ``[[paths]]`` rule, then each mirrored folder; longest first.

    Sources use forward slashes, as Maya's dirmap compares them; targets may
    hold ``$VARS``/``%VARS%`` that the node expands.

    >>> from azrender.paths import MapRule
    >>> pm = PathMap(mirror_root="/n/assets", rules=(MapRule("P:\\show", "/mnt/show"),))
    >>> dirmap_pairs(pm, ["P:\\show\\tex", "D:\\lib"])
    [('P:/show', '/mnt/show'), ('D:/lib', '/n/assets/D/lib')]
    """
    pairs: dict[str, str] = {r.source.replace("\\", "/").rstrip("/"): r.target for r in pathmap.rules}
    for folder in folders:
        if pathmap.map(folder) is None or any(
            folder.replace("\\", "/").lower().startswith(src.lower()) for src in pairs
        ):
            continue  # unmapped (reported by submit) or covered by a rule
        target = pathmap.map(folder)
        assert target is not None
        pairs[folder.replace("\\", "/").rstrip("/")] = target
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


# The dirmap part of the emitted remap script: MEL's ``dirmap -en true; dirmap -m "<from>" "<to>";``
# through maya.cmds, so node variables are expanded by Python rather than quoted into MEL.
DIRMAP_CALL = (
    "def azrender_dirmap(pairs_json):\n"
    "    import maya.cmds as cmds\n"
    "    cmds.dirmap(enable=True)\n"
    "    for source, target in json.loads(pairs_json):\n"
    "        target = os.path.expandvars(target).replace('\\\\', '/')\n"
    "        cmds.dirmap(mapDirectory=(source, target))\n"
    "        print('azrender: dirmap ' + source + ' -> ' + target)\n"
    "azrender_dirmap(AZRENDER_DIRMAP)\n"
)


def find_project(scene: Path, depth: int = _PROJECT_DEPTH) -> int | None:
    """How many folders up from ``scene`` the project (``workspace.mel``) is; None if not found.

    ``0`` means the scene's own folder (``proj/shot.ma``), ``1`` its parent
    (``proj/scenes/shot.ma``, Maya's layout). The project is the one the scan
    resolves paths in (:func:`azrender_maya.project.find_maya_project`), within ``depth``.
    """
    root = find_maya_project(scene)
    if root is None:
        return None
    up = len(scene.absolute().parent.parts) - len(root.parts)
    return up if up < depth else None


@functools.lru_cache(maxsize=8)
def _read_saved(scene: Path, mtime_ns: int, size: int) -> MayaSceneSettings | None:
    try:
        return read_settings(scene)
    except (SceneError, OSError):
        return None  # Render then uses what the scene says


def _saved(scene: Path) -> MayaSceneSettings | None:
    """The scene's settings, read once per saved version of the file; None when it cannot be read here.

    A command line built without the scan's settings (``RenderInvocation.settings``)
    reads them itself; one read serves every chunk of the job.
    """
    try:
        stat = scene.stat()
    except OSError:
        return None
    return _read_saved(scene, stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class RenderChoice:
    """What one job renders with: the options, filled from the scene where they are empty."""

    renderer: str
    camera: str | None
    layers: tuple[str, ...]
    width: int | None
    height: int | None
    threads: int | None


def render_choice(
    options: RenderOptions, settings: MayaSceneSettings | None, fallback: str = "file"
) -> RenderChoice:
    """``options`` with the scene's renderer, single renderable camera and renderable layers as defaults.

    A layer may be named as Render Setup shows it (``fg``) or as its
    ``renderLayer`` node (``rs_fg``); ``Render -rl`` gets the node name.
    """
    if options.device:
        raise UsageError(
            f"Maya's Render has no render-device flag (asked for {options.device!r})",
            hint="choose GPU or CPU in the renderer's settings saved in the scene",
        )
    if options.renderer:
        renderer = maya_renderer(options.renderer)
    elif settings is not None:
        renderer = maya_renderer(settings.renderer)
    else:
        renderer = fallback
    if options.threads is not None and renderer != "sw":
        raise UsageError(
            f"Maya's Render takes a thread count only for mayaSoftware (-n), not for {renderer}",
            hint="drop --threads; the renderer uses every core by default",
        )
    camera = options.camera
    if camera is None and settings is not None and len(settings.cameras) == 1:
        camera = settings.cameras[0]
    layers = options.layers
    if settings is not None:
        if layers:
            by_name = {layer.name: layer.name for layer in settings.layers}
            by_name.update({lay.setup_layer: lay.name for lay in settings.layers if lay.setup_layer})
            unknown = [name for name in layers if name not in by_name]
            if unknown:
                raise UsageError(
                    f"the scene has no render layer {unknown[0]!r}",
                    hint=f"its layers: {', '.join(sorted(by_name)) or 'none'}",
                )
            layers = tuple(by_name[name] for name in layers)
        else:
            layers = settings.renderable_layers
    for name in (camera or "", *layers):
        if "," in name or '"' in name:
            raise UsageError(f"Maya name {name!r} has a comma or quote", hint="Maya node names have neither")
    return RenderChoice(renderer, camera, tuple(layers), options.width, options.height, options.threads)


class MayaAdapter:
    """Scans .ma/.mb files and renders them with Maya's ``Render`` on Linux or Windows nodes."""

    name: str = "maya"
    suffixes: tuple[str, ...] = (".ma", ".mb")
    node_systems: tuple[str, ...] = ("linux", "windows")
    renderer_program: str = "Render"
    builtin_renderers: tuple[str, ...] = ()  # what Render -r takes depends on the plug-ins loaded

    def __init__(self, renderer: str = "file") -> None:
        if renderer not in MAYA_RENDERERS:
            raise UsageError(
                f"unknown Maya renderer {renderer!r}",
                hint=f"use one of {', '.join(MAYA_RENDERERS)}",
            )
        self.renderer = renderer

    def scan(self, scene: Path) -> AssetSet:
        """Every dependency of ``scene`` (see :func:`azrender_maya.scan.scan_maya`), its saved settings
        (``settings``, read from the same parse) and the written paths found elsewhere
        (``resolved``: project marker, file rules...)."""
        with collector_paused():
            parsed = read_maya_scene(scene.absolute())  # once: the paths and the settings both come from it
            assets, resolved = scan_maya_paths(scene, parsed=parsed)
        assets.resolved = resolved
        assets.settings = settings_of(parsed)
        return assets

    def scene_settings(self, scene: Path) -> MayaSceneSettings:
        """Renderer, frame range, cameras, layers... saved in ``scene``, for submit defaults.

        Its ``start``, ``end`` and ``renderer`` are what
        :meth:`azrender.apps.AppAdapter.scene_settings` promises the checks
        (see :mod:`azrender_maya.settings`).
        """
        return read_settings(scene)

    def scene_frames(self, scene: Path) -> FrameRange:
        """The render range saved in ``scene`` (``defaultRenderGlobals`` start/end/step, Maya's 1-10 when unset).

        Maya always has a range (it writes only values that differ from its
        defaults), so this never returns None.
        """
        return FrameRange.parse(self.scene_settings(scene).frame_spec)

    def command_line(self, invocation: RenderInvocation) -> str:
        """The Batch task command line that renders ``invocation.chunk``."""
        job = invocation.job
        fmt = maya_format(job.output_format or "PNG")
        saved = invocation.settings
        settings = saved if isinstance(saved, MayaSceneSettings) else _saved(job.scene)
        choice = render_choice(job.render, settings, self.renderer)
        windows = invocation.node_os == "windows"  # the plan's node OS, not the look of a path
        # Node paths keep their leading $AZ_BATCH_*/%AZ_BATCH_*% variable; names are literal.
        path = cmd_word if windows else bash_word
        literal = (lambda text: cmd_word(text, name=True)) if windows else bash_single_quote
        node = PureWindowsPath if windows else PurePosixPath
        up = find_project(job.scene)
        project = str(node(invocation.node_scene).parents[up]) if up is not None else None
        commands = []
        for start, end, step in frame_runs(invocation.chunk):
            words = ["Render.exe" if windows else "Render", "-r", choice.renderer]
            words += ["-s", str(start), "-e", str(end), "-b", str(step)]
            words += ["-rd", path(invocation.output_dir.rstrip("/\\") or "/")]
            words += ["-im", literal(_stem(invocation.node_scene, windows)), "-of", fmt]
            if choice.camera:
                words += ["-cam", literal(choice.camera)]
            if choice.layers:
                words += ["-rl", literal(",".join(choice.layers))]
            if project:
                words += ["-proj", path(project)]
            if choice.width is not None:
                words += ["-x", str(choice.width)]
            if choice.height is not None:
                words += ["-y", str(choice.height)]
            if choice.threads is not None:
                words += ["-n", str(choice.threads)]
            words += _RENDERER_FLAGS.get(choice.renderer, ())
            if invocation.remap_script:
                mel = pre_render_mel(invocation.remap_script)
                words += ["-preRender", cmd_quote(mel) if windows else bash_single_quote(mel)]
            words.append(path(invocation.node_scene))
            commands.append(" ".join(words))
        if windows:
            return 'cmd /c "' + " && ".join(commands) + '"'
        return "/bin/bash -c " + bash_single_quote(" && ".join(commands))

    def remap_script(self, pathmap: PathMap, assets: AssetSet | None = None) -> str:
        """This package's remap module, the job's dirmap pairs and mapping, ready for ``-preRender``.

        The emitted script turns on ``dirmap`` for :func:`dirmap_pairs` (the
        rules and the folders of the scan's (``assets``) mirrored files,
        ``$VARS`` expanded on the node), then rewrites path attributes below
        the mirror root, and values the scan resolved elsewhere than written
        (``assets.resolved``) to the node copy of the file it found
        (``AZRENDER_RESOLVED``).
        """
        files = assets.assets if assets is not None else []
        folders = sorted({str(a.path.parent) for a in files if a.kind is not AssetKind.SCENE})
        found = assets.resolved if assets is not None else {}
        source = Path(remap_module.__file__).read_text(encoding="utf-8")
        config = json.dumps({"version": 1, **pathmap.to_json()}, sort_keys=True)
        pairs = json.dumps(dirmap_pairs(pathmap, folders))
        node_paths = {w: pathmap.map(local) for w, local in found.items()}
        resolved = json.dumps({w: n for w, n in sorted(node_paths.items()) if n is not None})
        return (
            source.rstrip("\n")
            + "\n\n\n# --- azrender: the mapping for this job ---\n"
            + f"AZRENDER_CONFIG = {config!r}\n"
            + f"AZRENDER_DIRMAP = {pairs!r}\n"
            + f"AZRENDER_RESOLVED = {resolved!r}\n"
            + DIRMAP_CALL
            + "if json.loads(AZRENDER_CONFIG).get('mirror_root') or json.loads(AZRENDER_RESOLVED):\n"
            + "    main_from_json(AZRENDER_CONFIG, AZRENDER_RESOLVED)\n"
        )

    def job_files(self, pathmap: PathMap, assets: AssetSet | None = None) -> dict[str, str]:
        """The job's own files: just the remap script."""
        from azrender.jobs import REMAP_SCRIPT_NAME  # here: every scan loads the adapter

        return {REMAP_SCRIPT_NAME: self.remap_script(pathmap, assets)}

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
        """Glob for the frames ``Render`` writes below ``-rd`` (render layers make subfolders)."""
        return "**/*.*"
