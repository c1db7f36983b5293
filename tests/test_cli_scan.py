"""`azrender scan` as a pipeline script runs it: exit codes, one-line errors, JSON equal to ground truth."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import olefile
import pytest

AZRENDER = Path(sys.executable).parent / "azrender"
BLENDFILES = "helio__blender-asset-tracer/tests/blendfiles"
BABYLON = "BabylonJS__Exporters"


def run_scan(scene: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AZRENDER_DEBUG",)}
    return subprocess.run(
        [str(AZRENDER), "scan", str(scene), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def scan_json(scene: Path) -> dict[str, object]:
    proc = run_scan(scene)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


def dependency_paths(doc: dict[str, object]) -> set[str]:
    assets = doc["assets"]
    assert isinstance(assets, list)
    return {a["path"] for a in assets if a["kind"] != "scene"}


# --- bad input, every format: exit 2, one line on stderr, no traceback --------------------------


def bad_scenes(real: Path, tmp: Path) -> list[Path]:
    blend = (real / BLENDFILES / "doubly_linked.blend").read_bytes()
    ma = (real / BABYLON / "Maya/Samples/sourceModels/Std_Textures/Std_Textures.ma").read_bytes()
    mb = (real / BABYLON / "Maya/Samples/sourceModels/SimpleAnim/SimpleAnim.mb").read_bytes()
    mx = (real / BABYLON / "3ds Max/Samples/sourceModels/Instances/Instances.max").read_bytes()
    noise = bytes((i * 7919 + 13) % 251 for i in range(4096))
    files = {
        # zero-byte
        "empty.blend": b"",
        "empty.ma": b"",
        "empty.mb": b"",
        "empty.max": b"",
        # truncated
        "cut.blend": blend[:3000],
        "cut.ma": ma[: len(ma) // 2 - 7],
        "cut.mb": mb[:5000],
        "cut.max": mx[:3000],
        # corrupt
        "noise.blend": b"BLENDER-v280" + noise,
        "noise.ma": b"//Maya ASCII 2020 scene\n" + b'setAttr ".a" "x',
        "noise.mb": b"FOR8" + noise,
        "noise.max": bytes.fromhex("D0CF11E0A1B11AE1") + noise,
        # wrong extension: another application's scene
        "maxfile.blend": mx,
        "blendfile.ma": blend,
        "maxfile.mb": mx,
        "blendfile.max": blend,
        # not a scene kind at all
        "notes.txt": b"hello",
    }
    out = []
    for name, data in files.items():
        p = tmp / name
        p.write_bytes(data)
        out.append(p)
    # future version of the .max asset metadata (a newer 3ds Max)
    future = tmp / "future.max"
    with olefile.OleFileIO(
        str(real / BABYLON / "3ds Max/Samples/sourceModels/Instances/Instances.max")
    ) as ole:
        size = ole.get_size("FileAssetMetaData3")
    data = bytearray(mx)
    # rename the stream in its directory entry: FileAssetMetaData3 -> FileAssetMetaData9
    old = "FileAssetMetaData3".encode("utf-16-le")
    at = data.find(old)
    assert at > 0 and size > 0
    data[at : at + len(old)] = "FileAssetMetaData9".encode("utf-16-le")
    future.write_bytes(bytes(data))
    out.append(future)
    return out


def test_bad_input_exits_2_with_one_line(real_fixtures: Path, tmp_path: Path) -> None:
    for scene in bad_scenes(real_fixtures, tmp_path):
        proc = run_scan(scene)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, (scene.name, proc.returncode, proc.stderr)
        assert len(lines) == 1 and lines[0].startswith("error: "), (scene.name, proc.stderr)
        assert scene.name in lines[0], lines[0]
        assert "Traceback" not in proc.stderr and proc.stdout == "", scene.name


def test_missing_scene_file(tmp_path: Path) -> None:
    proc = run_scan(tmp_path / "nope.max")
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


# --- ground truth, one scene per format ----------------------------------------------------------


def _blender_helpers() -> object:
    spec = importlib.util.spec_from_file_location(
        "blender_helpers_cli", Path(__file__).parent / "blender" / "blender_helpers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.bpy
def test_blend_json_equals_blender(real_fixtures: Path) -> None:
    helpers = _blender_helpers()
    if not helpers.have_bpy():  # type: ignore[attr-defined]
        pytest.skip("bpy is not installed")
    scene = real_fixtures / BLENDFILES / "doubly_linked.blend"
    expected = {str(p) for p in helpers.blender_dependency_paths(scene)}  # type: ignore[attr-defined]
    doc = scan_json(scene)
    assert doc["app"] == "blender" and expected
    assert dependency_paths(doc) == expected


def maya_expected(scene: Path, written: str) -> str:
    """Where Maya finds a texture path: relative to the scene, or another machine's path by its
    file name in the scene's folder (Maya's last resolution step), else as written."""
    if not re.match(r"^[A-Za-z]:[\\/]", written):
        return os.path.normpath(scene.parent / written)
    beside = scene.parent / written.replace("\\", "/").rsplit("/", 1)[-1]
    return str(beside) if beside.is_file() else written


def test_ma_json_equals_the_file_texture_lines(real_fixtures: Path) -> None:
    scene = real_fixtures / BABYLON / "Maya/Samples/sourceModels/Std_Textures/Std_Textures.ma"
    text = scene.read_text(encoding="utf-8", errors="replace")
    written = re.findall(r'^\s*setAttr "\.ftn" -type "string" "([^"]*)";', text, re.MULTILINE)
    expected = {maya_expected(scene, w) for w in written}
    doc = scan_json(scene)
    assert doc["app"] == "maya" and expected
    assert dependency_paths(doc) == expected
    assert set(doc["missing"]) == {p for p in expected if not Path(p).is_file()}  # type: ignore[arg-type]


def test_mb_json_equals_the_ftn_strings(real_fixtures: Path) -> None:
    scene = (
        real_fixtures
        / BABYLON
        / "Maya/Samples/sourceModels/DoubleSidedMaterial/DoubleSidedMaterial.mb"
    )
    raw = scene.read_bytes()
    written = {m.decode() for m in re.findall(rb"STR [\x00-\xff]{12}ftn\x00.([^\x00]+)\x00", raw)}
    expected = {maya_expected(scene, w) for w in written}
    doc = scan_json(scene)
    assert expected and dependency_paths(doc) == expected


def test_max_json_equals_3ds_max_dependency_list(real_fixtures: Path) -> None:
    scene = (
        real_fixtures
        / BABYLON
        / "3ds Max/Samples/sourceModels/CubesImageFormat/CubesImageFormat.max"
    )
    with olefile.OleFileIO(str(scene)) as ole:
        props = ole.getproperties("\x05DocumentSummaryInformation")
    pairs, parts, pos, deps = props[12], props[13], 0, []
    for i in range(0, len(pairs), 2):
        if pairs[i] == b"External Dependencies":
            deps = [p.decode() for p in parts[pos : pos + pairs[i + 1]]]
        pos += pairs[i + 1]
    on_disk = {p.name.casefold(): str(p) for p in scene.parent.iterdir()}
    expected = {on_disk[d.casefold()] for d in deps}
    doc = scan_json(scene)
    assert doc["app"] == "max" and len(expected) == 7
    assert dependency_paths(doc) == expected and doc["missing"] == []


@pytest.mark.bpy
def test_benchmark_quick_smoke() -> None:
    """bench/scan.py --quick runs end to end and finds every generated file (timings not asserted)."""
    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy is not installed")
    bench = Path(__file__).resolve().parents[1] / "bench" / "scan.py"
    proc = subprocess.run(
        [sys.executable, str(bench), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "vs bpy" in proc.stdout and ".ma nodes" in proc.stdout
