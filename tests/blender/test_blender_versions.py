"""The Blender that saved a scene (and each library) is read from its header, and the local node
renders with the installed Blender the rule picks for it. Ground truth: the saving bpy's own
``bpy.app.version``; which Blender ran: the task's own log."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from blender_helpers import BPY_PYTHONS, bpy_python

from azrender.local.azurite import AzuriteServer
from azrender_blender.localnode import (
    InstalledBlender,
    choose_blender,
    installed_blenders,
    write_blender_shim,
)
from azrender_blender.versions import saved_by

BIN = Path(sys.executable).parent
# Save a tiny scene (4x4 pixels, frames 1-2, Cycles at 1 sample); with a library: link its cube.
_SAVE = r"""
import json, sys, bpy
path, library, compress = sys.argv[-3], sys.argv[-2], sys.argv[-1] == "1"
bpy.ops.wm.read_factory_settings(use_empty=False)
scene = bpy.context.scene
scene.render.resolution_x = scene.render.resolution_y = 4
scene.frame_start, scene.frame_end = 1, 2
scene.render.engine = "CYCLES"
scene.cycles.samples = 1
if library:
    with bpy.data.libraries.load(library, link=True) as (src, dst):
        dst.objects = ["Cube"]
    scene.collection.objects.link(dst.objects[0])
bpy.ops.wm.save_as_mainfile(filepath=path, compress=compress)
print("AZR-SAVED " + json.dumps(list(bpy.app.version[:2])))
"""


def save_scene(version: str, path: Path, library: Path | None = None, compress: bool = False) -> str:
    """Save a scene with bpy ``version``; returns that bpy's own ``major.minor``."""
    done = subprocess.run([str(bpy_python(version)), "-c", _SAVE, str(path), str(library or ""), "1" if compress else "0"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("AZR-SAVED "))
    major, minor = json.loads(line[len("AZR-SAVED "):])
    return f"{major}.{minor}"


@pytest.mark.bpy
@pytest.mark.parametrize("version", list(BPY_PYTHONS))
def test_header_version_is_the_saving_blenders(version: str, tmp_path: Path) -> None:
    plain, packed = tmp_path / "plain.blend", tmp_path / "compressed.blend"
    truth = save_scene(version, plain)
    assert truth == version
    assert save_scene(version, packed, compress=True) == truth
    assert packed.read_bytes()[:4] != b"BLEN"  # Blender compressed it (zstd)
    assert saved_by(plain) == saved_by(packed) == truth
    assert saved_by(tmp_path / "missing.blend") is None


@pytest.mark.bpy
def test_scan_reports_the_scene_and_library_versions(tmp_path: Path) -> None:
    library = tmp_path / "lib.blend"
    scene = tmp_path / "shot.blend"
    lib_version = save_scene("5.0", library)
    scene_version = save_scene("5.3", scene, library=library)
    done = subprocess.run([str(BIN / "azrender"), "scan", str(scene), "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["app_version"] == scene_version == "5.3"
    assert doc["app_versions"] == {str(scene): "5.3", str(library): lib_version}
    text = subprocess.run([str(BIN / "azrender"), "scan", str(scene)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert "saved by blender: shot.blend 5.3, lib.blend 5.0" in text.stdout


@pytest.mark.bpy
def test_installed_blenders_report_their_own_versions() -> None:
    env = {**os.environ, "AZRENDER_LOCAL_BLENDERS": os.pathsep.join(
        str(bpy_python(v).parent.parent) for v in ("5.0", "5.3"))}
    found = installed_blenders(env)
    assert [(Path(b.path).parent.parent.name, b.version[:2]) for b in found] == [
        (".venv-blender53", (5, 3)), (".venv", (5, 0))]
    bad = {**os.environ, "AZRENDER_LOCAL_BLENDERS": "/bin/true"}
    with pytest.raises(Exception, match="does not report a Blender version"):
        installed_blenders(bad)


def test_choice_rule() -> None:
    b45, b50, b53 = (InstalledBlender(f"/b/{v}", v) for v in ((4, 5, 15), (5, 0, 1), (5, 3, 0)))
    assert choose_blender([b45, b50, b53], "5.3").blender == b53
    assert choose_blender([b45, b50, b53], "5.0").blender == b53  # the newest not older than the scene
    assert choose_blender([b45, b50], "4.2").blender == b50
    older = choose_blender([b45, b50], "5.3")
    assert older.blender == b50 and older.older_than_scene


def _submit(env: dict[str, str], scene: Path, preset: Path) -> dict[str, Any]:
    done = subprocess.run([str(BIN / "azrender"), "submit", str(scene), "--preset", str(preset), "--frames", "1-2",
                           "--chunk", "2", "--wait", "--json"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return dict(json.loads(done.stdout))


@pytest.mark.bpy
@pytest.mark.azurite
@pytest.mark.slow
def test_local_node_renders_with_the_blender_the_scene_needs(azurite: AzuriteServer, tmp_path: Path) -> None:
    envs = {v: bpy_python(v).parent.parent for v in ("5.0", "5.3")}
    scenes = {v: tmp_path / v / f"shot{v.replace('.', '')}.blend" for v in envs}
    for version, scene in scenes.items():
        scene.parent.mkdir()
        assert save_scene(version, scene) == version
    preset = tmp_path / "local.toml"
    preset.write_text('name = "v"\n[storage]\nassets_container = "v-assets"\noutputs_container = "v-outputs"\n'
                      '[backend]\nkind = "local"\nslots = 1\n')
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string,
           "AZRENDER_DATA_DIR": str(tmp_path / "data"), "AZRENDER_CACHE_DIR": str(tmp_path / "cache"),
           "AZRENDER_LOCAL_BLENDERS": os.pathsep.join(str(p) for p in envs.values())}
    node = tmp_path / "data" / "local" / "node" / "workitems"
    for version in ("5.3", "5.0"):  # a 5.0 scene: 5.0 or newer, and the newest installed is 5.3
        job = _submit(env, scenes[version], preset)
        assert job["state"] == "completed" and [t["result"] for t in job["tasks"]] == ["success"], job
        task = node / job["job_id"] / "job-1" / job["tasks"][0]["task_id"]
        stdout, stderr = (task / "stdout.txt").read_text(), (task / "stderr.txt").read_text()
        runner = envs["5.3"] / "bin" / "azrender-blender"
        assert f"azrender local node: Blender 5.3.0 at {runner} (scene saved by {version})" in stderr
        # The renderer's own first line, as Blender prints it, from the 5.3 bpy.
        assert stdout.splitlines()[0].startswith("Blender 5.3.0 (" + str(envs["5.3"]))
        stem = scenes[version].stem
        assert f"{stem}_0001.png'" in stdout and f"{stem}_0002.png'" in stdout


def _preflight(env: dict[str, str], scene: Path, preset: Path, *extra: str) -> list[dict[str, Any]]:
    done = subprocess.run([str(BIN / "azrender"), "submit", str(scene), "--preset", str(preset), "--frames", "1",
                           "--dry-run", "--json", *extra], env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return [f for f in json.loads(done.stdout)["preflight"]["findings"] if f["code"] == "blender-older-than-scene"]


@pytest.mark.bpy
def test_preflight_warns_when_the_blender_is_older_than_the_scene(tmp_path: Path) -> None:
    scene = tmp_path / "shot.blend"
    save_scene("5.3", scene)
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": "UseDevelopmentStorage=true",
           "AZRENDER_DATA_DIR": str(tmp_path / "data"), "AZRENDER_CACHE_DIR": str(tmp_path / "cache")}
    local = tmp_path / "local.toml"
    local.write_text('name = "l"\n[storage]\nassets_container = "ver-assets"\n[backend]\nkind = "local"\n')
    old_only = {**env, "AZRENDER_LOCAL_BLENDERS": str(bpy_python("5.0").parent.parent)}
    (finding,) = _preflight(old_only, scene, local)
    assert finding["severity"] == "warning"
    assert "saved by Blender 5.3 and the newest Blender on the local node is 5.0.1" in finding["message"]
    both = {**old_only, "AZRENDER_LOCAL_BLENDERS": os.pathsep.join(
        str(bpy_python(v).parent.parent) for v in ("5.0", "5.3"))}
    assert _preflight(both, scene, local) == []

    pool = tmp_path / "azure.toml"
    for provided, expected in (("5.0", 1), ("5.3", 0), ("6.0", 0)):
        pool.write_text('name = "a"\n[storage]\nassets_container = "ver-assets"\naccount_url = "https://acct.blob.core.windows.net"\n'
                        '[backend]\nkind = "azure"\n[batch]\naccount_url = "https://acct.eastus.batch.azure.com"\n'
                        f'[pool]\nblender_version = "{provided}"\n')
        found = _preflight(env, scene, pool)
        assert len(found) == expected, (provided, found)
        if found:
            assert "saved by Blender 5.3 and the pool provides Blender 5.0" in found[0]["message"]


@pytest.mark.bpy
def test_a_blender_on_path_is_asked_never_run_unchecked(tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "blender"
    fake.write_text("#!/bin/sh\necho 'not blender'\n")  # e.g. some other program named blender
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "AZRENDER_LOCAL_BLENDERS"}
    env["PATH"] = f"{fake_bin}{os.pathsep}{env.get('PATH', '')}"
    found = installed_blenders(env)
    assert str(fake) not in [b.path for b in found]
    assert [b.path for b in found] == [str(BIN / "azrender-blender")]  # this environment's bpy, asked
    # With no Blender to choose, the job's `blender` refuses instead of running the stray one.
    shim = write_blender_shim(tmp_path / "job-bin", choose_blender([], "5.3"), env)
    assert shim is not None
    done = subprocess.run([str(shim), "-b", "x.blend"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 127 and done.stdout == ""
    assert done.stderr.strip() == (f"azrender local node: {fake} does not report a Blender version; "
                                   "list the Blenders to render with in AZRENDER_LOCAL_BLENDERS")
    # A chosen Blender runs with the task's arguments, its own Python, and the log line first.
    b53 = InstalledBlender(str(bpy_python("5.3").parent / "azrender-blender"), (5, 3, 0))
    shim = write_blender_shim(tmp_path / "job-bin-53", choose_blender([b53], "5.0"), env)
    assert shim is not None
    leaky = {**env, "PYTHONPATH": os.pathsep.join(sys.path)}  # this Python's modules must not leak in
    done = subprocess.run([str(shim), "--version"], capture_output=True, text=True, timeout=60, check=False,
                          env=leaky)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Blender 5.3.0"
    assert done.stderr.splitlines()[0] == f"azrender local node: Blender 5.3.0 at {b53.path} (scene saved by 5.0)"


@pytest.mark.bpy
def test_doctor_lists_the_local_blenders(tmp_path: Path) -> None:
    preset = tmp_path / "d.toml"
    preset.write_text('name = "d"\n[storage]\nassets_container = "doc-assets"\n[backend]\nkind = "local"\n')
    listed = os.pathsep.join(str(bpy_python(v).parent.parent) for v in ("5.0", "5.3"))
    env = {**os.environ, "AZURE_STORAGE_CONNECTION_STRING": "", "AZRENDER_LOCAL_BLENDERS": listed}
    done = subprocess.run([str(BIN / "azrender"), "doctor", "--preset", str(preset), "--json"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    check = next(c for c in json.loads(done.stdout)["checks"] if c["check"] == "local blenders")
    b50, b53 = (bpy_python(v).parent / "azrender-blender" for v in ("5.0", "5.3"))
    assert check == {"check": "local blenders", "status": "ok", "fix": "",
                     "message": f"5.3.0 ({b53}), 5.0.1 ({b50}); a job renders with the newest not older than its scene"}
    env["AZRENDER_LOCAL_BLENDERS"] = "/bin/true"
    done = subprocess.run([str(BIN / "azrender"), "doctor", "--preset", str(preset), "--json"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    check = next(c for c in json.loads(done.stdout)["checks"] if c["check"] == "local blenders")
    assert check["status"] == "fail" and "/bin/true, which does not report a Blender version" in check["message"]
