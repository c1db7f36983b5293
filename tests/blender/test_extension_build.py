"""The Blender extension zip: built by scripts/build_blender_extension.py, checked by Blender's own
validator, installed into bpy the way "Install from Disk" does, and rendering from its operator."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest
import tomllib
from blender_helpers import needs_bpy
from test_ui_operators import drive

from azrender.local.azurite import AzuriteServer

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "build_blender_extension.py"


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_blender_extension", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build_script()


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension for this machine's platform (the azrender wheel + downloaded dependency wheels)."""
    root = tmp_path_factory.mktemp("extension")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--platform", "current", "--dist", str(root / "dist"),
         "--work", str(root / "work")],
        capture_output=True, text=True, timeout=900, check=False,
    )
    if proc.returncode != 0 and "downloading" in proc.stderr and "wheels failed" in proc.stderr:
        pytest.skip(f"the package index cannot be reached: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stderr
    archive = Path(proc.stdout.strip().splitlines()[-1])
    assert archive.name == f"azrender-0.1.0-{build.current_platform()}.zip"
    return archive


def test_manifest_has_the_required_keys(extension_zip: Path) -> None:
    with zipfile.ZipFile(extension_zip) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        names = set(zf.namelist())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["id"] == "azrender" and manifest["type"] == "add-on"
    assert manifest["version"] == project["version"]
    assert manifest["blender_version_min"] == "4.2.0"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    for key in ("name", "tagline", "maintainer"):
        assert isinstance(manifest[key], str) and manifest[key]
    assert set(manifest["permissions"]) == {"network", "files"}
    for reason in manifest["permissions"].values():
        # Blender's rule for these one-line reasons: short, no final punctuation.
        assert 0 < len(reason) <= 64 and reason[-1].isalnum()
    assert manifest["platforms"] == [build.current_platform()]
    listed = manifest["wheels"]
    assert all(w.startswith("./wheels/") and w.endswith(".whl") for w in listed)
    in_zip = {n for n in names if n.startswith("wheels/")}
    assert {w[2:] for w in listed} == in_zip


def test_zip_layout_and_bundled_wheels(extension_zip: Path) -> None:
    with zipfile.ZipFile(extension_zip) as zf:
        names = set(zf.namelist())
    for required in ("blender_manifest.toml", "__init__.py", "collect.py", "ui/__init__.py",
                     "ui/panel.py", "ui/operators.py", "adapter.py"):
        assert required in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    wheels = {n.split("/", 1)[1] for n in names if n.startswith("wheels/")}
    projects = {re.sub(r"[-_.]+", "_", w.split("-")[0]).lower() for w in wheels}
    for needed in ("azrender", "azure_storage_blob", "azure_batch", "azure_identity", "azure_core",
                   "blender_asset_tracer", "fileseq", "xxhash", "platformdirs", "click", "rich"):
        assert needed in projects, needed
    # xxhash is compiled: its wheel must be the one for this platform's CPython 3.11.
    xxhash = [w for w in wheels if w.startswith("xxhash-")]
    tags = build.PLATFORM_TAGS[build.current_platform()]
    assert xxhash and all("cp311" in w and any(t in w for t in tags) for w in xxhash)


@needs_bpy
def test_blenders_own_validator_accepts_the_zip(extension_zip: Path) -> None:
    spec = importlib.util.find_spec("bpy")
    assert spec is not None and spec.origin is not None
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    assert found, "bpy ships blender_ext.py"
    proc = subprocess.run([sys.executable, str(found[-1]), "validate", str(extension_zip)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout


def test_manifest_filling_and_bad_input(tmp_path: Path) -> None:
    source = REPO / "plugins" / "blender" / "azrender_blender" / "blender_manifest.toml"
    assert tomllib.loads(source.read_text())["wheels"] == []
    out = tmp_path / "m.toml"
    parsed = build.write_manifest(source, out, wheels=["./wheels/a-1-py3-none-any.whl"], platforms=["linux-x64"])
    assert parsed["wheels"] == ["./wheels/a-1-py3-none-any.whl"]
    assert parsed["platforms"] == ["linux-x64"]
    broken = tmp_path / "broken.toml"
    broken.write_text('schema_version = "1.0.0"\n')
    with pytest.raises(build.BuildError, match=re.escape("no `wheels = [...]` line")):
        build.write_manifest(broken, out, wheels=[], platforms=[])
    proc = subprocess.run([sys.executable, str(SCRIPT), "--platform", "amiga-68k", "--work",
                           str(tmp_path / "w"), "--dist", str(tmp_path / "d")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "build_blender_extension: error: unknown platform 'amiga-68k' "
        "(use one of linux-x64, windows-x64, macos-arm64, macos-x64 or current)"
    )


@needs_bpy
@pytest.mark.bpy
@pytest.mark.azurite
@pytest.mark.slow
def test_installed_extension_renders_through_the_local_backend(
    extension_zip: Path, demo_scene_dir: Path, tmp_path: Path, azurite: AzuriteServer
) -> None:
    import shutil

    shot = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, shot)
    presets = tmp_path / "shows"
    presets.mkdir()
    (presets / "ext.toml").write_text(
        'name = "ext"\n[storage]\nassets_container = "ext-assets"\noutputs_container = "ext-outputs"\n'
        '[backend]\nkind = "local"\n'
    )
    user = tmp_path / "blender-user"
    env = dict(os.environ)
    env.update(
        AZR_EXTENSION_ZIP=str(extension_zip),
        BLENDER_USER_RESOURCES=str(user),  # never the real user's Blender folders
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONWARNINGS="ignore",
    )
    output = tmp_path / "out"

    out = drive(env, str(output), str(presets / "ext.toml"), str(shot / "shot010.blend"), str(presets),
                "submit")

    assert out["addon"] == "bl_ext.user_default.azrender"
    assert Path(out["addon_file"]) == user / "extensions" / "user_default" / "azrender" / "__init__.py"
    # The bundled wheels were installed while enabled, and removed with the extension.
    assert out["bundled_azrender"] and not out["bundled_azrender_after_disable"]
    assert out["thread_finished"] and out["job"]["state"] == "done", out["job"]
    frames = sorted(p.name for p in (output / out["job"]["job_id"] / "frames").iterdir())
    assert frames == ["shot010_0001.png", "shot010_0002.png"]
    assert out["unregistered"]
