"""A plain ``pip install`` of the built wheel is enough to scan what Blender writes.

The development environment has packages that only arrive as someone else's
dependency (``zstandard`` through ``bpy``), so a missing runtime dependency is
invisible there. This test builds the wheel, installs it alone into a fresh
virtual environment (dependencies from the package index, nothing from the dev
venv) and scans real zstd- and gzip-compressed .blend files with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

BLENDFILES = Path("helio__blender-asset-tracer") / "tests" / "blendfiles"


def _run(*cmd: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def clean_install(tmp_path_factory: pytest.TempPathFactory, built_wheel: Path) -> Path:
    """``bin/`` of a fresh venv holding the azrender wheel and only what it declares."""
    work = tmp_path_factory.mktemp("clean")
    venv.create(work / "env", with_pip=True)
    bin_dir = work / "env" / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         built_wheel)
    return bin_dir


def test_the_wheel_declares_what_it_imports(clean_install: Path) -> None:
    proc = _run(clean_install / "python", "-c",
                "import zstandard, requests, urllib3, azrender.cli, azrender.storage.client, "
                "azrender_blender.adapter, azrender_maya.adapter, azrender_max.adapter; print('ok')")
    assert proc.stdout.strip() == "ok"
    # bpy is the optional real Blender; the plain install must not have pulled it in.
    missing = subprocess.run([clean_install / "python", "-c", "import bpy"],
                             capture_output=True, check=False)
    assert missing.returncode != 0


@pytest.mark.parametrize(
    ("name", "magic"),
    [("basic_file_compressed_zstd.blend", b"\x28\xb5\x2f\xfd"),
     ("linked_cube_compressed.blend", b"\x1f\x8b")],
)
def test_a_clean_install_scans_compressed_blend_files(
    clean_install: Path, real_fixtures: Path, name: str, magic: bytes
) -> None:
    scene = real_fixtures / BLENDFILES / name
    if not scene.is_file():
        pytest.skip(f"{scene} is not in shared/fixtures/real")
    assert scene.read_bytes()[: len(magic)] == magic, "the fixture is not compressed as expected"
    proc = _run(clean_install / "azrender", "scan", scene, "--json", timeout=120)
    report = json.loads(proc.stdout)
    found = {Path(a["path"]) for a in report["assets"] if a["kind"] != "scene"}
    assert Path(report["assets"][0]["path"]).name == name
    assert found == _blender_says(scene)


_BLEND_PATHS = """
import json, sys, bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[-1])
print("AZR-GT " + json.dumps(sorted(set(bpy.utils.blend_paths(absolute=True)))))
"""


def _blender_says(scene: Path) -> set[Path]:
    """Real Blender's own dependency list of ``scene`` (bpy in the dev venv)."""
    import importlib.util

    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy (Blender as a module) is not installed")
    proc = _run(sys.executable, "-c", _BLEND_PATHS, scene, timeout=120)
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-GT "))
    return {Path(p) for p in json.loads(line[len("AZR-GT "):])}
