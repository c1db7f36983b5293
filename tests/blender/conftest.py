"""Fixtures for the Blender adapter tests: BAT's real .blend files and the generated demo shot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from blender_helpers import DEMO_SCENE, Built, build_demo_scene, build_matrix_shot, have_bpy


@pytest.fixture
def blendfiles(real_fixtures: Path) -> Path:
    path = real_fixtures / "helio__blender-asset-tracer" / "tests" / "blendfiles"
    if not path.is_dir():
        pytest.skip("BAT's test .blend files are not in shared/fixtures/real")
    return path


@pytest.fixture(scope="session")
def demo_scene_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo shot, built once per session by ``python scripts/demo_scene.py``."""
    if not have_bpy():
        pytest.skip("bpy (Blender as a module) is not installed")
    dest = tmp_path_factory.mktemp("demo") / "show" / "shot010"
    proc = subprocess.run(
        [sys.executable, str(DEMO_SCENE), str(dest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (dest / "shot010.blend").is_file()
    return dest


@pytest.fixture(scope="session")
def matrix_shot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Built]:
    """``matrix_shot("5.3")``: tests/blender/matrix_scene.py built and judged by bpy 5.3, once per session."""
    built: dict[str, Built] = {}

    def get(version: str) -> Built:
        if version not in built:
            built[version] = build_matrix_shot(version, tmp_path_factory.mktemp(f"matrix-{version}"))
        return built[version]

    return get


@pytest.fixture(scope="session")
def demo_shot_by(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``demo_shot_by("5.3")``: the demo shot's folder as bpy 5.3 saves it (5.0: :func:`demo_scene_dir`)."""
    built: dict[str, Path] = {}

    def get(version: str) -> Path:
        if version == "5.0":
            return Path(request.getfixturevalue("demo_scene_dir"))
        if version not in built:
            dest = tmp_path_factory.mktemp(f"demo-{version}") / "show" / "shot010"
            built[version] = build_demo_scene(version, dest)
        return built[version]

    return get
