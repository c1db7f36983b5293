"""Preflight on the local backend: what this machine cannot render is an error before upload.

The scan is real (real scene files); what is or is not installed is the PATH the
test gives the submit, as an artist's machine with or without Maya would have.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azrender.model import FrameRange, RenderOptions
from azrender.presets import load_preset
from azrender.submit import submit_scene

MAYA_SCENE = "BabylonJS__Exporters/Maya/Samples/sourceModels/PBR_Textures/PBR_Textures.ma"
BLEND = "helio__blender-asset-tracer/tests/blendfiles/basic_file.blend"


@pytest.fixture
def preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
    path = tmp_path / "local.toml"
    path.write_text('name = "local"\n[backend]\nkind = "local"\n')
    return path


def codes(scene: Path, preset: Path, render: RenderOptions | None = None) -> dict[str, str]:
    planned = submit_scene(scene, load_preset(preset), FrameRange.parse("1"), dry_run=True,
                           render=render)
    assert planned.preflight is not None
    return {f.code: f.severity for f in planned.preflight.findings}


def test_a_maya_scene_needs_maya_on_this_machine(
    real_fixtures: Path, preset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "bin"
    bare.mkdir()
    monkeypatch.setenv("PATH", f"{bare}{os.pathsep}/usr/bin{os.pathsep}/bin")
    found = codes(real_fixtures / MAYA_SCENE, preset)
    assert found.get("renderer-not-on-local-node") == "error"

    render = bare / "Render"  # Maya's command-line renderer, as an install puts it on PATH
    render.write_text("#!/bin/sh\nexit 0\n")
    render.chmod(0o755)
    assert "renderer-not-on-local-node" not in codes(real_fixtures / MAYA_SCENE, preset)


def test_a_3ds_max_scene_gets_one_error_not_two(real_fixtures: Path, preset: Path) -> None:
    scene = real_fixtures / "BabylonJS__Exporters/3ds Max/Samples/sourceModels/SmilingFace/SmilingFace.max"
    found = codes(scene, preset)
    assert found.get("app-not-on-node-os") == "error"
    assert "renderer-not-on-local-node" not in found


@pytest.mark.parametrize("engine", ["cycles", "CYCLES", "eevee", "BLENDER_EEVEE_NEXT", "Workbench"])
def test_blenders_own_engines_pass(real_fixtures: Path, preset: Path, engine: str) -> None:
    assert "renderer-unknown-on-local-node" not in codes(
        real_fixtures / BLEND, preset, RenderOptions(renderer=engine))


def test_an_engine_blender_does_not_have_is_an_error_before_upload(
    real_fixtures: Path, preset: Path
) -> None:
    found = codes(real_fixtures / BLEND, preset, RenderOptions(renderer="BLENDER_FOO"))
    assert found.get("renderer-unknown-on-local-node") == "error"
