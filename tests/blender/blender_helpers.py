"""Helpers shared by the Blender tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

VENV_BIN = Path(sys.executable).parent
RUNNER = VENV_BIN / "azrender-blender"

# Ground truth from real Blender. Each file gets its own process because bpy
# keeps global state between files (a sculpt-mode file links Blender's bundled
# brush library into every later file of the session).
_BLEND_PATHS = r"""
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
print("AZR-GT " + json.dumps(sorted(set(bpy.utils.blend_paths(absolute=True)))))
"""


def have_bpy() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("bpy") is not None
    except ValueError:
        return False


needs_bpy = pytest.mark.skipif(not have_bpy(), reason="bpy (Blender as a module) is not installed")


def bpy_run(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with bpy in a fresh interpreter; fail the test with its output if it fails."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def blender_dependency_paths(blend: Path) -> set[Path]:
    """``bpy.utils.blend_paths(absolute=True)`` of ``blend``, without Blender's bundled assets."""
    proc = bpy_run(_BLEND_PATHS, str(blend))
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-GT "))
    bundled = _bpy_install_dir()
    return {Path(p) for p in json.loads(line[len("AZR-GT ") :]) if not p.startswith(bundled)}


def _bpy_install_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.origin is not None
    return str(Path(spec.origin).parent)
