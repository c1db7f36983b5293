"""Helpers shared by the Blender tests (a unique module name: tests/ has no packages)."""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

VENV_BIN = Path(sys.executable).parent
RUNNER = VENV_BIN / "azrender-blender"
REPO = Path(__file__).resolve().parents[2]
# The demo shot builder (run by scripts/demo.sh too) and its helpers, outside the shipped packages.
DEMO_SCENE = REPO / "scripts" / "demo_scene.py"

# The Blender versions the suite checks against, each its own bpy in its own
# environment (made by scripts/setup.sh): the current Blender (5.1+ embed
# CPython 3.13), the one in .venv, and the LTS.
BPY_PYTHONS: dict[str, Path] = {
    "5.3": REPO / ".venv-blender53" / "bin" / "python",
    "5.0": REPO / ".venv" / "bin" / "python",
    "4.5": REPO / ".venv-blender45" / "bin" / "python",
}


def bpy_python(version: str) -> Path:
    """The interpreter with bpy ``version``; a skip here, a failure on CI (setup makes them all)."""
    python = BPY_PYTHONS[version]
    if not python.exists():
        reason = f"{python.parent.parent.name} (bpy {version}) is missing: run scripts/setup.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return python

# Ground truth from real Blender. Each file gets its own process because bpy
# keeps global state between files (a sculpt-mode file links Blender's bundled
# brush library into every later file of the session).
_BLEND_PATHS = r"""
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
print("AZR-GT " + json.dumps({"paths": sorted(set(bpy.utils.blend_paths(absolute=True))),
                              "bundled": bpy.utils.resource_path("LOCAL"),
                              "version": bpy.app.version_string}))
"""


def have_bpy() -> bool:
    try:
        import importlib.util

        return importlib.util.find_spec("bpy") is not None
    except ValueError:
        return False


needs_bpy = pytest.mark.skipif(not have_bpy(), reason="bpy (Blender as a module) is not installed")


def bpy_run(
    code: str, *args: str, timeout: float = 120, python: Path | str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with bpy in a fresh ``python``; fail the test with its output if it fails."""
    proc = subprocess.run(
        [str(python), "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def blender_dependency_paths(blend: Path, python: Path | str = sys.executable) -> set[Path]:
    """``bpy.utils.blend_paths(absolute=True)`` of ``blend`` by ``python``'s bpy, without its bundled assets."""
    proc = bpy_run(_BLEND_PATHS, str(blend), python=python)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-GT "))
    doc = json.loads(line[len("AZR-GT ") :])
    return {Path(p) for p in doc["paths"] if not p.startswith(doc["bundled"])}


def expected_files(ground_truth: set[Path]) -> set[Path]:
    """Blender lists a UDIM set by its pattern; expand it to the tiles on disk like we do."""
    out: set[Path] = set()
    for p in ground_truth:
        if "<UDIM>" in p.name:
            tiles = glob.glob(glob.escape(str(p)).replace("<UDIM>", "[0-9][0-9][0-9][0-9]"))
            out.update(Path(t) for t in tiles) if tiles else out.add(p)
        else:
            out.add(p)
    return out


def sequence_sibling(path: Path, of: set[Path]) -> bool:
    """True for other frames of a sequence whose first frame Blender listed."""
    stem = re.sub(r"\d+$", "", path.stem)
    return any(
        o.parent == path.parent and re.sub(r"\d+$", "", o.stem) == stem and o.suffix == path.suffix for o in of
    )


def assert_same_as_blender(found: set[Path], ground_truth: set[Path]) -> None:
    """``found`` holds every file Blender lists (UDIM tiles expanded) and nothing else but sequence frames."""
    expected = expected_files(ground_truth)
    assert expected - found == set(), "Blender knows dependencies the scanner missed"
    extra = {p for p in found - expected if not sequence_sibling(p, expected)}
    assert extra == set(), "the scanner reports files Blender does not use"


class Built(NamedTuple):
    """One shot built by a given bpy: what the build wrote, and what that Blender says the scene uses.

    A NamedTuple, not a dataclass: tests/test_cli_scan.py loads this module by
    path without registering it, and dataclasses need the module registered.
    """

    scene: Path
    blender: str
    written: frozenset[Path]
    blend_paths: frozenset[Path]


def build_matrix_shot(version: str, dest: Path) -> Built:
    """Run tests/blender/matrix_scene.py with bpy ``version`` into ``dest``; ask that Blender for its paths."""
    python = bpy_python(version)
    env = {**os.environ, "PYTHONPATH": str(DEMO_SCENE.parent)}
    proc = subprocess.run(
        [str(python), str(Path(__file__).with_name("matrix_scene.py")), str(dest)],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-BUILT "))
    doc = json.loads(line[len("AZR-BUILT ") :])
    scene = Path(doc["scene"])
    return Built(
        scene=scene,
        blender=doc["blender"],
        written=frozenset(Path(p) for p in doc["written"]),
        blend_paths=frozenset(blender_dependency_paths(scene, python)),
    )


def build_demo_scene(version: str, dest: Path) -> Path:
    """The demo shot (``python scripts/demo_scene.py``) saved by bpy ``version``; its folder."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [str(bpy_python(version)), str(DEMO_SCENE), str(dest)],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (dest / "shot010.blend").is_file()
    return dest
