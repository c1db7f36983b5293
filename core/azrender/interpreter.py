"""Which Python runs azrender's own background processes (on the submitting machine).

Inside Maya, 3ds Max or Blender, ``sys.executable`` may be the application
itself (``maya``, ``3dsmax.exe``), which cannot run ``python -m``. The local
backend's worker and the emulated node's ``python3`` must be a real Python
that sees the same azrender and dependencies as this process::

    argv = [python_executable(), "-m", "azrender.local.worker", job_id]
    env = with_this_sys_path(os.environ)

The local backend and the node bundle builder (:mod:`azrender.nodebundle.bundle`,
which runs ``pip download``) both need it, so it lives beside neither.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

# Interpreters an application ships beside its own executable.
_BUNDLED = ("mayapy", "mayapy.exe", "python3", "python", "python.exe", "Python/python.exe")
_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?(\.exe)?$", re.IGNORECASE)


def python_executable(executable: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """A Python interpreter able to run ``-m azrender...``.

    ``$AZRENDER_PYTHON`` wins; then this process's interpreter when it is a
    Python; then one bundled beside the application (``mayapy``, 3ds Max's
    ``Python/python.exe``); then ``python3`` on PATH.
    """
    env = os.environ if environ is None else environ
    if env.get("AZRENDER_PYTHON"):
        return env["AZRENDER_PYTHON"]
    current = Path(executable or sys.executable)
    if _PYTHON_NAME.match(current.name):
        return str(current)
    for name in _BUNDLED:
        candidate = current.parent / name
        if candidate.is_file():
            return str(candidate)
    return shutil.which("python3") or shutil.which("python") or str(current)


def bare_python(environ: Mapping[str, str] | None = None) -> str:
    """A Python without azrender, as a render node's image has: the emulated node's ``python3``.

    ``$AZRENDER_NODE_PYTHON`` wins; else the base interpreter of this process's
    virtual environment (``sys._base_executable``), else :func:`python_executable`.
    The node bootstrap makes its own isolated environment from it, so whatever
    else that interpreter has installed is never seen by the node's tasks.
    """
    env = os.environ if environ is None else environ
    if env.get("AZRENDER_NODE_PYTHON"):
        return env["AZRENDER_NODE_PYTHON"]
    python = python_executable(environ=env)
    if Path(python) == Path(sys.executable) and sys.prefix != sys.base_prefix:
        return str(getattr(sys, "_base_executable", python))
    return python


def with_this_sys_path(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus a PYTHONPATH that gives a child this process's modules.

    An application's bundled packages (a Blender extension's wheels, a Maya
    module's scripts folder) are on ``sys.path`` only inside the application.
    """
    ours = [p for p in sys.path if p and Path(p).is_dir() and not _shadows_bpy(p)]
    theirs = environ.get("PYTHONPATH", "").split(os.pathsep)
    ordered = [p for p in dict.fromkeys([*ours, *theirs]) if p]  # first occurrence wins
    return {**environ, "PYTHONPATH": os.pathsep.join(ordered)}


def _shadows_bpy(folder: str) -> bool:
    """True for Blender's own ``scripts/modules``: its pure-Python ``bpy`` package
    only works inside Blender and would hide the real ``bpy`` module from a child."""
    return (Path(folder) / "bpy" / "__init__.py").is_file()
