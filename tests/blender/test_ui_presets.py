"""The panel's preset choice in real Blender: kept by path, never by position.

A dynamic ``EnumProperty`` stores the chosen item's *number* in the scene. If
the panel kept that, a TD adding ``b.toml`` beside ``a.toml`` and ``c.toml``
would silently move every artist who chose ``c`` to another show, in the
running session and in every saved .blend. These tests add a preset between
two choices, save and reopen the file, and remove the chosen preset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from blender_helpers import needs_bpy

pytestmark = [needs_bpy, pytest.mark.bpy]

DRIVER = r"""
import importlib, json, os, sys
import bpy, addon_utils

preset_dir, saved = sys.argv[-2:]
addon_utils.enable("azrender_blender", default_set=True, handle_error=None)
ops = importlib.import_module("azrender_blender.ui.operators")
bpy.context.preferences.addons["azrender_blender"].preferences.preset_path = preset_dir
settings = bpy.context.scene.azrender

def state():
    try:
        chosen = str(ops.chosen_preset(settings)[0])
    except Exception as exc:
        chosen = "ERROR " + str(exc)
    return {"shown": settings.preset, "file": settings.preset_file, "submits_with": chosen}

def write(name):
    with open(os.path.join(preset_dir, name), "w") as f:
        f.write('name = "%s"\n[backend]\nkind = "local"\n' % name[:-5])

out = {"fresh": state()}
write("a.toml"); write("c.toml")
out["before_choice"] = state()
settings.preset = os.path.join(preset_dir, "c.toml")
out["chose_c"] = state()
write("b.toml")  # sorts before c: c's position in the list changes
out["after_b_added"] = state()
bpy.ops.wm.save_as_mainfile(filepath=saved)
bpy.ops.wm.open_mainfile(filepath=saved)
settings = bpy.context.scene.azrender
out["reopened"] = state()
os.remove(os.path.join(preset_dir, "c.toml"))
out["after_c_removed"] = state()
print("AZR-RESULT " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The driver's states, run once: (preset folder, states by step)."""
    tmp_path = tmp_path_factory.mktemp("ui-presets")
    presets = tmp_path / "shows"
    presets.mkdir()
    env = {**os.environ, "AZRENDER_DATA_DIR": str(tmp_path / "data"), "PYTHONWARNINGS": "ignore"}
    env.pop("AZRENDER_PRESET_PATH", None)
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(presets), str(tmp_path / "shot.blend")],
        capture_output=True, text=True, timeout=300, check=False, env=env,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("AZR-RESULT ")), None)
    assert proc.returncode == 0 and line is not None, proc.stdout[-4000:] + proc.stderr[-4000:]
    return presets, dict(json.loads(line[len("AZR-RESULT "):]))


def test_adding_a_preset_never_changes_the_chosen_show(
    driven: tuple[Path, dict[str, Any]],
) -> None:
    presets, out = driven
    c = str(presets / "c.toml")
    assert out["fresh"]["shown"] == "NONE"
    assert out["fresh"]["submits_with"].startswith("ERROR no preset is chosen")
    # Presets appearing do not pick one for the artist either.
    assert out["before_choice"]["file"] == ""
    assert out["chose_c"] == {"shown": c, "file": c, "submits_with": c}
    assert out["after_b_added"] == {"shown": c, "file": c, "submits_with": c}
    assert out["reopened"] == {"shown": c, "file": c, "submits_with": c}


def test_a_vanished_preset_is_an_error_not_a_switch(driven: tuple[Path, dict[str, Any]]) -> None:
    presets, out = driven
    gone = out["after_c_removed"]
    c = str(presets / "c.toml")
    assert gone["shown"] == "MISSING"
    assert gone["file"] == c
    assert gone["submits_with"].startswith(f"ERROR the chosen preset {c} is no longer")
