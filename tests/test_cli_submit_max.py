"""Headless: `azrender submit shot.max --dry-run --json` reads dependencies and render settings from the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from azrender_max.scan import scan_max, scene_info

BABYLON = "BabylonJS__Exporters/3ds Max/Samples/sourceModels"
PRESET = 'name = "max-local"\n[backend]\nkind = "local"\n[render]\nchunk = 4\nformat = "PNG"\n'


def submit(scene: Path, preset: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azrender.cli", "submit", str(scene), "--preset", str(preset), *extra],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
    )


def test_dry_run_json_of_a_real_max(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / BABYLON / "SmilingFace/SmilingFace.max"
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    out = submit(scene, preset, "--frames", "1-10x3", "--dry-run", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    # Dependencies, from the file: the same as a scan, the two moved textures reported missing.
    headless = scan_max(scene)
    assert doc["dry_run"] is True and doc["uploaded_files"] == 0
    assert doc["files"] == len(headless.present) == 3
    assert sorted(doc["missing"]) == sorted(str(a.path) for a in headless.missing)
    assert all(m.endswith(".jpg") for m in doc["missing"]) and len(doc["missing"]) == 2
    # Render settings, from the file: the saved size is on every command line.
    info = scene_info(scene)
    job = doc["job"]
    assert job["app"] == "max" and job["scene"] == str(scene)
    lines = [t["command_line"] for t in job["tasks"]]
    assert [t["frames"] for t in job["tasks"]] == [[1, 4, 7, 10]]
    assert (info.width, info.height) == (640, 480) and len(lines) == 1
    assert "3dsmaxcmdio.exe -v:5 -rfw:0 -start:1 -end:10 -nthFrame:3 -w:640 -h:480 " in lines[0]
    assert lines[0].endswith('SmilingFace.max""')


def test_fallback_executable_and_strict(real_fixtures: Path, tmp_path: Path) -> None:
    scene = real_fixtures / BABYLON / "SmilingFace/SmilingFace.max"
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    out = submit(scene, preset, "--frames", "5", "--dry-run", "--json", env={"AZRENDER_MAX_CMD": "3dsmaxcmd.exe"})
    assert out.returncode == 0, out.stderr
    assert "3dsmaxcmd.exe -v:5 -rfw:0 -start:5 -end:5 " in json.loads(out.stdout)["job"]["tasks"][0]["command_line"]
    bad = submit(scene, preset, "--frames", "5", "--dry-run", env={"AZRENDER_MAX_CMD": "notepad.exe"})
    assert bad.returncode == 2 and "AZRENDER_MAX_CMD='notepad.exe' is not" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    strict = submit(scene, preset, "--frames", "5", "--dry-run", "--strict")
    assert strict.returncode == 3 and "AmbientOcclusion.jpg" in strict.stderr


def test_corrupt_max_is_one_line(tmp_path: Path) -> None:
    scene = tmp_path / "broken.max"
    scene.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    preset = tmp_path / "p.toml"
    preset.write_text(PRESET)
    out = submit(scene, preset, "--frames", "1", "--dry-run", "--json")
    assert out.returncode == 2 and "broken.max" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
