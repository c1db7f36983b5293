"""The panel's operators in real Blender (bpy): register, check, submit to the local node, unregister.

Each scenario runs in its own interpreter: add-on registration, the open file
and the preferences are process-wide bpy state. The driver calls the timer
function (``runtime.poll``) itself in a bounded loop, because a bpy module has
no event loop to fire ``bpy.app.timers``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from blender_helpers import needs_bpy

from azrender.local.azurite import AzuriteServer

pytestmark = [needs_bpy, pytest.mark.bpy]

# Enable the add-on the way Blender does, set its preferences and the panel's
# properties, press buttons, and print what the panel would show as JSON.
DRIVER = r"""
import importlib, json, os, sys, time
import bpy
import addon_utils

scene_path, preset_dir, scenario = sys.argv[-3:]
bpy.ops.wm.open_mainfile(filepath=scene_path)
archive = os.environ.get("AZR_EXTENSION_ZIP")
if archive:
    # The built extension, installed the way Blender's "Install from Disk" does.
    result = bpy.ops.extensions.package_install_files(
        filepath=archive, repo="user_default", enable_on_install=True)
    assert result == {"FINISHED"}, result
    addon = "bl_ext.user_default.azrender"
else:
    addon = "azrender_blender"
    addon_utils.enable(addon, default_set=True, handle_error=None)
runtime = importlib.import_module(addon + ".ui.runtime")

prefs = bpy.context.preferences.addons[addon].preferences
prefs.preset_path = preset_dir
settings = bpy.context.scene.azrender
out = {"registered": hasattr(bpy.types.Scene, "azrender"),
       "panel": hasattr(bpy.types, "AZRENDER_PT_render_on_azure"),
       "timer": bpy.app.timers.is_registered(runtime.poll)}

def run_op(op):
    try:
        return {"result": sorted(op()), "error": None}
    except RuntimeError as exc:
        return {"result": None, "error": str(exc)}

if scenario == "check":
    out["check"] = run_op(bpy.ops.azrender.check_dependencies)
    out["summary"] = settings.check_summary
    out["missing"] = [{"path": m.path, "kind": m.kind, "referrer": m.referrer} for m in settings.missing]
    out["submit_without_preset"] = run_op(bpy.ops.azrender.submit)
elif scenario == "submit":
    settings.preset = sys.argv[-4]
    settings.use_scene_frames = False
    settings.frames = "1-2"
    settings.chunk = 1
    settings.backend = "local"
    settings.output_dir = sys.argv[-5]
    out["submit"] = run_op(bpy.ops.azrender.submit)
    seen = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        runtime.poll()
        job = settings.jobs[0]
        if job.state not in seen:
            seen.append(job.state)
        if not runtime.WORK.busy():
            runtime.poll()
            break
        time.sleep(0.2)
    out["thread_finished"] = not runtime.WORK.busy()
    out["states"] = seen
    job = settings.jobs[0]
    out["job"] = {k: getattr(job, k) for k in ("job_id", "state", "progress", "message", "error",
                                               "output_dir", "output_root", "backend")}
    out["dirty_file_untouched"] = bpy.data.filepath == scene_path

out["addon"] = addon
ext_site = [p for p in sys.path if os.path.join("extensions", ".local") in p]
def bundled_azrender():
    return any(os.path.isfile(os.path.join(p, "azrender", "submit.py")) for p in ext_site)
out["bundled_azrender"] = bundled_azrender()
out["addon_file"] = importlib.import_module(addon).__file__
addon_utils.disable(addon, default_set=True, handle_error=None)
out["bundled_azrender_after_disable"] = bundled_azrender()
out["unregistered"] = not hasattr(bpy.types.Scene, "azrender") and not hasattr(
    bpy.types, "AZRENDER_PT_render_on_azure")
print("AZR-RESULT " + json.dumps(out))
"""


def drive(env: dict[str, str], *args: str, timeout: float = 900, driver: str = DRIVER) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", driver, *args],
        capture_output=True, text=True, timeout=timeout, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert line is not None, proc.stdout[-4000:] + proc.stderr[-4000:]
    return dict(json.loads(line[len("AZR-RESULT "):]))


@pytest.fixture
def shot(demo_scene_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo shot (the operators write snapshots beside the scene)."""
    dest = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, dest)
    return dest / "shot010.blend"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = dict(os.environ)
    out.update(
        AZRENDER_DATA_DIR=str(tmp_path / "data"),
        AZRENDER_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONWARNINGS="ignore",
    )
    out.pop("AZRENDER_PRESET_PATH", None)
    return out


def test_check_lists_the_missing_texture_and_submit_needs_a_preset(
    shot: Path, env: dict[str, str], tmp_path: Path
) -> None:
    gone = shot.parent / "textures" / "brick wall.png"
    gone.unlink()
    empty_presets = tmp_path / "no-presets"
    empty_presets.mkdir()

    out = drive(env, str(shot), str(empty_presets), "check")

    assert out["registered"] and out["panel"] and out["timer"]
    assert out["check"] == {"result": ["FINISHED"], "error": None}
    assert out["missing"] == [{"path": str(gone), "kind": "texture", "referrer": "Image 'brick wall'"}]
    # The scene, 2 UDIM tiles, 3 sequence frames, the library and its texture are present.
    assert out["summary"].startswith("8 files (") and out["summary"].endswith(", 1 missing")
    # Bad input is one Blender error report that says what to do.
    err = out["submit_without_preset"]["error"]
    assert out["submit_without_preset"]["result"] is None
    assert "no preset is chosen" in err and "Preset search path" in err
    assert out["unregistered"]


@pytest.mark.azurite
@pytest.mark.slow
def test_submit_renders_on_the_local_node_and_frames_arrive(
    shot: Path, env: dict[str, str], tmp_path: Path, azurite: AzuriteServer
) -> None:
    env["AZURE_STORAGE_CONNECTION_STRING"] = azurite.connection_string
    presets = tmp_path / "shows"
    presets.mkdir()
    preset = presets / "ui.toml"
    preset.write_text(
        'name = "ui"\n[storage]\nassets_container = "ui-assets"\noutputs_container = "ui-outputs"\n'
        '[backend]\nkind = "local"\nslots = 2\n[render]\nchunk = 4\nformat = "PNG"\n'
    )
    output = tmp_path / "frames-here"

    out = drive(env, str(output), str(preset), str(shot), str(presets), "submit")

    assert out["submit"] == {"result": ["FINISHED"], "error": None}
    assert out["thread_finished"], out
    job = out["job"]
    assert job["state"] == "done", job
    assert job["error"] == "" and job["progress"] == pytest.approx(1.0)
    assert job["backend"] == "local"
    assert job["output_root"] == str(output)
    assert job["output_dir"] == str(output / job["job_id"])
    assert out["states"][-1] == "done" and "running" in out["states"]
    frames = sorted(p.name for p in (output / job["job_id"] / "frames").iterdir())
    assert frames == ["shot010_0001.png", "shot010_0002.png"]
    for name in frames:
        assert (output / job["job_id"] / "frames" / name).stat().st_size > 1000
    # chunk 1 from the panel overrides the preset's 4: one log folder per frame task.
    logs = sorted(p.name for p in (output / job["job_id"] / "logs").iterdir())
    assert logs == ["frames-001", "frames-002"]
    # Unsaved panel edits went into a snapshot copy; the artist's file stayed as it was.
    assert out["dirty_file_untouched"]
    snapshots = list((shot.parent / ".azrender-snapshots").glob("*/shot010.blend"))
    assert len(snapshots) == 1
    assert out["unregistered"]
