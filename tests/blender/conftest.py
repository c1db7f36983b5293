"""Fixtures for the Blender adapter tests: BAT's real .blend files and the generated demo shot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from blender_helpers import Built, build_demo_scene, build_matrix_shot


@pytest.fixture
def blendfiles(real_fixtures: Path) -> Path:
    path = real_fixtures / "helio__blender-asset-tracer" / "tests" / "blendfiles"
    if not path.is_dir():
        pytest.skip("BAT's test .blend files are not in shared/fixtures/real")
    return path




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
