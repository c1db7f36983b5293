"""Which Blender the local node renders a job with: chosen by the scene's version, each one asked.

Candidates (the node setting, like ``AZRENDER_LOCAL_MOUNTS``)::

    AZRENDER_LOCAL_BLENDERS="/opt/blender-4.2/blender:/opt/blender-5.3/blender:.venv-blender53"

entries separated by ``os.pathsep``; an entry is a Blender executable, or a
virtual environment whose ``bin/azrender-blender`` renders with its ``bpy``.
Unset: ``blender`` on ``PATH`` and this environment's ``azrender-blender``.
Every candidate's version is what it says to ``--version`` (its first line is
``Blender 5.3.0``: ``print_version_full`` in Blender's ``creator_args.cc``;
``azrender-blender --version`` answers the same), never assumed from a name.

The rule (:func:`choose_blender`): the newest candidate that is not older than
the Blender that saved the scene; when every candidate is older, the newest one,
and preflight warns ``blender-older-than-scene``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from azrender.errors import UsageError

#: Blender executables or bpy environments the local node may render with (``os.pathsep`` between).
LOCAL_BLENDERS_ENV = "AZRENDER_LOCAL_BLENDERS"

# A Blender (or another venv's azrender-blender) has its own Python: ours must not leak into it.
_PYTHON_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")

_VERSION_LINE = re.compile(r"^Blender (\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class InstalledBlender:
    """One Blender this machine can render with, and the version it reported."""

    path: str
    version: tuple[int, int, int]

    @property
    def text(self) -> str:
        """``"5.3.0"``."""
        return ".".join(map(str, self.version))


@dataclass(frozen=True)
class BlenderChoice:
    """The Blender for one scene; ``older_than_scene`` when none installed is as new as the scene."""

    blender: InstalledBlender | None
    scene_version: str
    older_than_scene: bool = False


def parse_version(text: str) -> tuple[int, int]:
    """``"5.3"`` -> ``(5, 3)``; ``"2.79"`` -> ``(2, 79)``.

    >>> parse_version("5.3"), parse_version("2.79"), parse_version("4.2.1")
    ((5, 3), (2, 79), (4, 2))
    """
    major, _, rest = text.strip().partition(".")
    return int(major), int(rest.split(".")[0] or 0)


def reported_version(output: str) -> tuple[int, int, int] | None:
    """The version in ``blender --version``'s output, or None.

    >>> reported_version("Blender 5.3.0\\n\\tbuild date: 2026-11-10\\n"), reported_version("oops")
    ((5, 3, 0), None)
    """
    for line in output.splitlines():
        match = _VERSION_LINE.match(line.strip())
        if match:
            return int(match[1]), int(match[2]), int(match[3] or 0)
    return None


#: A Blender answers ``--version`` in about a second (bpy's runner in a few, on a busy machine).
VERSION_TIMEOUT_S = 30


@functools.lru_cache(maxsize=32)
def _ask_version(path: str, mtime_ns: int) -> tuple[int, int, int] | None:
    del mtime_ns  # part of the cache key: a Blender replaced in place is asked again
    try:
        proc = subprocess.Popen([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, text=True, env=_own_python_env(),
                                start_new_session=True)
    except OSError:
        return None
    try:
        out, _ = proc.communicate(timeout=VERSION_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Something named blender that hangs: end it and whatever it started, whose open pipe
        # would otherwise keep this read waiting as long as they live.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # Windows: no process groups to end; the process itself
                proc.kill()
        proc.communicate()
        return None
    return reported_version(out) if proc.returncode == 0 else None


def _own_python_env() -> dict[str, str]:
    """This environment without the Python settings of ours that would mislead another Python."""
    return {k: v for k, v in os.environ.items() if k not in _PYTHON_ENV}


def blender_version(path: str) -> tuple[int, int, int] | None:
    """What ``path --version`` reports, or None when it does not run or is not a Blender."""
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _ask_version(path, mtime)


def _executable(entry: str) -> str:
    path = Path(entry).expanduser()
    if path.is_dir():
        runner = path / ("Scripts" if os.name == "nt" else "bin") / "azrender-blender"
        if not runner.exists():
            raise UsageError(
                f"{LOCAL_BLENDERS_ENV} entry {entry!r} is a folder without bin/azrender-blender",
                hint="name a Blender executable, or a virtual environment with azrender and bpy installed",
            )
        return str(runner.absolute())
    return str(path.absolute())


def candidates(environ: Mapping[str, str] | None = None) -> list[str]:
    """The executables to ask: ``$AZRENDER_LOCAL_BLENDERS``, else ``blender`` and ``azrender-blender``."""
    env = os.environ if environ is None else environ
    listed = [e.strip() for e in env.get(LOCAL_BLENDERS_ENV, "").split(os.pathsep) if e.strip()]
    if listed:
        return list(dict.fromkeys(_executable(e) for e in listed))
    found = [shutil.which("blender", path=env.get("PATH")) or ""]
    found.append(str(Path(sys.executable).parent / "azrender-blender"))
    return list(dict.fromkeys(p for p in found if p and Path(p).is_file()))


def installed_blenders(environ: Mapping[str, str] | None = None) -> list[InstalledBlender]:
    """Every candidate that answers ``--version`` like a Blender, newest first.

    :raises UsageError: when ``$AZRENDER_LOCAL_BLENDERS`` names one that does not.
    """
    env = os.environ if environ is None else environ
    explicit = bool(env.get(LOCAL_BLENDERS_ENV, "").strip())
    found = []
    for path in candidates(env):
        version = blender_version(path)
        if version is None:
            if explicit:
                raise UsageError(
                    f"{LOCAL_BLENDERS_ENV} names {path}, which does not report a Blender version",
                    hint=f"check that `{path} --version` prints 'Blender X.Y.Z', or remove it from the list",
                )
            continue  # e.g. a `blender` on PATH that is some other program
        found.append(InstalledBlender(path, version))
    return sorted(found, key=lambda b: b.version, reverse=True)


def choose_blender(installed: Sequence[InstalledBlender], scene_version: str | None) -> BlenderChoice:
    """The newest installed Blender not older than the scene's; else the newest, flagged.

    >>> b42, b50, b53 = (InstalledBlender(f"/b{v}", v) for v in ((4, 2, 0), (5, 0, 1), (5, 3, 0)))
    >>> choose_blender([b42, b50, b53], "5.0").blender.path
    '/b(5, 3, 0)'
    >>> c = choose_blender([b42, b50], "5.3"); (c.blender.path, c.older_than_scene)
    ('/b(5, 0, 1)', True)
    >>> choose_blender([], "5.3").blender is None
    True
    """
    ordered = sorted(installed, key=lambda b: b.version, reverse=True)
    if not ordered:
        return BlenderChoice(None, scene_version or "")
    if not scene_version:
        return BlenderChoice(ordered[0], "")
    wanted = parse_version(scene_version)
    fits = [b for b in ordered if b.version[:2] >= wanted]
    if fits:
        return BlenderChoice(fits[0], scene_version)
    return BlenderChoice(ordered[0], scene_version, older_than_scene=True)


def choice_line(choice: BlenderChoice) -> str:
    """What the task log says about the Blender that runs (the shim prints it to stderr)."""
    assert choice.blender is not None
    why = (f"scene saved by {choice.scene_version}" if choice.scene_version else "scene version unknown")
    if choice.older_than_scene:
        why += "; no installed Blender is as new"
    return f"azrender local node: Blender {choice.blender.text} at {choice.blender.path} ({why})"


def write_blender_shim(
    folder: Path, choice: BlenderChoice, environ: Mapping[str, str] | None = None
) -> Path | None:
    """``<folder>/blender``: says which Blender runs, then runs it with the task's arguments.

    Without a choice: when a ``blender`` on ``PATH`` is there (it did not answer
    ``--version``), a ``blender`` that refuses with that reason, so it never runs
    unchecked; when there is none, nothing (the node's own ``azrender-blender``
    shim serves, see :func:`azrender.local.node.install_node_tools`).
    """
    env = os.environ if environ is None else environ
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "blender"
    if choice.blender is None:
        stray = shutil.which("blender", path=env.get("PATH"))
        if stray is None:
            return None
        why = (f"azrender local node: {stray} does not report a Blender version; list the Blenders to "
               f"render with in {LOCAL_BLENDERS_ENV}").replace("'", "'\\''")
        shim.write_text(f"#!/bin/sh\necho '{why}' >&2\nexit 127\n")
        shim.chmod(0o755)
        return shim
    line = choice_line(choice).replace("'", "'\\''")
    target = choice.blender.path.replace("'", "'\\''")
    unset = " ".join(_PYTHON_ENV)
    shim.write_text(f"#!/bin/sh\nunset {unset}\necho '{line}' >&2\nexec '{target}' \"$@\"\n")
    shim.chmod(0o755)
    return shim
