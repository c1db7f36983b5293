"""``azrender-blender``: Blender's render command line, backed by ``bpy``.

The local backend puts a ``blender`` shim that calls this on ``PATH`` when no
real Blender is installed, so the very command line a Batch node runs
(:meth:`azrender_blender.adapter.BlenderAdapter.command_line`) renders here for
real. Like Blender, the arguments are handled strictly in order::

    azrender-blender -b shot.blend --python remap.py -o /out/shot_#### -F PNG -s 1 -e 4 -a

Supported: ``-b/--background``, a scene path, ``--python FILE``,
``--python-exit-code N``, ``-o/--render-output``, ``-F/--render-format``,
``-E/--engine``, ``-t/--threads``, ``-s/--frame-start``, ``-e/--frame-end``,
``-j/--frame-jump``, ``-a/--render-anim``, ``-f/--render-frame`` (``1,3,5..7``,
``+N``/``-N`` relative), ``-y``/``-Y``, ``--factory-startup``, ``-noaudio`` and
``--`` (the rest is for scripts, in ``sys.argv``). Anything else exits with 2.
``-v``/``--version`` alone prints ``Blender <version>`` as Blender does; a render
starts with ``Blender <version> (<bpy path>)``, so its log says which Blender ran.

After ``--``, ``--cycles-device CPU|CUDA|OPTIX|HIP|ONEAPI|METAL[+CPU]`` is
handed to Cycles' own device override, as Cycles does in Blender when it
starts (an unknown device exits with 1, as there).
"""

from __future__ import annotations

import re
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

# Blender's -F names → the RNA enum of ImageFormatSettings.file_format, and the
# media type Blender 5 needs set first for multilayer and video outputs.
_FORMATS: dict[str, tuple[str, str]] = {
    "TGA": ("TARGA", "IMAGE"),
    "RAWTGA": ("TARGA_RAW", "IMAGE"),
    "JPEG": ("JPEG", "IMAGE"),
    "IRIS": ("IRIS", "IMAGE"),
    "PNG": ("PNG", "IMAGE"),
    "BMP": ("BMP", "IMAGE"),
    "HDR": ("HDR", "IMAGE"),
    "TIFF": ("TIFF", "IMAGE"),
    "OPEN_EXR": ("OPEN_EXR", "IMAGE"),
    "EXR": ("OPEN_EXR", "IMAGE"),
    "OPEN_EXR_MULTILAYER": ("OPEN_EXR_MULTILAYER", "MULTI_LAYER_IMAGE"),
    "MULTILAYER": ("OPEN_EXR_MULTILAYER", "MULTI_LAYER_IMAGE"),
    "CINEON": ("CINEON", "IMAGE"),
    "DPX": ("DPX", "IMAGE"),
    "JP2": ("JPEG2000", "IMAGE"),
    "WEBP": ("WEBP", "IMAGE"),
    "FFMPEG": ("FFMPEG", "VIDEO"),
}

_ENGINES = {
    "CYCLES": "CYCLES",
    "BLENDER_EEVEE": "BLENDER_EEVEE",
    "BLENDER_EEVEE_NEXT": "BLENDER_EEVEE",  # the 4.2 to 4.x name
    "EEVEE": "BLENDER_EEVEE",
    "BLENDER_WORKBENCH": "BLENDER_WORKBENCH",
    "WORKBENCH": "BLENDER_WORKBENCH",
}
_GPU_ENGINES = {"BLENDER_EEVEE", "BLENDER_WORKBENCH"}

_FRAME_ITEM = re.compile(r"^[+-]?\d+(\.\.[+-]?\d+)?$")
_RELATIVE_INT = re.compile(r"^[+-]?\d+$")

# option → (action, takes a value)
_OPTIONS: dict[str, tuple[str, bool]] = {
    "-b": ("background", False),
    "--background": ("background", False),
    "-P": ("python", True),
    "--python": ("python", True),
    "--python-exit-code": ("python_exit_code", True),
    "-o": ("output", True),
    "--render-output": ("output", True),
    "-F": ("format", True),
    "--render-format": ("format", True),
    "-E": ("engine", True),
    "--engine": ("engine", True),
    "-t": ("threads", True),
    "--threads": ("threads", True),
    "-s": ("frame_start", True),
    "--frame-start": ("frame_start", True),
    "-e": ("frame_end", True),
    "--frame-end": ("frame_end", True),
    "-j": ("frame_jump", True),
    "--frame-jump": ("frame_jump", True),
    "-a": ("render_anim", False),
    "--render-anim": ("render_anim", False),
    "-f": ("render_frame", True),
    "--render-frame": ("render_frame", True),
    "-y": ("autoexec", False),
    "--enable-autoexec": ("autoexec", False),
    "-Y": ("no_autoexec", False),
    "--disable-autoexec": ("no_autoexec", False),
    "-noaudio": ("noop", False),
    "--factory-startup": ("noop", False),
}


class RunnerError(Exception):
    """A failure that ends the run with ``exit_code`` after one clear line."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Action:
    """One command-line argument to apply, in order."""

    kind: str
    value: str = ""


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    script_args: list[str] = field(default_factory=list)


def _check_value(kind: str, value: str) -> None:
    """Reject bad values before anything is loaded, so a typo costs no render time."""
    if kind in {"frame_start", "frame_end"} and not _RELATIVE_INT.match(value):
        raise RunnerError(f"{kind.replace('_', ' ')} {value!r} is not a frame number", EXIT_USAGE)
    if kind in {"frame_jump", "threads", "python_exit_code"} and not value.isdigit():
        raise RunnerError(f"{kind.replace('_', ' ')} {value!r} is not a whole number", EXIT_USAGE)
    if kind == "python_exit_code" and int(value) > 255:
        raise RunnerError(f"--python-exit-code {value} is outside 0..255", EXIT_USAGE)
    if kind == "render_frame" and not all(_FRAME_ITEM.match(i) for i in value.split(",")):
        raise RunnerError(
            f"-f {value!r}: expected frames like 1, 1,3,7 or 5..10 (no spaces)", EXIT_USAGE
        )
    if kind == "format" and value.upper() not in _FORMATS:
        raise RunnerError(
            f"-F {value!r}: unknown format; use one of {', '.join(sorted(_FORMATS))}", EXIT_USAGE
        )
    if kind == "engine" and value.upper() not in _ENGINES:
        raise RunnerError(
            f"-E {value!r}: unknown engine; use CYCLES, BLENDER_EEVEE or BLENDER_WORKBENCH",
            EXIT_USAGE,
        )


def cycles_device_arg(script_args: Sequence[str]) -> str | None:
    """``--cycles-device X`` (or ``=X``) among the words after ``--``, as Cycles' parser finds it.

    >>> cycles_device_arg(["--azrender-camera", "C", "--cycles-device", "OPTIX"])
    'OPTIX'
    >>> cycles_device_arg(["--cycles-device=CPU"]), cycles_device_arg([])
    ('CPU', None)
    """
    found: str | None = None
    for i, word in enumerate(script_args):
        if word == "--cycles-device" and i + 1 < len(script_args):
            found = script_args[i + 1]
        elif word.startswith("--cycles-device="):
            found = word.partition("=")[2]
    return found


def parse_args(argv: Sequence[str]) -> Plan:
    """Turn Blender-style arguments into ordered actions; unknown flags are errors."""
    plan = Plan()
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            plan.script_args = list(argv[i + 1 :])
            break
        if arg in _OPTIONS:
            kind, takes_value = _OPTIONS[arg]
            if takes_value:
                if i + 1 >= len(argv):
                    raise RunnerError(f"{arg} needs a value", EXIT_USAGE)
                value = argv[i + 1]
                _check_value(kind, value)
                plan.actions.append(Action(kind, value))
                i += 2
                continue
            plan.actions.append(Action(kind))
        elif arg.startswith("-") and len(arg) > 1:
            raise RunnerError(
                f"unsupported argument {arg!r} (azrender-blender knows: "
                + " ".join(sorted({k for k in _OPTIONS if k.startswith('--')}))
                + ")",
                EXIT_USAGE,
            )
        else:
            plan.actions.append(Action("load", arg))
        i += 1
    return plan


def _relative(value: str, base_plus: int, base_minus: int) -> int:
    """Blender's relative frame syntax: ``+N`` from ``base_plus``, ``-N`` back from ``base_minus``."""
    if value.startswith("+"):
        return base_plus + int(value[1:])
    if value.startswith("-"):
        return base_minus - int(value[1:])
    return int(value)


def expand_frames(spec: str, start: int, end: int) -> list[int]:
    """Frames of ``-f``: ``1,3,5..7``; ``+N`` counts from ``start``, ``-N`` back from ``end``.

    >>> expand_frames("1,3,5..7", 1, 10)
    [1, 3, 5, 6, 7]
    >>> expand_frames("+1,-0", 1, 10)
    [2, 10]
    """
    frames: list[int] = []
    for item in spec.split(","):
        first, dots, last = item.partition("..")
        a = _relative(first, start, end)
        b = _relative(last, start, end) if dots else a
        step = 1 if b >= a else -1
        frames.extend(range(a, b + step, step))
    return frames


class _Session:
    """The state Blender keeps while walking its arguments."""

    def __init__(self, argv: Sequence[str], plan: Plan) -> None:
        import bpy  # imported here so --help-like failures need no Blender

        self.bpy: Any = bpy
        # Blender's first line when it starts, so a task log says which Blender rendered.
        print(f"Blender {bpy.app.version_string} ({bpy.__file__})", flush=True)
        self.argv = list(argv)
        self.plan = plan
        self.loaded = False
        self.python_exit_code = 0
        self.threads: int | None = None
        device = cycles_device_arg(plan.script_args)
        if device is not None:
            self._device_override(device)

    def _device_override(self, device: str) -> None:
        """What Cycles' ``_parse_command_line`` does with ``--cycles-device`` in Blender."""
        import importlib

        cycles: Any = importlib.import_module("_cycles")  # Cycles' C module, registered by bpy
        if not cycles.set_device_override(device):
            raise RunnerError(
                f"--cycles-device {device!r}: not a Cycles device; use CPU, CUDA, OPTIX, HIP, ONEAPI or METAL"
            )
        print(f"Cycles device override: {device}", flush=True)

    @property
    def scene(self) -> Any:
        return self.bpy.context.scene

    def do(self, action: Action) -> None:
        getattr(self, f"_do_{action.kind}")(action.value)

    def _do_noop(self, _value: str) -> None:
        pass

    def _do_background(self, _value: str) -> None:
        pass  # bpy is always in the background

    def _do_autoexec(self, _value: str) -> None:
        self.bpy.context.preferences.filepaths.use_scripts_auto_execute = True

    def _do_no_autoexec(self, _value: str) -> None:
        self.bpy.context.preferences.filepaths.use_scripts_auto_execute = False

    def _do_load(self, value: str) -> None:
        path = Path(value).absolute()
        if not path.is_file():
            raise RunnerError(f"cannot read file '{path}': no such file")
        try:
            self.bpy.ops.wm.open_mainfile(filepath=str(path))
        except RuntimeError as exc:
            raise RunnerError(f"cannot read file '{path}': {_first_line(exc)}") from exc
        self.loaded = True

    def _do_python(self, value: str) -> None:
        path = Path(value).absolute()
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RunnerError(f"cannot read Python script '{path}': {exc.strerror}") from exc
        saved_argv = sys.argv
        # Blender's sys.argv is its whole command line; scripts read what follows '--'.
        sys.argv = ["blender", *self.argv]
        namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
        try:
            exec(compile(source, str(path), "exec"), namespace)
        except Exception as exc:  # SystemExit ends the run, as sys.exit() does in Blender
            traceback.print_exc()
            if self.python_exit_code:
                raise RunnerError(
                    f"Python script '{path}' failed: {_first_line(exc)}", self.python_exit_code
                ) from exc
        finally:
            sys.argv = saved_argv

    def _do_python_exit_code(self, value: str) -> None:
        self.python_exit_code = int(value)

    def _do_output(self, value: str) -> None:
        self.scene.render.filepath = value

    def _do_format(self, value: str) -> None:
        file_format, media_type = _FORMATS[value.upper()]
        settings = self.scene.render.image_settings
        if hasattr(settings, "media_type"):
            settings.media_type = media_type
        settings.file_format = file_format

    def _do_engine(self, value: str) -> None:
        engine = _ENGINES[value.upper()]
        try:
            self.scene.render.engine = engine
        except TypeError as exc:
            raise RunnerError(f"-E {value}: this Blender has no such engine ({exc})") from exc

    def _do_threads(self, value: str) -> None:
        self.threads = int(value)

    def _do_frame_start(self, value: str) -> None:
        r = self.scene
        r.frame_start = _relative(value, r.frame_start, r.frame_start)

    def _do_frame_end(self, value: str) -> None:
        r = self.scene
        r.frame_end = _relative(value, r.frame_end, r.frame_end)

    def _do_frame_jump(self, value: str) -> None:
        self.scene.frame_step = max(1, int(value))

    def _do_render_anim(self, _value: str) -> None:
        s = self.scene
        self._render(list(range(s.frame_start, s.frame_end + 1, max(1, s.frame_step))))

    def _do_render_frame(self, value: str) -> None:
        s = self.scene
        self._render(expand_frames(value, s.frame_start, s.frame_end))

    def _render(self, frames: list[int]) -> None:
        if not self.loaded:
            raise RunnerError("nothing to render: give the .blend file before -a/-f")
        scene = self.scene
        if self.threads is not None:
            scene.render.threads_mode = "FIXED" if self.threads > 0 else "AUTO"
            if self.threads > 0:
                scene.render.threads = self.threads
        engine = scene.render.engine
        if engine in _GPU_ENGINES:
            print(
                f"Warning: scene engine {engine} needs a GPU/OpenGL context; "
                "headless bpy may fail to render it (use -E CYCLES)",
                flush=True,
            )
        saved = scene.frame_start, scene.frame_end, scene.frame_step
        try:
            for frame in frames:
                self._render_one(scene, frame, engine)
        finally:
            scene.frame_start, scene.frame_end, scene.frame_step = saved

    def _render_one(self, scene: Any, frame: int, engine: str) -> None:
        # One-frame animation render: the same code path as Blender's -f/-a,
        # which writes the file itself with the scene's output settings.
        scene.frame_start = scene.frame_end = frame
        scene.frame_step = 1
        target = Path(self.bpy.path.abspath(scene.render.frame_path(frame=frame)))
        before = target.stat().st_mtime_ns if target.exists() else None
        print(f"Fra:{frame} rendering with {engine}", flush=True)
        started = time.monotonic()
        try:
            result = self.bpy.ops.render.render(animation=True, scene=scene.name)
        except RuntimeError as exc:
            raise RunnerError(f"frame {frame} failed to render with {engine}: {_first_line(exc)}") from exc
        after = target.stat().st_mtime_ns if target.exists() else None
        if "FINISHED" not in result or after is None or after == before:
            hint = " (EEVEE/Workbench need a GPU context: switch the scene to Cycles)" if engine in _GPU_ENGINES else ""
            raise RunnerError(f"frame {frame} was not written to '{target}'{hint}")
        print(f"Saved: '{target}'", flush=True)
        print(f" Time: {time.monotonic() - started:.2f}s (frame {frame})", flush=True)


def _first_line(exc: BaseException) -> str:
    """bpy errors are multi-line reports; the first non-empty line carries the reason."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run Blender-style arguments; 0 on success, 1 on a failed load or render, 2 on bad usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-v"], ["--version"]):
        # What `blender --version` prints first (creator_args.cc: "Blender %s").
        import bpy

        print(f"Blender {bpy.app.version_string}", flush=True)
        return EXIT_OK
    try:
        plan = parse_args(args)
        if not plan.actions:
            raise RunnerError("nothing to do: give a .blend file and -a or -f", EXIT_USAGE)
        session = _Session(args, plan)
        for action in plan.actions:
            session.do(action)
    except RunnerError as exc:
        print(f"azrender-blender: error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    print("Blender quit", flush=True)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
