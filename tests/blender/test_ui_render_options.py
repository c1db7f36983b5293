"""The panel's engine override and Cycles device reach the job as RenderOptions (real Blender, bpy).

As in test_ui_operators.py, each scenario runs in its own interpreter. The
submit goes through the real operator and the real ``submit_scene``, made a
dry run so no storage is needed; the planned command lines are what a node runs.
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

pytestmark = [needs_bpy, pytest.mark.bpy]

DRIVER = r"""
import importlib, json, sys, time
import bpy
import addon_utils

scene_path, preset_path = sys.argv[-2:]
bpy.ops.wm.open_mainfile(filepath=scene_path)
addon_utils.enable("azrender_blender", default_set=True, handle_error=None)
props = importlib.import_module("azrender_blender.ui.props")
flows = importlib.import_module("azrender_blender.ui.flows")
runtime = importlib.import_module("azrender_blender.ui.runtime")
from azrender.errors import AzrenderError

scene = bpy.context.scene
settings = scene.azrender
out = {
    "engine_items": [i.identifier for i in settings.bl_rna.properties["engine"].enum_items],
    "device_items": [i.identifier for i in settings.bl_rna.properties["device"].enum_items],
    "defaults": [settings.engine, settings.device],
}

def engine_exists(name):
    # Engines register at run time (Cycles is an add-on): ask the scene whether it takes the id.
    try:
        scene.render.engine = name
    except TypeError:
        return False
    return scene.render.engine == name

out["engines_blender_takes"] = [e for e in out["engine_items"][1:] if engine_exists(e)]

def options():
    r = props.render_options(scene)
    return [r.renderer, r.device, r.camera, list(r.layers)]

cases = {}
scene.render.engine = "BLENDER_WORKBENCH"
cases["as_saved"] = options()
settings.engine, settings.device = "CYCLES", "OPTIX"
cases["cycles_optix"] = options()
settings.engine = "BLENDER_WORKBENCH"
cases["workbench_keeps_no_device"] = options()
settings.engine, settings.device = "SCENE", "CPU"
scene.render.engine = "CYCLES"
cases["scene_cycles_cpu"] = options()
scene.render.engine = props.EEVEE_ID
cases["scene_eevee_no_device"] = options()
settings.engine = props.EEVEE_ID
cases["eevee"] = options()
out["cases"] = cases

# Submit through the operator; the real submit_scene plans the job as a dry run, then the flow stops.
planned = []
real_submit = flows.submit_scene
def dry_submit(*args, **kwargs):
    kwargs["dry_run"] = True
    result = real_submit(*args, **kwargs)
    planned.append([t.command_line for t in result.job.tasks])
    raise AzrenderError("stopped after the dry run")
flows.submit_scene = dry_submit
bpy.context.preferences.addons["azrender_blender"].preferences.preset_path = str(__import__("os").path.dirname(preset_path))
settings.preset = preset_path
settings.use_scene_frames, settings.frames, settings.chunk, settings.backend = False, "1-2", 2, "local"
settings.engine, settings.device = "CYCLES", "OPTIX"
out["submit"] = sorted(bpy.ops.azrender.submit())
deadline = time.monotonic() + 300
while runtime.WORK.busy() and time.monotonic() < deadline:
    runtime.poll()
    time.sleep(0.1)
runtime.poll()
out["planned"] = planned
out["job_error"] = settings.jobs[0].error
addon_utils.disable("azrender_blender", default_set=True, handle_error=None)
print("AZR-RESULT " + json.dumps(out))
"""


@pytest.fixture
def result(demo_scene_dir: Path, tmp_path: Path) -> dict[str, Any]:
    shot = tmp_path / "shot010"
    shutil.copytree(demo_scene_dir, shot)
    presets = tmp_path / "shows"
    presets.mkdir()
    preset = presets / "ui.toml"
    preset.write_text('name = "ui"\n[backend]\nkind = "local"\n[render]\nchunk = 4\nformat = "PNG"\n')
    env = {**os.environ, "AZRENDER_DATA_DIR": str(tmp_path / "data"),
           "AZRENDER_CACHE_DIR": str(tmp_path / "cache"), "PYTHONWARNINGS": "ignore"}
    env.pop("AZRENDER_PRESET_PATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(shot / "shot010.blend"), str(preset)],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert line is not None, proc.stdout[-4000:] + proc.stderr[-4000:]
    return dict(json.loads(line[len("AZR-RESULT ") :]))


def test_engine_and_device_choices(result: dict[str, Any]) -> None:
    # Every engine the panel offers is one this Blender has (EEVEE's id changed between versions).
    offered = result["engine_items"]
    assert offered[0] == "SCENE" and result["engines_blender_takes"] == offered[1:]
    assert {"CYCLES", "BLENDER_WORKBENCH"} <= set(offered) and len(offered) == 4
    assert result["device_items"] == ["SCENE", "CPU", "CUDA", "OPTIX", "HIP", "ONEAPI", "METAL"]
    assert result["defaults"] == ["SCENE", "SCENE"]
    eevee = next(e for e in offered if "EEVEE" in e)
    assert result["cases"] == {
        "as_saved": [None, None, None, []],
        "cycles_optix": ["CYCLES", "OPTIX", None, []],
        "workbench_keeps_no_device": ["BLENDER_WORKBENCH", None, None, []],
        "scene_cycles_cpu": [None, "CPU", None, []],
        "scene_eevee_no_device": [None, None, None, []],
        "eevee": [eevee, None, None, []],
    }


def test_submit_operator_plans_the_engine_and_device(result: dict[str, Any]) -> None:
    assert result["submit"] == ["FINISHED"]
    assert result["job_error"] == "stopped after the dry run"
    assert len(result["planned"]) == 1
    (line,) = result["planned"][0]  # frames 1-2 in one task (the panel's chunk 2)
    assert " -E CYCLES " in line and "-- --cycles-device OPTIX" in line
    assert " -s 1 -e 2 -a" in line
