"""Fixtures for the Blender adapter tests: BAT's real .blend files and the generated demo shot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from blender_helpers import have_bpy


@pytest.fixture
def blendfiles(real_fixtures: Path) -> Path:
    path = real_fixtures / "helio__blender-asset-tracer" / "tests" / "blendfiles"
    if not path.is_dir():
        pytest.skip("BAT's test .blend files are not in shared/fixtures/real")
    return path


@pytest.fixture(scope="session")
def demo_scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shot, built once per session by ``python -m azrender_blender.demo_scene``."""
    if not have_bpy():
        pytest.skip("bpy (Blender as a module) is not installed")
    dest = tmp_path_factory.mktemp("demo") / "show" / "shot010"
    proc = subprocess.run(
        [sys.executable, "-m", "azrender_blender.demo_scene", str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (dest / "shot010.blend").is_file()
    return dest
